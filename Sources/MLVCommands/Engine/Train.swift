import ArgumentParser
import Foundation
import MLVEngine
import MLVSupport

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train the conv net on an image folder and write model.safetensors, metrics.json and history.csv.",
        discussion: """
        Params come from the `train:` section of --params; --set key=value overrides one key \
        (the value in YAML syntax, e.g. --set conv_filters=[16,32]). The data is DIR/<class>/*.png \
        (split by seed) or DIR/{train,val,test}/<class>/*.png.
        """)

    @Option(help: "The params file with a `train:` section.")
    var params = "params.yaml"

    @Option(help: "The image folder.")
    var data: String

    @Option(help: "The folder for model.safetensors, metrics.json and history.csv.")
    var out: String

    @Option(name: .customLong("set"), help: ArgumentHelp("Override one train: param.", valueName: "key=value"))
    var overrides: [String] = []

    @OptionGroup var engine: EngineOptions

    func run() throws {
        try EngineRuntime.pinKernels()
        if let warning = EngineRuntime.uncheckedBlasWarning { Terminal.writeError("mlv: warning: \(warning)\n") }
        let p = try TrainParams.load(path: params, overrides: overrides)
        var progress = ProgressLine()
        let epochs = p.numEpochs
        let result = try Trainer.run(params: p, data: data, out: out, threads: engine.threadCount,
                                     profile: Environment.get("MLV_ENGINE_PROFILE") != nil) { event in
            switch event {
            case let .loaded(train, val, classes, seconds):
                print("data: \(train) training and \(val) validation images, \(classes.count) classes (\(classes.joined(separator: ", "))), decoded in \(String(format: "%.1f", seconds)) s")
                print("threads: \(engine.threadCount) (the result is the same for any count), OpenBLAS \(EngineRuntime.blasVersion) kernels: \(EngineRuntime.kernelName)")
            case let .progress(epoch, done, total):
                progress.draw("epoch \(epoch)/\(epochs)", done: done, total: total)
            case let .epoch(r):
                Terminal.clearProgressLine()
                print(String(format: "epoch %\(String(epochs).count)d/%d  train loss %.4f acc %.4f  val loss %.4f acc %.4f  %.1f img/s  %.1f s%@",
                             r.epoch, epochs, r.trainLoss, r.trainAccuracy, r.valLoss, r.valAccuracy,
                             r.imagesPerSecond, r.seconds, r.isBest ? "  *" : ""))
                fflush(stdout)
            }
        }
        if let profile = result.profile { Terminal.writeError(profile) }
        let best = result.history.first { $0.epoch == result.bestEpoch }!
        print(String(format: "best epoch %d: val loss %.4f acc %.4f%@; %.1f s in all; wrote %@",
                     result.bestEpoch, best.valLoss, best.valAccuracy,
                     result.stoppedEarly ? " (stopped early)" : "", result.seconds,
                     "\(out)/model.safetensors, metrics.json, history.csv"))
    }
}
