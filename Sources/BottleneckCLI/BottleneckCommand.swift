import ArgumentParser

@main
struct BottleneckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bottleneck",
        abstract: "Transfer learning on bottleneck features of a frozen ImageNet CNN.",
        version: BottleneckCommand.version,
        subcommands: [
            BackboneCommand.self, FeaturesCommand.self, ClassifyCommand.self, BenchCommand.self,
            InspectCommand.self,
            DatasetsCommand.self, ExtractCommand.self, TrainCommand.self, EvaluateCommand.self, RunCommand.self,
            VectorsCommand.self, ExportCommand.self, PredictCommand.self, PackageLambdaCommand.self,
            BenchImagesCommand.self,
        ])

    /// The tool's version: `bottleneck --version`, and `bottleneck.tool_version` in exported models.
    static let version = "0.6.0"
}
