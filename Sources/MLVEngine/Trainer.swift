import Foundation
import MLVSupport

/// What `train` reports while it runs, for the command to print.
package enum TrainEvent: Sendable {
    /// The data is loaded: images per split and classes, and how long decoding took.
    case loaded(train: Int, val: Int, classes: [String], seconds: Double)
    /// `done` of `total` training images of `epoch` have been processed.
    case progress(epoch: Int, done: Int, total: Int)
    case epoch(EpochRecord)
}

/// One line of history.csv.
package struct EpochRecord: Sendable {
    package var epoch: Int
    package var trainLoss: Double
    package var trainAccuracy: Double
    package var valLoss: Double
    package var valAccuracy: Double
    /// Wall time of the epoch (training and validation).
    package var seconds: Double
    /// Training images per second (forward + backward + Adam).
    package var imagesPerSecond: Double
    package var isBest: Bool
}

/// What a finished run produced; `write(to:)` puts it on disk.
package struct TrainResult: Sendable {
    package var checkpoint: Checkpoint
    package var history: [EpochRecord]
    package var bestEpoch: Int
    package var stoppedEarly: Bool
    package var trainImages: Int
    package var steps: Int
    package var seconds: Double
    /// Per-layer times and cblas_sgemm alone on the conv shapes, when MLV_ENGINE_PROFILE is set.
    package var profile: String?
}

