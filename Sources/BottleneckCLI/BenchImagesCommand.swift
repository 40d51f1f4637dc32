import ArgumentParser
import BottleneckImages
import Dispatch
import Foundation

/// Times decoding + preprocessing (no backbone), printing a line in the same format as
/// scripts/pillow_preprocess_bench.py so the two can be compared side by side.
struct BenchImagesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-images",
        abstract: "Median images/s of decoding + preprocessing a folder of JPEG/PNG files (read into memory first).")

    @Option(name: .long, help: "Folder of .jpg/.jpeg/.png files (e.g. made by scripts/make_bench_jpegs.py).")
    var images: String

    @Option(name: .long, help: "Worker threads, each decoding and preprocessing whole images.")
    var threads: Int = 1

    @Option(name: .long, help: "Timed rounds over all images (after one untimed warm-up round).")
    var rounds: Int = 5

    func validate() throws {
        if threads < 1 { throw ValidationError("--threads must be at least 1.") }
        if rounds < 1 { throw ValidationError("--rounds must be at least 1.") }
    }

    func run() throws {
        let directory = URL(fileURLWithPath: images)
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { ["jpg", "jpeg", "png"].contains(($0 as NSString).pathExtension.lowercased()) }
            .sorted()
        guard !names.isEmpty else { throw ValidationError("no .jpg/.jpeg/.png files in \(images)") }
        let files = try names.map { try [UInt8](Data(contentsOf: directory.appendingPathComponent($0))) }

        let preprocessor = Preprocessor(spec: .efficientNetLite0)
        let decoder = ImageDecoder()
        let bench = ImagesBench(files: files, names: names, preprocessor: preprocessor, decoder: decoder,
                                threads: threads)
        try bench.round()  // warm-up: page in the code, fill the weight cache
        var rates: [Double] = []
        for _ in 0..<rounds {
            let start = DispatchTime.now().uptimeNanoseconds
            try bench.round()
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            rates.append(Double(files.count) / seconds)
        }
        let median = rates.sorted()[rates.count / 2]
        print(String(format: "bottleneck-preprocess threads=%d images=%d median %.1f img/s  (%d rounds, min %.1f"
                     + " max %.1f)", threads, files.count, median, rounds, rates.min()!, rates.max()!))
    }
}

/// One round: every file decoded (as the extraction pipeline does, JPEGs DCT-scaled when that still covers the
/// resize target) and preprocessed into a per-thread buffer; threads take every `threads`-th file.
private final class ImagesBench: Sendable {
    let files: [[UInt8]]
    let names: [String]
    let preprocessor: Preprocessor
    let decoder: ImageDecoder
    let threads: Int

    init(files: [[UInt8]], names: [String], preprocessor: Preprocessor, decoder: ImageDecoder, threads: Int) {
        self.files = files
        self.names = names
        self.preprocessor = preprocessor
        self.decoder = decoder
        self.threads = threads
    }

    func round() throws {
        let failures = FailureBox()
        DispatchQueue.concurrentPerform(iterations: threads) { worker in
            let output = UnsafeMutablePointer<Float>.allocate(capacity: preprocessor.valuesPerImage)
            defer { output.deallocate() }
            for index in stride(from: worker, to: files.count, by: threads) {
                do {
                    let image = try decoder.decode(files[index], source: names[index],
                                                   minimumShorterSide: preprocessor.spec.resizeShorterSide)
                    preprocessor.prepare(image, into: output)
                } catch {
                    failures.record(error)
                }
            }
        }
        if let error = failures.first { throw error }
    }
}

/// The first error of any worker.
private final class FailureBox: @unchecked Sendable {
    private let lock = NSLock()
    private var error: (any Error)?
    func record(_ error: any Error) { lock.withLock { if self.error == nil { self.error = error } } }
    var first: (any Error)? { lock.withLock { error } }
}
