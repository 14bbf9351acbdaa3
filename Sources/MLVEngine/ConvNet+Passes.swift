// The whole network's forward pass, loss, backward pass and optimizer step, composed from the
// layer functions in Layers/. `N` is the number of images in the current batch (≤ maxBatch).

extension ConvNet {
    /// Runs `body`, timed under `name` when the run is profiled.
    @inline(__always)
    func timed(_ name: @autoclosure () -> String, flops: @autoclosure () -> Double = 0, _ body: () -> Void) {
        if let profile { profile.measure(name(), flops: flops(), body) } else { body() }
    }

    /// Logits (N, K) into `fc.last` from `input` (C0, N, S0, S0). With `training`, dropout
    /// draws its masks from `rng`; without, dropout is the identity and `rng` is not touched.
    func forward(N: Int, training: Bool, rng: inout SplitMix64) {
        var inp = UnsafePointer(input)
        for (i, b) in arch.convBlocks.enumerated() {
            let S = b.size, P = b.pooledSize
            let flops = 2.0 * Double(b.outChannels * b.inChannels * 9 * N * S * S)
            timed("conv\(i + 1) forward", flops: flops) {
                conv3x3Forward(out: conv[i], col: col[i], inp: inp, weight: params.convWeight[i],
                               bias: nil, N: N, C: b.inChannels, H: S, W: S,
                               OC: b.outChannels, threads: threads)
            }
            timed("pool+bias+relu\(i + 1) forward") {
                maxpool2x2BiasReluForward(out: pool[i], argmax: argmax[i], inp: conv[i], bias: params.convBias[i],
                                          C: b.outChannels, N: N, H: S, W: S, threads: threads)
            }
            if training {
                timed("dropout\(i + 1) forward") {
                    dropoutForward(pool[i], mask: nil, count: b.outChannels * N * P * P,
                                   rate: arch.dropoutRates[i], rng: &rng, threads: threads)
                }
            }
            inp = UnsafePointer(pool[i])
        }
        let lastC = arch.convFilters.last ?? arch.inputChannels
        timed("flatten+dense forward") {
            flattenForward(out: flat, inp: inp, N: N, C: lastC, S: arch.finalSize * arch.finalSize)
            var x = UnsafePointer(flat)
            let dense = arch.denseLayers
            for (j, d) in dense.enumerated() {
                denseForward(out: fc[j], inp: x, weight: params.fcWeight[j], bias: params.fcBias[j],
                             N: N, I: d.inputs, O: d.outputs)
                if j < dense.count - 1 { reluForward(fc[j], count: N * d.outputs) }
                x = UnsafePointer(fc[j])
            }
        }
    }

    /// Softmax of the logits into `probs`; the summed loss against `labels` and the hits.
    /// Forward passes with dropout off over every image of `set`, in batches of `maxBatch`;
    /// after each, `body(first, n, loss)` reads the batch's outputs (`fc.last`, `probs`).
    func forwardInBatches(_ set: ImageSet, _ body: (_ first: Int, _ n: Int, _ loss: (lossSum: Double, correct: Int)) -> Void) {
        var unused = SplitMix64(seed: 0)  // dropout is off: nothing is drawn
        set.pixels.withUnsafeBufferPointer { pixels in
            var i = 0
            while i < set.count {
                let n = min(maxBatch, set.count - i)
                loadBatch(images: pixels.baseAddress!, labels: set.labels, indices: Array(i..<(i + n))[...])
                forward(N: n, training: false, rng: &unused)
                body(i, n, loss(N: n))
                i += n
            }
        }
    }

    func loss(N: Int) -> (lossSum: Double, correct: Int) {
        softmaxCrossEntropyForward(probs: probs, logits: fc[fc.count - 1], labels: labels,
                                   N: N, K: arch.classCount)
    }

    /// Gradients of the batch's mean loss into `grads`; needs `forward(training: true)` and `loss`.
    func backward(N: Int) {
        let dense = arch.denseLayers
        let last = dense.count - 1
        timed("loss+dense+flatten backward") {
            softmaxCrossEntropyBackward(dlogits: dfc[last], probs: probs, labels: labels, N: N, K: arch.classCount)
            for j in stride(from: last, through: 0, by: -1) {
                let d = dense[j]
                let inp = j == 0 ? UnsafePointer(flat) : UnsafePointer(fc[j - 1])
                denseBackward(dinp: j == 0 ? dflat : dfc[j - 1], dweight: grads.fcWeight[j],
                              dbias: grads.fcBias[j], dout: dfc[j], inp: inp, weight: params.fcWeight[j],
                              N: N, I: d.inputs, O: d.outputs)
                if j > 0 { reluBackward(dfc[j - 1], y: fc[j - 1], count: N * d.inputs) }
            }
            let lastC = arch.convFilters.last ?? arch.inputChannels
            flattenBackward(dinp: dpool, dout: dflat, N: N, C: lastC, S: arch.finalSize * arch.finalSize)
        }
        let blocks = arch.convBlocks
        for i in stride(from: blocks.count - 1, through: 0, by: -1) {
            let b = blocks[i], S = b.size
            timed("dropout+relu+pool\(i + 1) backward") {
                // Dropout's backward is folded in: pool[i] > 0 exactly where dropout kept a positive value.
                maxpool2x2BiasReluBackward(dinp: dconv, dbias: grads.convBias[i], dout: dpool, y: pool[i],
                                           dropoutScale: 1 / (1 - arch.dropoutRates[i]), argmax: argmax[i],
                                           C: b.outChannels, N: N, H: S, W: S, threads: threads)
            }
            let flops = 2.0 * Double(b.outChannels * b.inChannels * 9 * N * S * S) * (i > 0 ? 2 : 1)
            timed("conv\(i + 1) backward", flops: flops) {
                conv3x3Backward(dinp: i > 0 ? dpool : nil, dcol: dcol, dweight: grads.convWeight[i],
                                dbias: nil, dout: dconv, col: col[i],
                                weight: params.convWeight[i], partials: partials, N: N, C: b.inChannels, H: S, W: S,
                                OC: b.outChannels, threads: threads)
            }
        }
    }

    /// One Adam step over every parameter.
    func applyAdam(_ config: AdamConfig) {
        adamStep += 1
        // Element-wise, so chunks on several threads give the same bits as one thread.
        let chunk = 16384, total = params.count, step = adamStep
        let (p, g, m, v) = (params.memory, grads.memory, adamM.memory, adamV.memory)
        timed("adam") {
            parallelFor((total + chunk - 1) / chunk, threads: threads) { c in
                let start = c * chunk, n = min(chunk, total - start)
                adamUpdate(params: p + start, grads: g + start, m: m + start, v: v + start,
                           count: n, step: step, config: config)
            }
        }
    }

    /// forward + loss + backward + Adam on the batch already in `input`/`labels`.
    func trainStep(N: Int, rng: inout SplitMix64, adam: AdamConfig) -> (lossSum: Double, correct: Int) {
        forward(N: N, training: true, rng: &rng)
        let result = loss(N: N)
        backward(N: N)
        applyAdam(adam)
        return result
    }
}