package enum Trainer {
    /// `train`, then `write(to: out)`. The output folder is checked before training and written
    /// only when training succeeded, so a failed run leaves nothing behind.
    package static func run(params: TrainParams, data: String, out: String, threads: Int, profile: Bool = false,
                           events: (TrainEvent) -> Void = { _ in }) throws -> TrainResult {
        if let st = try FS.statusFollowingLinks(out), st.kind != .directory {
            throw EngineError("\(out): exists and is not a folder", hint: "pass a folder for the outputs with --out")
        }
        let result = try train(params: params, data: data, threads: threads, profile: profile, events: events)
        try result.write(to: out)
        return result
    }

    /// Trains the network `params` describe on the image folder `data`, using `threads`
    /// threads for OpenBLAS and the engine's loops. Keeps the weights of the epoch with the
    /// lowest validation loss, and stops after `earlyStoppingPatience` epochs without one.
    /// `profile`: time each layer, and cblas_sgemm alone on the conv shapes.
    package static func train(params: TrainParams, data: String, threads: Int, profile: Bool = false,
                             events: (TrainEvent) -> Void = { _ in }) throws -> TrainResult {
        let start = DispatchTime.now()
        let folder = try ImageFolder.scan(data, seed: params.randomSeed)
        let trainItems = folder.items(.train), valItems = folder.items(.val)
        if trainItems.isEmpty || valItems.isEmpty {
            throw EngineError("\(data): need training and validation images, found \(trainItems.count) and \(valItems.count)",
                              hint: folder.hasSplitFolders ? "add images to \(data)/val" : "put at least 2 images in each class folder")
        }
        let arch = params.architecture(classCount: folder.classNames.count)
        let images = trainItems.count + valItems.count
        try MemoryEstimate.check(MemoryEstimate.convNetBytes(arch, maxBatch: params.batchSize, training: true)
                                 + MemoryEstimate.imageBytes(arch, count: images),
                                 doing: "training", because: "\(arch.sizeDescription), batch_size \(params.batchSize), \(images) images",
                                 hint: "lower train.batch_size or train.image_size, or use fewer or narrower conv_filters")
        var trainSet = try ImageSet.load(trainItems, size: arch.imageSize, channels: arch.inputChannels, threads: threads)
        var valSet = try ImageSet.load(valItems, size: arch.imageSize, channels: arch.inputChannels, threads: threads)
        let norm = trainSet.channelStatistics(channels: arch.inputChannels)
        trainSet.normalize(norm)
        valSet.normalize(norm)
        events(.loaded(train: trainSet.count, val: valSet.count, classes: folder.classNames, seconds: elapsed(since: start)))

        let net = ConvNet(arch, maxBatch: params.batchSize, threads: threads)
        if profile { net.profile = LayerProfile() }
        var rng = SplitMix64(seed: UInt64(params.randomSeed))
        net.params.initialize(arch, rng: &rng)
        let adam = AdamConfig(learningRate: Float(params.learningRate), weightDecay: Float(params.weightDecay))
        var best = [Float](repeating: 0, count: net.params.count)
        var bestLoss = Double.infinity, bestEpoch = 0, stoppedEarly = false, steps = 0
        var history: [EpochRecord] = []
        var order = Array(0..<trainSet.count)
        for epoch in 1...params.numEpochs {
            let epochStart = DispatchTime.now()
            rng.shuffle(&order)
            var lossSum = 0.0, correct = 0, done = 0
            try trainSet.pixels.withUnsafeBufferPointer { pixels in
                while done < order.count {
                    let batch = order[done..<min(done + params.batchSize, order.count)]
                    net.loadBatch(images: pixels.baseAddress!, labels: trainSet.labels, indices: batch)
                    let r = net.trainStep(N: batch.count, rng: &rng, adam: adam)
                    guard r.lossSum.isFinite else {
                        throw EngineError("training diverged: the loss became \(r.lossSum) in epoch \(epoch)",
                                          hint: "lower train.learning_rate (now \(params.learningRate))")
                    }
                    lossSum += r.lossSum
                    correct += r.correct
                    done += batch.count
                    steps += 1
                    events(.progress(epoch: epoch, done: done, total: order.count))
                }
            }
            let trainSeconds = elapsed(since: epochStart)
            let val = evaluateLoss(net, valSet)
            var record = EpochRecord(epoch: epoch, trainLoss: lossSum / Double(order.count),
                                     trainAccuracy: Double(correct) / Double(order.count),
                                     valLoss: val.loss, valAccuracy: val.accuracy,
                                     seconds: elapsed(since: epochStart),
                                     imagesPerSecond: Double(order.count) / max(trainSeconds, 1e-9), isBest: false)
            if val.loss < bestLoss {
                bestLoss = val.loss
                bestEpoch = epoch
                record.isBest = true
                best.withUnsafeMutableBufferPointer { $0.baseAddress!.update(from: net.params.memory, count: net.params.count) }
            }
            history.append(record)
            events(.epoch(record))
            if params.earlyStoppingPatience > 0 && epoch - bestEpoch >= params.earlyStoppingPatience && epoch < params.numEpochs {
                stoppedEarly = true
                break
            }
        }
        let checkpoint = Checkpoint(architecture: arch, classNames: folder.classNames, normalization: norm,
                                    paramsJSON: params.asJSON, weights: best, engine: EngineRuntime.provenance)
        return TrainResult(checkpoint: checkpoint, history: history, bestEpoch: bestEpoch, stoppedEarly: stoppedEarly,
                           trainImages: trainSet.count, steps: steps, seconds: elapsed(since: start),
                           profile: net.profile.map { profileReport($0, arch: arch, batch: params.batchSize) })
    }

    /// Mean loss and accuracy of `net` on `set` (dropout off, batches of `net.maxBatch`).
    static func evaluateLoss(_ net: ConvNet, _ set: ImageSet) -> (loss: Double, accuracy: Double) {
        var lossSum = 0.0, correct = 0
        net.forwardInBatches(set) { _, _, r in
            lossSum += r.lossSum
            correct += r.correct
        }
        return (lossSum / Double(max(set.count, 1)), Double(correct) / Double(max(set.count, 1)))
    }

    static func profileReport(_ profile: LayerProfile, arch: Architecture, batch: Int) -> String {
        var out = profile.report + "\nconv layers (im2col/col2im + GEMMs, forward + backward, best calls) vs cblas_sgemm alone\n"
            + "on the same products at batch \(batch) (best of 3):\n"
        for (i, (layer, gflops)) in LayerProfile.sgemmAlone(arch, N: batch).enumerated() {
            let ours = profile.convBestRate(i, arch, N: batch) ?? 0
            out += layer.padding(toLength: 8, withPad: " ", startingAt: 0)
                + String(format: "layer %6.1f GFLOP/s   sgemm alone %6.1f GFLOP/s   %3.0f%%\n", ours, gflops, 100 * ours / gflops)
        }
        return out
    }

    static func elapsed(since start: DispatchTime) -> Double {
        Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
    }
}
