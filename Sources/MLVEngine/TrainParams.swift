/// The `train:` section of params.yaml, with the defaults of the seed architecture.
package struct TrainParams: Equatable, Sendable {
    package var imageSize = 128
    package var inputChannels = 3
    package var convFilters = [16, 64, 128, 128]
    package var fcSizes = [128, 64]
    package var dropoutRates: [Double] = [0.25, 0.25, 0.3, 0.4]
    package var learningRate = 0.001
    /// L2 regularisation added to the gradient (as torch.optim.Adam), not decoupled (AdamW).
    package var weightDecay = 0.0
    package var batchSize = 32
    package var numEpochs = 10
    /// Epochs without a lower validation loss before training stops; 0 never stops early.
    package var earlyStoppingPatience = 5
    package var randomSeed = 42

    package init() {}

    /// Upper bounds that keep a run's buffers within reason.
    package static let maxImageSize = 1024
    package static let maxWidth = 4096
    package static let maxBatchSize = 1024

    /// Every key, in the order params.yaml documents them and the checkpoint records them.
    package static let keys = ["image_size", "input_channels", "conv_filters", "fc_sizes", "dropout_rates",
                              "learning_rate", "weight_decay", "batch_size", "num_epochs",
                              "early_stopping_patience", "random_seed"]

    /// The network these params describe, for a dataset of `classCount` classes.
    package func architecture(classCount: Int) -> Architecture {
        Architecture(imageSize: imageSize, inputChannels: inputChannels, convFilters: convFilters,
                     fcSizes: fcSizes, dropoutRates: dropoutRates.map { Float($0) }, classCount: classCount)
    }

    /// The checks that involve more than one key. Single values were checked while parsing.
    package func validate(source: String) throws {
        if dropoutRates.count != convFilters.count {
            throw EngineError("\(source): train.dropout_rates has \(dropoutRates.count) value\(dropoutRates.count == 1 ? "" : "s") but conv_filters has \(convFilters.count) conv block\(convFilters.count == 1 ? "" : "s")",
                              hint: "give one dropout rate per conv block")
        }
        var sizes = [imageSize]
        for _ in convFilters { sizes.append(sizes.last! / 2) }
        if sizes.last! < 1 {
            let chain = sizes.map(String.init).joined(separator: " → ")
            var minimum = 1
            for _ in convFilters { minimum *= 2 }
            throw EngineError("\(source): train.image_size \(imageSize) is pooled below 1 pixel by \(convFilters.count) conv blocks (\(chain))",
                              hint: "use an image_size of at least \(minimum), or fewer conv_filters")
        }
    }

    /// The values as one JSON object, keys in `keys` order, for the checkpoint's metadata.
    package var asJSON: String {
        func list<T>(_ a: [T]) -> String { "[" + a.map { "\($0)" }.joined(separator: ", ") + "]" }
        let values: [String] = [
            "\(imageSize)", "\(inputChannels)", list(convFilters), list(fcSizes), list(dropoutRates),
            "\(learningRate)", "\(weightDecay)", "\(batchSize)", "\(numEpochs)",
            "\(earlyStoppingPatience)", "\(randomSeed)",
        ]
        return "{" + zip(Self.keys, values).map { "\"\($0)\": \($1)" }.joined(separator: ", ") + "}"
    }
}
