import Testing
@testable import MLVEngine

/// Finite-difference checks of every layer's backward function. Tolerance: the worst absolute
/// difference relative to the largest gradient must stay under 1e-3 for the linear layers
/// (conv, dense, flatten, dropout) and under 1e-2 for the kinked ones (ReLU, max-pool, whose
/// inputs are kept away from their kinks) and the softmax cross-entropy.
@Suite struct LayerGradientTests {
    @Test func conv3x3BackwardMatchesFiniteDifferences() {
        var rng = SplitMix64(seed: 1)
        let N = 2, C = 2, H = 5, W = 4, OC = 3
        let inp = TestBuffer(random: C * N * H * W, rng: &rng)
        let weight = TestBuffer(random: OC * C * 9, rng: &rng)
        let bias = TestBuffer(random: OC, rng: &rng)
        let r = TestBuffer(random: OC * N * H * W, rng: &rng)
        let out = TestBuffer(OC * N * H * W), col = TestBuffer(C * 9 * N * H * W)
        func loss() -> Double {
            conv3x3Forward(out: out.p, col: col.p, inp: inp.p, weight: weight.p, bias: bias.p,
                           N: N, C: C, H: H, W: W, OC: OC, threads: 2)
            return dot(out, r)
        }
        _ = loss()
        let dinp = TestBuffer(inp.count), dw = TestBuffer(weight.count), db = TestBuffer(OC)
        let dcol = TestBuffer(col.count), partials = TestBuffer(conv3x3PartialsCount(N: N, C: C, H: H, W: W, OC: OC))
        conv3x3Backward(dinp: dinp.p, dcol: dcol.p, dweight: dw.p, dbias: db.p, dout: r.p, col: col.p,
                        weight: weight.p, partials: partials.p, N: N, C: C, H: H, W: W, OC: OC, threads: 2)
        #expect(gradientError(of: inp, analytic: dinp.array, h: 1e-2, loss: loss) < 1e-3)
        #expect(gradientError(of: weight, analytic: dw.array, h: 1e-2, loss: loss) < 1e-3)
        #expect(gradientError(of: bias, analytic: db.array, h: 1e-2, loss: loss) < 1e-3)
    }

    @Test func conv3x3ForwardMatchesDirectConvolution() {
        var rng = SplitMix64(seed: 2)
        let N = 2, C = 3, H = 4, W = 6, OC = 2
        let inp = TestBuffer(random: C * N * H * W, rng: &rng)
        let weight = TestBuffer(random: OC * C * 9, rng: &rng)
        let bias = TestBuffer(random: OC, rng: &rng)
        let out = TestBuffer(OC * N * H * W), col = TestBuffer(C * 9 * N * H * W)
        conv3x3Forward(out: out.p, col: col.p, inp: inp.p, weight: weight.p, bias: bias.p,
                       N: N, C: C, H: H, W: W, OC: OC, threads: 1)
        var worst: Float = 0
        for o in 0..<OC { for n in 0..<N { for y in 0..<H { for x in 0..<W {
            var s = Double(bias[o])
            for c in 0..<C { for ky in 0..<3 { for kx in 0..<3 {
                let sy = y + ky - 1, sx = x + kx - 1
                if sy < 0 || sy >= H || sx < 0 || sx >= W { continue }
                s += Double(weight[(o * C + c) * 9 + ky * 3 + kx]) * Double(inp[((c * N + n) * H + sy) * W + sx])
            }}}
            worst = max(worst, abs(Float(s) - out[((o * N + n) * H + y) * W + x]))
        }}}}
        #expect(worst < 1e-5)
    }

    @Test func reluBackwardMatchesFiniteDifferences() {
        var rng = SplitMix64(seed: 3)
        let n = 50
        let x = TestBuffer(random: n, rng: &rng)
        for i in 0..<n where abs(x[i]) < 0.05 { x[i] = 0.1 } // away from the kink
        let r = TestBuffer(random: n, rng: &rng), y = TestBuffer(n)
        func loss() -> Double {
            y.p.update(from: x.p, count: n)
            reluForward(y.p, count: n)
            return dot(y, r)
        }
        _ = loss()
        let dx = TestBuffer(n)
        dx.p.update(from: r.p, count: n)
        reluBackward(dx.p, y: y.p, count: n)
        #expect(gradientError(of: x, analytic: dx.array, h: 1e-3, loss: loss) < 1e-2)
    }

