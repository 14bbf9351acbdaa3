// ReLU, 2×2 max-pool and dropout: the element-wise layers of a conv block, plus the flatten
// between the conv blocks (channel-major) and the dense layers (sample-major).

/// x = max(0, x), in place over `count` values.
func reluForward(_ x: UnsafeMutablePointer<Float>, count: Int) {
    for i in 0..<count where !(x[i] > 0) { x[i] = 0 }
}

/// dx = dx where y > 0, else 0; y is the ReLU's output (same positions as its input's > 0).
func reluBackward(_ dx: UnsafeMutablePointer<Float>, y: UnsafePointer<Float>, count: Int) {
    for i in 0..<count where !(y[i] > 0) { dx[i] = 0 }
}

/// out (P, H/2, W/2) = the maximum of each 2×2 window of inp (P, H, W), P = C*N planes.
/// argmax (P, H/2, W/2) records which of the four (0 top-left, 1 top-right, 2, 3) won; ties go to
/// the first in that order, as PyTorch does. An odd last row or column is dropped (floor).
func maxpool2x2Forward(out: UnsafeMutablePointer<Float>, argmax: UnsafeMutablePointer<UInt8>,
                       inp: UnsafePointer<Float>, planes: Int, H: Int, W: Int, threads: Int) {
    let OH = H / 2, OW = W / 2
    parallelFor(planes, threads: threads) { p in
        let src = inp + p * H * W
        let dst = out + p * OH * OW
        let arg = argmax + p * OH * OW
        for oy in 0..<OH {
            let r0 = src + 2 * oy * W, r1 = r0 + W
            for ox in 0..<OW {
                var best = r0[2 * ox], which: UInt8 = 0
                if r0[2 * ox + 1] > best { best = r0[2 * ox + 1]; which = 1 }
                if r1[2 * ox] > best { best = r1[2 * ox]; which = 2 }
                if r1[2 * ox + 1] > best { best = r1[2 * ox + 1]; which = 3 }
                dst[oy * OW + ox] = best
                arg[oy * OW + ox] = which
            }
        }
    }
}

/// The conv blocks' fused form of bias → ReLU → max-pool, which equals pool → bias → ReLU
/// because max commutes with adding a constant and with the monotone ReLU:
/// out (C, N, H/2, W/2) = max(0, max of each 2×2 window of inp (C, N, H, W) + bias[c]).
/// argmax as in `maxpool2x2Forward` (where the result is 0 the gradient is 0 anyway).
func maxpool2x2BiasReluForward(out: UnsafeMutablePointer<Float>, argmax: UnsafeMutablePointer<UInt8>,
                               inp: UnsafePointer<Float>, bias: UnsafePointer<Float>,
                               C: Int, N: Int, H: Int, W: Int, threads: Int) {
    maxpool2x2Forward(out: out, argmax: argmax, inp: inp, planes: C * N, H: H, W: W, threads: threads)
    let plane = (H / 2) * (W / 2)
    parallelFor(C, threads: threads) { c in
        let p = out + c * N * plane, b = bias[c]
        for i in 0..<(N * plane) {
            let v = p[i] + b
            p[i] = v > 0 ? v : 0
        }
    }
}

/// Backward of `maxpool2x2BiasReluForward` followed by dropout: the block's output y (after
/// dropout) is positive exactly where the ReLU passed and dropout kept the value, so dout
/// (C, N, H/2, W/2) becomes dout·dropoutScale there and 0 elsewhere (dropout's and ReLU's
/// backward in one pass); dbias (C) = its per-channel sums (in Double, fixed order); and
/// dinp (C, N, H, W) receives it at each window's argmax. dropoutScale is 1 / (1 - rate).
func maxpool2x2BiasReluBackward(dinp: UnsafeMutablePointer<Float>, dbias: UnsafeMutablePointer<Float>,
                                dout: UnsafeMutablePointer<Float>, y: UnsafePointer<Float>, dropoutScale: Float = 1,
                                argmax: UnsafePointer<UInt8>, C: Int, N: Int, H: Int, W: Int, threads: Int) {
    let plane = (H / 2) * (W / 2)
    parallelFor(C, threads: threads) { c in
        let d = dout + c * N * plane, yy = y + c * N * plane
        var s: Double = 0
        for i in 0..<(N * plane) {
            let g = yy[i] > 0 ? d[i] * dropoutScale : 0
            d[i] = g
            s += Double(g)
        }
        dbias[c] = Float(s)
    }
    maxpool2x2Backward(dinp: dinp, dout: dout, argmax: argmax, planes: C * N, H: H, W: W, threads: threads)
}

