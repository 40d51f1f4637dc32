import Foundation
import Synchronization

/// A fixed set of threads that help run the parts of one parallel step.
///
/// `DispatchQueue.concurrentPerform` costs tens of microseconds per call here, and a single image runs about
/// 50 steps, so the hand-off must be cheap. Parts are claimed, not assigned: the calling thread and the workers
/// take the next unclaimed part from one atomic word until none is left, so a worker that the OS has not
/// scheduled (a busy machine) never holds up a step - the caller simply runs its parts too. Idle workers spin
/// for `spinNanoseconds` (steps arrive back to back during a run), then sleep, so an idle session costs no CPU.
final class WorkerPool: @unchecked Sendable {
    /// Workers besides the calling thread.
    let workerCount: Int

    private static let spinNanoseconds: UInt64 = 200_000

    /// `generation << 32 | parts << 16 | nextPart`: the step being run and how far its claiming has got.
    private let claims = Atomic<UInt64>(0)
    /// Parts of the current step that have finished.
    private let finished = Atomic<Int>(0)
    private let condition = NSCondition()
    /// Written by `run` before the claims word is published; stable until every part of the step finished.
    private var body: (@Sendable (Int) -> Void)?
    private var stopping = false

    init(workerCount: Int) {
        precondition(workerCount >= 0)
        self.workerCount = workerCount
        for index in 0..<workerCount {
            let thread = Thread { [self] in workerLoop() }
            thread.name = "bottleneck-worker-\(index + 1)"
            thread.start()
        }
    }

    /// Runs `body(0)` ... `body(parts - 1)`, spread over the calling thread and the workers, and returns when all
    /// are done. Not reentrant: one `run` at a time.
    func run(parts: Int, _ body: @escaping @Sendable (Int) -> Void) {
        precondition(parts >= 1 && parts < 1 << 16, "parts must be in 1..<65536")
        if parts == 1 || workerCount == 0 {
            for part in 0..<parts { body(part) }
            return
        }
        self.body = body
        finished.store(0, ordering: .relaxed)
        let generation = (claims.load(ordering: .relaxed) >> 32) &+ 1
        claims.store(generation << 32 | UInt64(parts) << 16, ordering: .releasing)
        condition.lock()
        condition.broadcast()
        condition.unlock()
        runClaimedParts()
        var polls = 0
        while finished.load(ordering: .acquiring) < parts {
            polls += 1
            if polls & 1023 == 0 { sched_yield() }  // a descheduled worker holds a part: let it run
        }
    }

    /// Stops the workers; the pool cannot be used afterwards.
    func shutdown() {
        condition.lock()
        stopping = true
        condition.broadcast()
        condition.unlock()
    }

    /// Claims and runs parts of the current step until none is left.
    private func runClaimedParts() {
        while true {
            var word = claims.load(ordering: .acquiring)
            while true {
                let (parts, next) = ((word >> 16) & 0xFFFF, word & 0xFFFF)
                guard next < parts else { return }
                let (exchanged, current) = claims.compareExchange(
                    expected: word, desired: word + 1, ordering: .acquiringAndReleasing)
                if exchanged { break }
                word = current
            }
            body!(Int(word & 0xFFFF))
            finished.add(1, ordering: .releasing)
        }
    }

    private var hasUnclaimedParts: Bool {
        let word = claims.load(ordering: .acquiring)
        return word & 0xFFFF < (word >> 16) & 0xFFFF
    }

    private func workerLoop() {
        while true {
            let deadline = DispatchTime.now().uptimeNanoseconds + Self.spinNanoseconds
            var polls = 0
            while !hasUnclaimedParts {
                polls += 1
                if polls & 255 == 0, DispatchTime.now().uptimeNanoseconds > deadline { break }
            }
            if !hasUnclaimedParts {
                condition.lock()
                while !hasUnclaimedParts && !stopping { condition.wait() }
                let stop = stopping
                condition.unlock()
                if stop { return }
            }
            runClaimedParts()
        }
    }
}
