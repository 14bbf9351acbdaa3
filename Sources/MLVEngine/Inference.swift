import Foundation
import MLVSupport

/// The class probabilities of one image.
package struct Prediction: Sendable {
    package var file: String
    package var classIndex: Int
    package var probabilities: [Float]
    package var logits: [Float]
}

package enum Inference {
    /// Logits (count, K) and softmax probabilities (count, K) of `set` (already normalised),
    /// dropout off, in batches of up to 32.
    /// `seconds` is the wall time of the forward passes, after the buffers are allocated.
    static func run(_ checkpoint: Checkpoint, _ set: ImageSet, threads: Int) -> (logits: [Float], probs: [Float], seconds: Double) {
        let arch = checkpoint.architecture, K = arch.classCount
        let net = ConvNet(arch, maxBatch: max(1, min(32, set.count)), threads: threads, training: false)
        checkpoint.weights.withUnsafeBufferPointer { net.params.memory.update(from: $0.baseAddress!, count: $0.count) }
        var logits = [Float](repeating: 0, count: set.count * K), probs = logits
        let start = DispatchTime.now()
        net.forwardInBatches(set) { i, n, _ in
            for j in 0..<(n * K) {
                logits[i * K + j] = net.fc[net.fc.count - 1][j]
                probs[i * K + j] = net.probs[j]
            }
        }
        return (logits, probs, Trainer.elapsed(since: start))
    }

    /// Loads `items` the way the checkpoint's training data was loaded, after checking that the
    /// images and the network fit in this machine's memory (`model` names the checkpoint).
    static func load(_ items: [ImageFolder.Item], for checkpoint: Checkpoint, model: String, threads: Int) throws -> ImageSet {
        let arch = checkpoint.architecture
        try MemoryEstimate.check(MemoryEstimate.convNetBytes(arch, maxBatch: max(1, min(32, items.count)), training: false)
                                 + MemoryEstimate.imageBytes(arch, count: items.count),
                                 doing: "running \(model)", because: "its \(arch.sizeDescription), \(items.count) image\(items.count == 1 ? "" : "s")",
                                 hint: "the checkpoint's metadata asks for a network too large for this machine; pass a model written by `mlv train`")
        var set = try ImageSet.load(items, size: checkpoint.architecture.imageSize,
                                    channels: checkpoint.architecture.inputChannels, threads: threads)
        set.normalize(checkpoint.normalization)
        return set
    }

    /// Predictions for PNG files and folders (a folder stands for every .png below it, sorted).
    package static func predict(model: String, paths: [String], threads: Int) throws -> (classNames: [String], predictions: [Prediction]) {
        let checkpoint = try Checkpoint.read(model)
        var files: [String] = []
        for p in paths {
            if FS.isDirectory(p) {
                let found = try pngFilesBelow(p)
                if found.isEmpty { throw EngineError("\(p): no .png files in this folder") }
                files += found
            } else if FS.exists(p) {
                files.append(p)
            } else {
                throw EngineError("\(p): no such file")
            }
        }
        let set = try load(files.map { ImageFolder.Item(path: $0, label: 0) }, for: checkpoint, model: model, threads: threads)
        let (logits, probs, _) = run(checkpoint, set, threads: threads)
        let K = checkpoint.architecture.classCount
        let predictions = files.indices.map { i -> Prediction in
            let p = Array(probs[(i * K)..<((i + 1) * K)])
            let best = p.indices.max { p[$0] < p[$1] || (p[$0] == p[$1] && $0 > $1) }!
            return Prediction(file: files[i], classIndex: best, probabilities: p, logits: Array(logits[(i * K)..<((i + 1) * K)]))
        }
        return (checkpoint.classNames, predictions)
    }

    static func pngFilesBelow(_ dir: String) throws -> [String] {
        var out: [String] = []
        for name in try ImageFolder.visibleEntries(dir) {
            let path = Path.join(dir, name)
            if FS.isDirectory(path) { out += try pngFilesBelow(path) }
            else if name.lowercased().hasSuffix(".png") { out.append(path) }
        }
        return out
    }
}
