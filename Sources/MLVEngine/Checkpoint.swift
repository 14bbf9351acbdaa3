import Foundation
import MLVSupport

/// A trained model: weights in `Architecture.parameterShapes` order, and what is needed to feed
/// it images (size, channels, normalisation) and to name its outputs (class names). Stored as
/// model.safetensors with everything but the weights in the header's `__metadata__`.
package struct Checkpoint: Equatable, Sendable {
    package var architecture: Architecture
    package var classNames: [String]
    package var normalization: Normalization
    /// The training params as a JSON object (TrainParams.asJSON), kept for the record.
    package var paramsJSON: String
    package var weights: [Float]
    /// How the weights were computed (`EngineRuntime.provenance` at training time), as recorded.
    package var engine: [(String, String)] = []

    package static func == (a: Checkpoint, b: Checkpoint) -> Bool {
        a.architecture == b.architecture && a.classNames == b.classNames && a.normalization == b.normalization
            && a.paramsJSON == b.paramsJSON && a.weights == b.weights
            && a.engine.map { [$0.0, $0.1] } == b.engine.map { [$0.0, $0.1] }
    }

    /// The `__metadata__` map. Every value is a string, as the format requires; the structured
    /// ones are JSON texts.
    var metadata: [String: String] {
        let a = architecture
        return [
            "format": "pt",
            "mlv.architecture": JSONText.object([
                ("conv_filters", JSONText.array(a.convFilters.map(String.init))),
                ("fc_sizes", JSONText.array(a.fcSizes.map(String.init))),
                ("dropout_rates", JSONText.array(a.dropoutRates.map { JSONText.number($0) })),
                ("num_classes", String(a.classCount)),
                ("block", JSONText.string("conv3x3(pad 1) -> relu -> maxpool2x2 -> dropout")),
            ]),
            "mlv.image_size": String(a.imageSize),
            "mlv.input_channels": String(a.inputChannels),
            "mlv.class_names": JSONText.array(classNames.map(JSONText.string)),
            "mlv.normalization": JSONText.object([
                ("mean", JSONText.array(normalization.mean.map { JSONText.number($0) })),
                ("std", JSONText.array(normalization.std.map { JSONText.number($0) })),
            ]),
            "mlv.params": paramsJSON,
            "mlv.engine": JSONText.object(engine.map { ($0.0, JSONText.string($0.1)) }),
        ]
    }

    package func encoded() -> [UInt8] {
        var tensors: [SafeTensors.Tensor] = []
        var offset = 0
        for (name, shape) in architecture.parameterShapes {
            let n = shape.reduce(1, *)
            tensors.append(SafeTensors.Tensor(name: name, shape: shape, values: Array(weights[offset..<(offset + n)])))
            offset += n
        }
        return SafeTensors.encode(tensors, metadata: metadata)
    }

    package func write(to path: String) throws {
        try AtomicFile.write(encoded(), to: path)
    }

    package static func read(_ path: String) throws -> Checkpoint {
        guard FS.exists(path) else {
            throw EngineError("\(path): no such checkpoint", hint: "train one with `mlv train --out DIR` (it writes DIR/model.safetensors)")
        }
        return try decode(try EngineFile.read(path, what: "checkpoint", limit: EngineFile.maxModelBytes,
                                              hint: "pass the model.safetensors written by `mlv train`"), path: path)
    }

    static func decode(_ bytes: [UInt8], path: String) throws -> Checkpoint {
        let (tensors, meta) = try SafeTensors.decode(bytes, path: path)
        func bad(_ why: String) -> EngineError {
            EngineError("\(path): not an mlv checkpoint (\(why))", hint: "pass the model.safetensors written by `mlv train`")
        }
        func json(_ key: String) throws -> Any {
            guard let text = meta[key], let v = try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed]) else {
                throw bad("metadata \(key) missing or not JSON")
            }
            return v
        }
        guard let arch = try json("mlv.architecture") as? [String: Any],
              let filters = arch["conv_filters"] as? [Int], let fc = arch["fc_sizes"] as? [Int],
              let rates = arch["dropout_rates"] as? [Double], let classes = arch["num_classes"] as? Int,
              let size = try json("mlv.image_size") as? Int, let channels = try json("mlv.input_channels") as? Int,
              let names = try json("mlv.class_names") as? [String],
              let norm = try json("mlv.normalization") as? [String: Any],
              let mean = norm["mean"] as? [Double], let std = norm["std"] as? [Double] else {
            throw bad("incomplete metadata")
        }
        let architecture = Architecture(imageSize: size, inputChannels: channels, convFilters: filters, fcSizes: fc,
                                        dropoutRates: rates.map { Float($0) }, classCount: classes)
        guard classes >= 2, names.count == classes, channels == 1 || channels == 3,
              mean.count == channels, std.count == channels, (1...TrainParams.maxImageSize).contains(size),
              (filters + fc).allSatisfy({ (1...TrainParams.maxWidth).contains($0) }), !filters.isEmpty,
              architecture.finalSize >= 1, rates.count == filters.count else {
            throw bad("inconsistent metadata")
        }
        // The metadata alone can describe a network of terabytes: its weights must be in the file.
        let needed = architecture.parameterShapes.reduce(0.0) { $0 + $1.shape.reduce(4.0) { $0 * Double($1) } }
        guard needed <= Double(bytes.count) else {
            throw bad("its metadata describes \(ByteCount.text(needed)) of weights, the file holds \(ByteCount.text(bytes.count))")
        }
        var weights: [Float] = []
        weights.reserveCapacity(architecture.parameterCount)
        for (name, shape) in architecture.parameterShapes {
            guard let t = tensors[name] else { throw bad("tensor \(name) missing") }
            guard t.shape == shape else {
                throw bad("tensor \(name) has shape \(t.shape), the architecture needs \(shape)")
            }
            weights += t.values
        }
        var engine: [(String, String)] = []
        if let text = meta["mlv.engine"], let e = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] {
            engine = e.keys.sorted().compactMap { k in (e[k] as? String).map { (k, $0) } }
        }
        return Checkpoint(architecture: architecture, classNames: names,
                          normalization: Normalization(mean: mean.map { Float($0) }, std: std.map { Float($0) }),
                          paramsJSON: meta["mlv.params"] ?? "{}", weights: weights, engine: engine)
    }
}
