import ArgumentParser

@main
struct BottleneckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bottleneck",
        abstract: "Transfer learning on bottleneck features of a frozen ImageNet CNN.",
        subcommands: [
            BackboneCommand.self, FeaturesCommand.self, ClassifyCommand.self, BenchCommand.self,
            InspectCommand.self,
            DatasetsCommand.self, ExtractCommand.self, TrainCommand.self, EvaluateCommand.self, RunCommand.self,
            VectorsCommand.self,
            BenchImagesCommand.self,
        ])
}
