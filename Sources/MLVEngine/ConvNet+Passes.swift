// The whole network's forward pass, loss, backward pass and optimizer step, composed from the
// layer functions in Layers/. `N` is the number of images in the current batch (≤ maxBatch).

extension ConvNet {
    /// Logits (N, K) into `fc.last` from `input` (C0, N, S0, S0). With `training`, dropout
    /// draws its masks from `rng`; without, dropout is the identity and `rng` is not touched.
    func forward(N: Int, training: Bool, rng: inout SplitMix64) {
        var inp = UnsafePointer(input)
        for (i, b) in arch.convBlocks.enumerated() {
            let S = b.size, P = b.pooledSize
            conv3x3Forward(out: conv[i], col: col[i], inp: inp, weight: params.convWeight[i],
                           bias: params.convBias[i], N: N, C: b.inChannels, H: S, W: S,
                           OC: b.outChannels, threads: threads)
            reluForward(conv[i], count: b.outChannels * N * S * S)
            maxpool2x2Forward(out: pool[i], argmax: argmax[i], inp: conv[i],
                              planes: b.outChannels * N, H: S, W: S, threads: threads)
            if training {
                dropoutForward(pool[i], mask: mask[i], count: b.outChannels * N * P * P,
                               rate: arch.dropoutRates[i], rng: &rng)
            }
            inp = UnsafePointer(pool[i])
        }
        let lastC = arch.convFilters.last ?? arch.inputChannels
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

    /// Softmax of the logits into `probs`; the summed loss against `labels` and the hits.
    func loss(N: Int) -> (lossSum: Double, correct: Int) {
        softmaxCrossEntropyForward(probs: probs, logits: fc[fc.count - 1], labels: labels,
                                   N: N, K: arch.classCount)
    }

    /// Gradients of the batch's mean loss into `grads`; needs `forward(training: true)` and `loss`.
    func backward(N: Int) {
        let dense = arch.denseLayers
        let last = dense.count - 1
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
        let blocks = arch.convBlocks
        for i in stride(from: blocks.count - 1, through: 0, by: -1) {
            let b = blocks[i], S = b.size, P = b.pooledSize
            dropoutBackward(dpool, mask: mask[i], count: b.outChannels * N * P * P, rate: arch.dropoutRates[i])
            maxpool2x2Backward(dinp: dconv, dout: dpool, argmax: argmax[i],
                               planes: b.outChannels * N, H: S, W: S, threads: threads)
            reluBackward(dconv, y: conv[i], count: b.outChannels * N * S * S)
            conv3x3Backward(dinp: i > 0 ? dpool : nil, dcol: dcol, dweight: grads.convWeight[i],
                            dbias: grads.convBias[i], dout: dconv, col: col[i],
                            weight: params.convWeight[i], N: N, C: b.inChannels, H: S, W: S,
                            OC: b.outChannels, threads: threads)
        }
    }

    /// One Adam step over every parameter.
    func applyAdam(_ config: AdamConfig) {
        adamStep += 1
        adamUpdate(params: params.memory, grads: grads.memory, m: adamM.memory, v: adamV.memory,
                   count: params.count, step: adamStep, config: config)
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