    @Test func maxpoolBackwardMatchesFiniteDifferences() {
        var rng = SplitMix64(seed: 4)
        let planes = 3, H = 5, W = 7 // odd sides: the last row and column are dropped
        let x = TestBuffer(random: planes * H * W, rng: &rng)
        let r = TestBuffer(random: planes * (H / 2) * (W / 2), rng: &rng)
        let out = TestBuffer(r.count)
        let arg = UnsafeMutablePointer<UInt8>.allocate(capacity: r.count)
        defer { arg.deallocate() }
        func loss() -> Double {
            maxpool2x2Forward(out: out.p, argmax: arg, inp: x.p, planes: planes, H: H, W: W, threads: 2)
            return dot(out, r)
        }
        _ = loss()
        let dx = TestBuffer(x.count)
        maxpool2x2Backward(dinp: dx.p, dout: r.p, argmax: arg, planes: planes, H: H, W: W, threads: 2)
        #expect(gradientError(of: x, analytic: dx.array, h: 1e-4, loss: loss) < 1e-2)
        #expect(dx[H * W - 1] == 0) // the dropped corner gets no gradient
    }

    @Test func fusedPoolBiasReluMatchesReluThenPoolAndItsGradients() {
        var rng = SplitMix64(seed: 9)
        let C = 2, N = 3, H = 4, W = 6
        let x = TestBuffer(random: C * N * H * W, rng: &rng), bias = TestBuffer(random: C, rng: &rng, scale: 0.3)
        let r = TestBuffer(random: C * N * (H / 2) * (W / 2), rng: &rng)
        let out = TestBuffer(r.count)
        let arg = UnsafeMutablePointer<UInt8>.allocate(capacity: r.count)
        defer { arg.deallocate() }
        func loss() -> Double {
            maxpool2x2BiasReluForward(out: out.p, argmax: arg, inp: x.p, bias: bias.p, C: C, N: N, H: H, W: W, threads: 2)
            return dot(out, r)
        }
        _ = loss()
        // The unfused order: bias, ReLU, then pool.
        let ref = TestBuffer(x.count), refOut = TestBuffer(r.count)
        for i in 0..<x.count { ref[i] = max(0, x[i] + bias[i / (N * H * W)]) }
        maxpool2x2Forward(out: refOut.p, argmax: arg, inp: ref.p, planes: C * N, H: H, W: W, threads: 1)
        #expect(out.array == refOut.array)
        _ = loss()
        let dx = TestBuffer(x.count), db = TestBuffer(C), dout = TestBuffer(r.count)
        dout.p.update(from: r.p, count: r.count)
        maxpool2x2BiasReluBackward(dinp: dx.p, dbias: db.p, dout: dout.p, y: out.p, argmax: arg,
                                   C: C, N: N, H: H, W: W, threads: 2)
        #expect(gradientError(of: x, analytic: dx.array, h: 1e-4, loss: loss) < 1e-2)
        #expect(gradientError(of: bias, analytic: db.array, h: 1e-4, loss: loss) < 1e-2)
    }

    @Test func dropoutBackwardMatchesFiniteDifferencesAndKeepsTheRate() {
        var rng = SplitMix64(seed: 5)
        let n = 4000, rate: Float = 0.3
        let x = TestBuffer(random: n, rng: &rng), r = TestBuffer(random: n, rng: &rng), y = TestBuffer(n)
        let mask = UnsafeMutablePointer<UInt8>.allocate(capacity: n)
        defer { mask.deallocate() }
        func loss() -> Double {
            var maskRng = SplitMix64(seed: 99) // the same mask on every evaluation
            y.p.update(from: x.p, count: n)
            dropoutForward(y.p, mask: mask, count: n, rate: rate, rng: &maskRng)
            return dot(y, r)
        }
        _ = loss()
        let dx = TestBuffer(n)
        dx.p.update(from: r.p, count: n)
        dropoutBackward(dx.p, mask: mask, count: n, rate: rate)
        #expect(gradientError(of: x, analytic: dx.array, h: 1e-2, loss: loss) < 1e-3)
        let dropped = (0..<n).filter { mask[$0] == 0 }.count
        #expect(abs(Double(dropped) / Double(n) - 0.3) < 0.03)

        // Filled on several threads, the masks and the generator's position are those of one thread.
        let big = 50_001
        let a = TestBuffer(random: big, rng: &rng), b = TestBuffer(big)
        b.p.update(from: a.p, count: big)
        let m1 = UnsafeMutablePointer<UInt8>.allocate(capacity: big), m2 = UnsafeMutablePointer<UInt8>.allocate(capacity: big)
        defer { m1.deallocate(); m2.deallocate() }
        var r1 = SplitMix64(seed: 3), r2 = SplitMix64(seed: 3)
        dropoutForward(a.p, mask: m1, count: big, rate: 0.4, rng: &r1, threads: 1)
        dropoutForward(b.p, mask: m2, count: big, rate: 0.4, rng: &r2, threads: 2)
        #expect(a.array == b.array)
        #expect((0..<big).allSatisfy { m1[$0] == m2[$0] })
        #expect(r1.next() == r2.next())
    }

