import Foundation
import Testing
@testable import MLVEngine

@Suite struct ConvNetTests {
    static let tinyArch = Architecture(imageSize: 8, inputChannels: 2, convFilters: [3, 4], fcSizes: [6],
                                       dropoutRates: [0.25, 0.3], classCount: 3)

    /// Loads N random images and labels into the net's input.
    func loadRandomBatch(_ net: ConvNet, N: Int, rng: inout SplitMix64) {
        let a = net.arch
        let n = N * a.inputChannels * a.imageSize * a.imageSize
        let images = (0..<n).map { _ in rng.nextUnitFloat() }
        let labels = (0..<N).map { Int32($0 % a.classCount) }
        images.withUnsafeBufferPointer {
            net.loadBatch(images: $0.baseAddress!, labels: labels, indices: Array(0..<N)[...])
        }
    }

    /// Every parameter tensor's gradient from `backward` against central differences of the
    /// whole network's loss, dropout on (the same masks on every evaluation). ReLU and max-pool
    /// make the loss piecewise smooth: where the left and right difference quotients disagree
    /// (by 1e-2 of the tensor's largest gradient) a switch lies inside ±h and the element is
    /// skipped; at most half of each tensor's checked elements may be skipped. Tolerance for
    /// the rest: 1e-2 of the tensor's largest gradient (Float32 forward, h = 5e-4). The layer
    /// tests check each backward function on its own without this caveat.
    @Test func wholeNetworkGradientsMatchFiniteDifferences() {
        var rng = SplitMix64(seed: 11)
        let net = ConvNet(Self.tinyArch, maxBatch: 3, threads: 2)
        net.params.initialize(net.arch, rng: &rng)
        loadRandomBatch(net, N: 3, rng: &rng)
        func loss() -> Double {
            var masks = SplitMix64(seed: 5)
            net.forward(N: 3, training: true, rng: &masks)
            return net.loss(N: 3).lossSum / 3
        }
        let f0 = loss()
        net.backward(N: 3)
        let grads = Array(UnsafeBufferPointer(start: net.grads.memory, count: net.grads.count))
        var offset = 0
        let h: Float = 5e-4
        for (name, shape) in net.arch.parameterShapes {
            let n = shape.reduce(1, *)
            var worst: Double = 0, scale: Double = 1e-4, checked = 0, kinks = 0
            for i in offset..<(offset + n) { scale = max(scale, Double(abs(grads[i]))) }
            // Every element of small tensors, every 7th of the larger ones.
            for i in stride(from: offset, to: offset + n, by: n > 60 ? 7 : 1) {
                let p = net.params.memory
                let saved = p[i]
                p[i] = saved + h
                let plus = loss()
                p[i] = saved - h
                let minus = loss()
                p[i] = saved
                checked += 1
                let right = (plus - f0) / Double(h), left = (f0 - minus) / Double(h)
                let g = Double(grads[i])
                if abs(right - left) > 1e-2 * scale {
                    kinks += 1 // a ReLU or max-pool switch inside ±h: no derivative to compare with
                } else {
                    worst = max(worst, abs((plus - minus) / Double(2 * h) - g))
                }
            }
            #expect(worst / scale < 1e-2, "\(name): \(worst / scale) of \(scale)")
            #expect(kinks * 2 <= checked, "\(name): \(kinks) kinks in \(checked)")
            offset += n
        }
    }

    /// A tiny net with no dropout must drive the loss on 8 images to about zero.
    @Test func tinyNetOverfitsATinyBatch() {
        var rng = SplitMix64(seed: 12)
        let arch = Architecture(imageSize: 8, inputChannels: 1, convFilters: [4, 8], fcSizes: [16],
                                dropoutRates: [0, 0], classCount: 4)
        let net = ConvNet(arch, maxBatch: 8, threads: 1)
        net.params.initialize(arch, rng: &rng)
        loadRandomBatch(net, N: 8, rng: &rng)
        let adam = AdamConfig(learningRate: 0.01, weightDecay: 0)
        var first = 0.0, last = 0.0
        for step in 0..<300 {
            let (lossSum, _) = net.trainStep(N: 8, rng: &rng, adam: adam)
            if step == 0 { first = lossSum / 8 }
            last = lossSum / 8
        }
        #expect(first > 1.0)
        #expect(last < 0.01, "final loss \(last)")
    }

    /// Adam against the update written out in Double for one parameter over three steps.
    @Test func adamFollowsTheBiasCorrectedUpdate() {
        let p = TestBuffer(1), g = TestBuffer(1), m = TestBuffer(1), v = TestBuffer(1)
        p[0] = 0.5
        let config = AdamConfig(learningRate: 0.1, weightDecay: 0.01)
        var (rp, rm, rv) = (0.5, 0.0, 0.0)
        for (t, grad) in [0.2, -0.1, 0.3].enumerated() {
            g[0] = Float(grad)
            adamUpdate(params: p.p, grads: g.p, m: m.p, v: v.p, count: 1, step: t + 1, config: config)
            let gg = grad + 0.01 * rp
            rm = 0.9 * rm + 0.1 * gg
            rv = 0.999 * rv + 0.001 * gg * gg
            let mh = rm / (1 - pow(0.9, Double(t + 1))), vh = rv / (1 - pow(0.999, Double(t + 1)))
            rp -= 0.1 * mh / (vh.squareRoot() + 1e-8)
        }
        #expect(abs(Double(p[0]) - rp) < 1e-5)
    }

    @Test func parameterNamesFollowPyTorch() {
        let names = Self.tinyArch.parameterShapes.map { "\($0.name)\($0.shape)" }
        #expect(names == ["conv1.weight[3, 2, 3, 3]", "conv1.bias[3]", "conv2.weight[4, 3, 3, 3]", "conv2.bias[4]",
                          "fc1.weight[6, 16]", "fc1.bias[6]", "fc2.weight[3, 6]", "fc2.bias[3]"])
    }
}