/// dinp (P, H, W) = dout (P, H/2, W/2) routed to each window's argmax, zero elsewhere.
func maxpool2x2Backward(dinp: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>,
                        argmax: UnsafePointer<UInt8>, planes: Int, H: Int, W: Int, threads: Int) {
    let OH = H / 2, OW = W / 2
    parallelFor(planes, threads: threads) { p in
        let d = dinp + p * H * W
        if H % 2 != 0 || W % 2 != 0 { d.update(repeating: 0, count: H * W) } // the dropped edge
        let g = dout + p * OH * OW
        let arg = argmax + p * OH * OW
        for oy in 0..<OH {
            let r0 = d + 2 * oy * W, r1 = r0 + W
            for ox in 0..<OW {
                let a = arg[oy * OW + ox], v = g[oy * OW + ox]
                r0[2 * ox] = a == 0 ? v : 0
                r0[2 * ox + 1] = a == 1 ? v : 0
                r1[2 * ox] = a == 2 ? v : 0
                r1[2 * ox + 1] = a == 3 ? v : 0
            }
        }
    }
}

/// Inverted dropout in place: each value is kept with probability 1 - rate and scaled by
/// 1 / (1 - rate), else zeroed. mask (count) records the kept positions. The run's generator
/// supplies one 64-bit number per pair of values, in index order: its high 24 bits decide
/// the first value, the next 24 the second. Pairs are filled on `threads` threads with `peek`,
/// which gives the same numbers a single thread would draw.
/// With `mask` nil nothing is recorded: the conv blocks' backward reads the kept positions
/// from the block's output instead (see `maxpool2x2BiasReluBackward`).
func dropoutForward(_ x: UnsafeMutablePointer<Float>, mask: UnsafeMutablePointer<UInt8>?,
                    count: Int, rate: Float, rng: inout SplitMix64, threads: Int = 1) {
    if rate <= 0 {
        mask?.update(repeating: 1, count: count)
        return
    }
    let scale = 1 / (1 - rate)
    // keep when u >= rate, with u = k / 2^24: k >= threshold.
    let threshold = UInt64((Double(rate) * 16_777_216).rounded(.up))
    let pairs = (count + 1) / 2
    let chunk = 8192
    let generator = rng
    parallelFor((pairs + chunk - 1) / chunk, threads: threads) { c in
        for p in (c * chunk)..<min(pairs, (c + 1) * chunk) {
            let r = generator.peek(p + 1)
            let i = 2 * p
            let keep0 = r >> 40 >= threshold
            mask?[i] = keep0 ? 1 : 0
            x[i] = keep0 ? x[i] * scale : 0
            if i + 1 < count {
                let keep1 = (r >> 16) & 0xFF_FFFF >= threshold
                mask?[i + 1] = keep1 ? 1 : 0
                x[i + 1] = keep1 ? x[i + 1] * scale : 0
            }
        }
    }
    rng.skip(pairs)
}

/// dx = dx * mask / (1 - rate), in place.
func dropoutBackward(_ dx: UnsafeMutablePointer<Float>, mask: UnsafePointer<UInt8>, count: Int, rate: Float) {
    if rate <= 0 { return }
    let scale = 1 / (1 - rate)
    for i in 0..<count { dx[i] = mask[i] != 0 ? dx[i] * scale : 0 }
}

/// out (N, C*S) from inp (C, N, S): each sample's features in PyTorch's flatten order (c, h, w).
func flattenForward(out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, N: Int, C: Int, S: Int) {
    for c in 0..<C {
        for n in 0..<N {
            (out + n * C * S + c * S).update(from: inp + (c * N + n) * S, count: S)
        }
    }
}

/// dinp (C, N, S) from dout (N, C*S).
func flattenBackward(dinp: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>, N: Int, C: Int, S: Int) {
    for c in 0..<C {
        for n in 0..<N {
            (dinp + (c * N + n) * S).update(from: dout + n * C * S + c * S, count: S)
        }
    }
}
