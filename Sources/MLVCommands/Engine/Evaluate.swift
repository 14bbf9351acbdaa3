import ArgumentParser
import MLVEngine
import Foundation
import MLVSupport

extension ImageFolder.Split: ExpressibleByArgument {}

struct Evaluate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Evaluate a trained model on an image folder: accuracy, precision/recall/F1, confusion matrix.")

    @Option(help: "The model.safetensors written by `mlv train`.")
    var model: String

    @Option(help: "The image folder (the same layout as for training).")
    var data: String

    @Option(help: "Which split to evaluate: train, val or test.")
    var split: ImageFolder.Split = .test

    @Option(help: "Also write the metrics as JSON to this file.")
    var out: String?

    @Option(help: "Also write each image's true and predicted class as CSV (path,actual,predicted) to this file: what a confusion plot reads.")
    var predictions: String?

    @OptionGroup var engine: EngineOptions

    func run() throws {
        try EngineRuntime.pinKernels()
        let evaluation = try Evaluator.evaluate(model: model, data: data, split: split, threads: engine.threadCount)
        print(evaluation.table, terminator: "")
        print(String(format: "\ninference: %d images in %.3f s (%.1f img/s, forward passes only)",
                     evaluation.count, evaluation.forwardSeconds, Double(evaluation.count) / max(evaluation.forwardSeconds, 1e-9)))
        if let out {
            try AtomicFile.write(evaluation.json, to: out)
        }
        if let predictions {
            try AtomicFile.write(evaluation.predictionsCSV, to: predictions)
        }
    }
}
