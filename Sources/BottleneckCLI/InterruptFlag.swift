import Dispatch
import Foundation
import Synchronization

/// Turns SIGINT and SIGTERM into a flag that long-running work polls, so it can stop cleanly and keep what it
/// has done. A second signal while stopping exits at once. Immutable after init (the sources only keep the
/// handlers alive), hence unchecked Sendable.
final class InterruptFlag: @unchecked Sendable {
    private final class State: Sendable {
        let flag = Atomic<Bool>(false)
    }

    private let state = State()
    private let sources: [any DispatchSourceSignal]

    init() {
        let state = self.state
        sources = [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                if state.flag.exchange(true, ordering: .relaxed) { exit(130) }
                FileHandle.standardError.write(Data("\nstopping: finishing the current images and saving...\n".utf8))
            }
            source.resume()
            return source
        }
    }

    var isSet: Bool { state.flag.load(ordering: .relaxed) }
}