    @Test func splitMixPeekIsWhatNextWouldDraw() {
        var g = SplitMix64(seed: 77)
        let peeked = (1...5).map { g.peek($0) }
        #expect(peeked == (0..<5).map { _ in g.next() })
        var h = SplitMix64(seed: 77)
        h.skip(5)
        #expect(h.next() == g.next())
    }

    @Test func denseBackwardMatchesFiniteDifferences() {
        var rng = SplitMix64(seed: 6)
        let N = 3, I = 5, O = 4
        let inp = TestBuffer(random: N * I, rng: &rng), w = TestBuffer(random: O * I, rng: &rng)
        let b = TestBuffer(random: O, rng: &rng), r = TestBuffer(random: N * O, rng: &rng)
        let out = TestBuffer(N * O)
        func loss() -> Double {
            denseForward(out: out.p, inp: inp.p, weight: w.p, bias: b.p, N: N, I: I, O: O)
            return dot(out, r)
        }
        _ = loss()
        let dinp = TestBuffer(inp.count), dw = TestBuffer(w.count), db = TestBuffer(O)
        denseBackward(dinp: dinp.p, dweight: dw.p, dbias: db.p, dout: r.p, inp: inp.p, weight: w.p, N: N, I: I, O: O)
        #expect(gradientError(of: inp, analytic: dinp.array, h: 1e-2, loss: loss) < 1e-3)
        #expect(gradientError(of: w, analytic: dw.array, h: 1e-2, loss: loss) < 1e-3)
        #expect(gradientError(of: b, analytic: db.array, h: 1e-2, loss: loss) < 1e-3)
    }

    @Test func flattenBackwardIsTheAdjointOfForward() {
        var rng = SplitMix64(seed: 7)
        let N = 3, C = 4, S = 6
        let x = TestBuffer(random: C * N * S, rng: &rng), r = TestBuffer(random: N * C * S, rng: &rng)
        let y = TestBuffer(N * C * S)
        func loss() -> Double {
            flattenForward(out: y.p, inp: x.p, N: N, C: C, S: S)
            return dot(y, r)
        }
        _ = loss()
        #expect(y[1 * C * S + 2 * S + 3] == x[(2 * N + 1) * S + 3]) // sample 1, channel 2, pixel 3
        let dx = TestBuffer(x.count)
        flattenBackward(dinp: dx.p, dout: r.p, N: N, C: C, S: S)
        #expect(gradientError(of: x, analytic: dx.array, h: 1e-2, loss: loss) < 1e-3)
    }

    @Test func softmaxCrossEntropyBackwardMatchesFiniteDifferences() {
        var rng = SplitMix64(seed: 8)
        let N = 4, K = 5
        let logits = TestBuffer(random: N * K, rng: &rng, scale: 3)
        let probs = TestBuffer(N * K)
        let labels: [Int32] = [0, 3, 4, 1]
        func loss() -> Double {
            labels.withUnsafeBufferPointer {
                softmaxCrossEntropyForward(probs: probs.p, logits: logits.p, labels: $0.baseAddress!, N: N, K: K).lossSum / Double(N)
            }
        }
        _ = loss()
        let d = TestBuffer(N * K)
        labels.withUnsafeBufferPointer {
            softmaxCrossEntropyBackward(dlogits: d.p, probs: probs.p, labels: $0.baseAddress!, N: N, K: K)
        }
        #expect(gradientError(of: logits, analytic: d.array, h: 1e-2, loss: loss) < 1e-2)
        for n in 0..<N {
            let rowSum = (0..<K).reduce(Float(0)) { $0 + probs[n * K + $1] }
            #expect(abs(rowSum - 1) < 1e-5)
        }
    }
}
