import MLVSupport
import Yams

extension TrainParams {
    /// Reads the `train:` section of `path`, then applies `overrides` ("key=value", the value in
    /// YAML syntax) in order, and validates the result. Errors name the file, line and column.
    package static func load(path: String, overrides: [String] = []) throws -> TrainParams {
        let text = String(decoding: try EngineFile.read(path, what: "params", limit: EngineFile.maxParamsBytes,
                                                        hint: "pass a params.yaml with a `train:` section"), as: UTF8.self)
        let root: YAMLNode?
        do {
            root = try YAMLNode.parse(text, file: path)
        } catch let error as YAMLError {
            var problem = error.problem
            if problem.hasPrefix("invalid YAML: ") { problem.removeFirst("invalid YAML: ".count) }
            throw EngineError("\(path): not valid YAML: \(error.line):\(error.column): \(problem.split(separator: "\n").first ?? "")")
        }
        guard let mapping = try? root?.mapping("params"), let section = mapping.first(where: { $0.key == "train" })?.value else {
            throw EngineError("\(path): no `train:` section", hint: "put the engine's params under a top-level `train:` key")
        }
        guard let trainMapping = try? section.mapping("train") else {
            throw EngineError("\(path)\(at(section)): train: expected a mapping of params")
        }
        var params = TrainParams()
        for entry in trainMapping {
            try params.set(entry.key, entry.value.node, source: "\(path)\(at(entry.keyNode))")
        }
        for item in overrides {
            guard let eq = item.firstIndex(of: "="), eq != item.startIndex else {
                throw EngineError("--set \(item): expected key=value", hint: "e.g. --set learning_rate=0.01")
            }
            let key = String(item[..<eq]), valueText = String(item[item.index(after: eq)...])
            let value = (try? YAMLNode.parse(valueText, file: "--set \(key)")) ?? nil
            try params.set(key, value?.node ?? Node(valueText), source: "--set \(key)")
        }
        try params.validate(source: path)
        return params
    }

    /// ":line:column" of a node.
    static func at(_ node: YAMLNode) -> String { ":\(node.line):\(node.column)" }

    mutating func set(_ key: String, _ node: Node, source: String) throws {
        func fail(_ expected: String) -> EngineError {
            let got: String
            if let scalar = node.scalar {
                let quoted = scalar.style == .singleQuoted || scalar.style == .doubleQuoted
                got = quoted ? "the string \"\(scalar.string)\"" : scalar.string
            } else {
                got = node.sequence != nil ? "a list" : "a mapping"
            }
            return EngineError("\(source): train.\(key): expected \(expected), got \(got)")
        }
        func integer(min: Int, max: Int = Int.max) throws -> Int {
            let expected = max < Int.max ? "an integer from \(min) to \(max)" : min > 0 ? "a positive integer" : "an integer ≥ \(min)"
            guard node.scalar?.style == .plain || node.scalar?.style == .any, let v = node.int, v >= min, v <= max else {
                throw fail(expected)
            }
            return v
        }
        func number(positive: Bool) throws -> Double {
            guard node.scalar?.style == .plain || node.scalar?.style == .any, let v = node.float, v.isFinite,
                  positive ? v > 0 : v >= 0 else {
                throw fail(positive ? "a positive number" : "a number ≥ 0")
            }
            return v
        }
        func integers() throws -> [Int] {
            let expected = "a list of integers from 1 to \(Self.maxWidth)"
            guard let seq = node.sequence else { throw fail(expected) }
            return try seq.map { item in
                guard let v = item.int, v > 0, v <= Self.maxWidth else { throw fail(expected) }
                return v
            }
        }
        switch key {
        case "image_size": imageSize = try integer(min: 1, max: Self.maxImageSize)
        case "input_channels":
            let c = try integer(min: 1)
            guard c == 1 || c == 3 else { throw fail("1 (gray) or 3 (RGB)") }
            inputChannels = c
        case "conv_filters":
            convFilters = try integers()
            if convFilters.isEmpty { throw fail("at least one conv block") }
        case "fc_sizes": fcSizes = try integers()
        case "dropout_rates":
            guard let seq = node.sequence else { throw fail("a list of rates in [0, 1)") }
            dropoutRates = try seq.map { item in
                guard let v = item.float, v >= 0, v < 1 else { throw fail("a list of rates in [0, 1)") }
                return v
            }
        case "learning_rate": learningRate = try number(positive: true)
        case "weight_decay": weightDecay = try number(positive: false)
        case "batch_size": batchSize = try integer(min: 1, max: Self.maxBatchSize)
        case "num_epochs": numEpochs = try integer(min: 1)
        case "early_stopping_patience": earlyStoppingPatience = try integer(min: 0)
        case "random_seed": randomSeed = try integer(min: 0)
        default:
            var hint = "known keys: " + Self.keys.joined(separator: ", ")
            if let near = Suggestion.closest(to: key, in: Self.keys) { hint = "did you mean `\(near)`?" }
            throw EngineError("\(source): unknown key train.\(key)", hint: hint)
        }
    }
}
