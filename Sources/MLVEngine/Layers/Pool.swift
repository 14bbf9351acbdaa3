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

/// dinp (P, H, W) = dout (P, H/2, W/2) routed to each window's argmax, zero elsewhere.
func maxpool2x2Backward(dinp: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>,
                        argmax: UnsafePointer<UInt8>, planes: Int, H: Int, W: Int, threads: Int) {
    let OH = H / 2, OW = W / 2
    parallelFor(planes, threads: threads) { p in
        let d = dinp + p * H * W
        d.update(repeating: 0, count: H * W)
        let g = dout + p * OH * OW
        let arg = argmax + p * OH * OW
        for oy in 0..<OH {
            for ox in 0..<OW {
                let a = Int(arg[oy * OW + ox])
                d[(2 * oy + a / 2) * W + 2 * ox + a % 2] = g[oy * OW + ox]
            }
        }
    }
}

/// Inverted dropout in place: each value is kept with probability 1 - rate and scaled by
/// 1 / (1 - rate), else zeroed. mask (count) records the kept positions. One draw per value,
/// in index order, from the run's single generator.
func dropoutForward(_ x: UnsafeMutablePointer<Float>, mask: UnsafeMutablePointer<UInt8>,
                    count: Int, rate: Float, rng: inout SplitMix64) {
    if rate <= 0 {
        mask.update(repeating: 1, count: count)
        return
    }
    let scale = 1 / (1 - rate)
    for i in 0..<count {
        let keep = rng.nextUnitFloat() >= rate
        mask[i] = keep ? 1 : 0
        x[i] = keep ? x[i] * scale : 0
    }
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
