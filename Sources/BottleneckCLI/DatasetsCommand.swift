import ArgumentParser
import BottleneckDatasets
import Foundation

/// Data preparation: writes the embedded Fashion-MNIST data as image folders, and checks a data folder or manifest.
struct DatasetsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "datasets",
        abstract: "Prepare the default Fashion-MNIST data and check labelled image folders.",
        subcommands: [Prepare.self, Scan.self])

    struct Prepare: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a known dataset as class folders of PNG images (train/ and test/).",
            discussion: """
                fashion-mnist: Zalando's Fashion-MNIST (MIT licence) from Debian's dataset-fashion-mnist package \
                (apt-get install dataset-fashion-mnist), written as OUTPUT/{train,test}/<class>/<index>.png. \
                Repeated runs only write what is missing or different.
                """)

        @Argument(help: "The dataset: fashion-mnist.")
        var name: String

        @Option(name: .customLong("per-class"), help: "Only the first N images of each class in each split.")
        var perClass: Int?

        @Option(name: .long, help: "Output folder (default: datasets/NAME).")
        var output: String?

        @Option(name: .long, help: "Folder with the IDX files (train-images-idx3-ubyte.gz, ...).")
        var source: String = FashionMNIST.debianFolder.path

        func validate() throws {
            guard name == "fashion-mnist" else {
                throw ValidationError("unknown dataset '\(name)': the only one is fashion-mnist")
            }
            if let perClass, perClass < 1 { throw ValidationError("--per-class must be at least 1.") }
        }

        func run() throws {
            let folder = URL(fileURLWithPath: output ?? "datasets/\(name)")
            try FashionMNIST.prepare(into: folder, perClass: perClass, source: URL(fileURLWithPath: source),
                                     progress: { print($0) })
            print("Ready: \(folder.path) (check it with `bottleneck datasets scan --data \(folder.path)`)")
        }
    }

    struct Scan: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the classes, images per split and skipped files of a data folder or manifest.",
            discussion: """
                DATA is a folder laid out as DATA/<class>/**/<image> (or DATA/{train,val,test}/<class>/...), a CSV \
                manifest with path,label[,split] columns, or a JSON manifest written by --manifest. Exits with \
                status 1 when no image is usable or a class has no training image.
                """)

        @Option(name: .long, help: "Data folder, or a .csv/.json manifest.")
        var data: String

        @Option(name: .long, help: "Write the split manifest here (.json, or .csv for path,label,split,sha256).")
        var manifest: String?

        @Option(name: .long, help: "Train/validation/test percentages for images without a split folder.")
        var split: String = SplitPolicy.default.description

        @Option(name: .long, help: "List at most this many skipped files, conflicts and moves each.")
        var limit: Int = 50

        func validate() throws {
            do {
                _ = try SplitPolicy(parsing: split)
            } catch let error as DatasetError {
                throw ValidationError("--split: \(error.message)")
            }
            if limit < 0 { throw ValidationError("--limit must not be negative.") }
        }

        func run() throws {
            let options = ScanOptions(split: try SplitPolicy(parsing: split))
            let dataset = try Dataset.open(URL(fileURLWithPath: data), options: options)
            print(dataset.summary(limit: limit))
            if let manifest {
                try dataset.write(to: URL(fileURLWithPath: manifest))
                print("Wrote the split manifest to \(manifest)")
            }
            try dataset.validate()
        }
    }
}
