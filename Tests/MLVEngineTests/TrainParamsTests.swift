import MLVTestSupport
import Testing
@testable import MLVEngine

@Suite struct TrainParamsTests {
    func load(_ yaml: String, overrides: [String] = []) throws -> TrainParams {
        try withTemporaryDirectory { dir in
            try dir.gen(["params.yaml": yaml])
            return try TrainParams.load(path: dir.url("params.yaml"), overrides: overrides)
        }
    }

    /// The error message of loading `yaml`, with the temporary directory cut off.
    func error(_ yaml: String, overrides: [String] = []) -> EngineError? {
        do {
            _ = try load(yaml, overrides: overrides)
            return nil
        } catch let e as EngineError {
            var e = e
            if let r = e.message.range(of: "params.yaml") { e.message = String(e.message[r.lowerBound...]) }
            return e
        } catch {
            return EngineError("unexpected \(error)")
        }
    }

    @Test func defaultsAreTheSeedArchitecture() throws {
        let p = try load("train:\n  image_size: 64\n  learning_rate: 1e-3\n")
        #expect(p.imageSize == 64)
        #expect(p.learningRate == 0.001)
        #expect(p.convFilters == [16, 64, 128, 128])
        #expect(p.fcSizes == [128, 64])
        #expect(p.dropoutRates == [0.25, 0.25, 0.3, 0.4])
        #expect(p.batchSize == 32 && p.randomSeed == 42)
    }

    @Test func overridesReplaceSingleKeys() throws {
        let p = try load("train:\n  image_size: 28\n  input_channels: 1\n  conv_filters: [16, 64]\n  dropout_rates: [0.25, 0.25]\n",
                         overrides: ["num_epochs=3", "fc_sizes=[32]", "learning_rate=0.01"])
        #expect(p.numEpochs == 3 && p.fcSizes == [32] && p.learningRate == 0.01)
        #expect(p.architecture(classCount: 10).flatFeatures == 64 * 7 * 7)
    }

    @Test func wrongTypesNameTheKeyAndPlace() {
        #expect(error("train:\n  batch_size: abc\n")?.message == "params.yaml:2:3: train.batch_size: expected an integer from 1 to 1024, got abc")
        #expect(error("train:\n  batch_size: \"32\"\n")?.message == "params.yaml:2:3: train.batch_size: expected an integer from 1 to 1024, got the string \"32\"")
        #expect(error("train:\n  learning_rate: fast\n")?.message == "params.yaml:2:3: train.learning_rate: expected a positive number, got fast")
        #expect(error("train:\n  conv_filters: 16\n")?.message == "params.yaml:2:3: train.conv_filters: expected a list of integers from 1 to 4096, got 16")
    }

    @Test func negativeAndZeroSizesAreRejected() {
        #expect(error("train:\n  image_size: -8\n")?.message == "params.yaml:2:3: train.image_size: expected an integer from 1 to 1024, got -8")
        #expect(error("train:\n  fc_sizes: [128, 0]\n")?.message == "params.yaml:2:3: train.fc_sizes: expected a list of integers from 1 to 4096, got a list")
        #expect(error("train:\n  batch_size: 100000\n")?.message == "params.yaml:2:3: train.batch_size: expected an integer from 1 to 1024, got 100000")
        #expect(error("train:\n  weight_decay: -1\n")?.message == "params.yaml:2:3: train.weight_decay: expected a number ≥ 0, got -1")
        #expect(error("train:\n  dropout_rates: [0.5, 1.0, 0.2, 0.1]\n")?.message == "params.yaml:2:3: train.dropout_rates: expected a list of rates in [0, 1), got a list")
    }

    @Test func dropoutCountMustMatchConvBlocks() {
        let e = error("train:\n  conv_filters: [8, 16]\n")
        #expect(e?.message == "params.yaml: train.dropout_rates has 4 values but conv_filters has 2 conv blocks")
        #expect(e?.hint == "give one dropout rate per conv block")
    }

    @Test func imageSizeMustSurviveThePooling() {
        let e = error("train:\n  image_size: 8\n")
        #expect(e?.message == "params.yaml: train.image_size 8 is pooled below 1 pixel by 4 conv blocks (8 → 4 → 2 → 1 → 0)")
        #expect(e?.hint == "use an image_size of at least 16, or fewer conv_filters")
    }

    @Test func unknownKeysGetASuggestion() {
        let e = error("train:\n  learning_rat: 0.1\n")
        #expect(e?.message == "params.yaml:2:3: unknown key train.learning_rat")
        #expect(e?.hint == "did you mean `learning_rate`?")
        #expect(error("train:\n  colour: red\n")?.hint?.hasPrefix("known keys: image_size, input_channels") == true)
        #expect(error("train: {}\n", overrides: ["epochs=3"])?.hint == "did you mean `num_epochs`?")
    }

    @Test func missingSectionAndBadYAML() {
        #expect(error("prepare:\n  split: 0.2\n")?.message == "params.yaml: no `train:` section")
        #expect(error("train:\n  image_size: [1,\n")?.message.hasPrefix("params.yaml: not valid YAML") == true)
        // Read through YAMLNode like every other file: the place of the problem, and duplicates refused.
        #expect(error("train:\n  image_size: [1,\n")?.message == "params.yaml: not valid YAML: 3:1: while parsing a flow node did not find expected node content")
        #expect(error("train:\n  image_size: 8\n  image_size: 9\n")?.message == "params.yaml: not valid YAML: 2:3: duplicate key 'image_size'")
    }
}
