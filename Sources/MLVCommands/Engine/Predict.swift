import ArgumentParser
import Foundation
import MLVEngine

struct Predict: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Classify PNG images with a trained model.")

    @Option(help: "The model.safetensors written by `mlv train`.")
    var model: String

    @Argument(help: "PNG files, or folders of them (searched recursively).")
    var images: [String]

    @Flag(help: "Print JSON: per image the file, class, probabilities and logits.")
    var json = false

    @OptionGroup var engine: EngineOptions

    func validate() throws {
        if images.isEmpty { throw ValidationError("name at least one image or folder") }
    }

    func run() throws {
        try EngineRuntime.pinKernels()
        let (classes, predictions) = try Inference.predict(model: model, paths: images, threads: engine.threadCount)
        if json {
            let items = predictions.map { p -> [String: Any] in
                ["file": p.file, "class": classes[p.classIndex],
                 "probabilities": Dictionary(uniqueKeysWithValues: zip(classes, p.probabilities.map(Double.init))),
                 "logits": p.logits.map(Double.init)]
            }
            try Console.json(items)
            return
        }
        let width = predictions.map(\.file.count).max() ?? 0
        for p in predictions {
            let ranked = p.probabilities.indices.sorted { p.probabilities[$0] > p.probabilities[$1] }
            let others = ranked.prefix(3).map { "\(classes[$0]) \(String(format: "%.4f", p.probabilities[$0]))" }
            print(p.file.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + classes[p.classIndex] + "  (" + others.joined(separator: ", ") + ")")
        }
    }
}
