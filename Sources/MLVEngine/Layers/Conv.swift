internal import CBLAS

// 3×3 convolution, padding 1, stride 1, as im2col + one sgemm over the whole mini-batch.
//
// Activations inside the conv blocks are kept channel-major, (C, N, H, W): then the im2col matrix
// of a whole batch is (C*9, N*H*W), the convolution is ONE product
//     out (OC, N*H*W) = weight (OC, C*9) · col (C*9, N*H*W)
// and its result is already the next layer's (OC, N, H, W) input. Weights are stored as PyTorch
// stores them, (OC, C, 3, 3), which is the same memory as (OC, C*9).

/// col (C*9, N*H*W) from inp (C, N, H, W); row c*9 + ky*3 + kx holds inp shifted by (ky-1, kx-1),
/// zero outside the image.
func im2col3x3(col: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>,
               C: Int, N: Int, H: Int, W: Int, threads: Int) {
    let plane = H * W, L = N * plane
    // One task per row of col: C*9 of them, so a 1- or 3-channel input still fills every thread.
    parallelFor(C * 9, threads: threads) { r in
        let c = r / 9, ky = (r % 9) / 3, kx = r % 3
        do {
            do {
                let row = col + r * L
                for n in 0..<N {
                    let src = inp + (c * N + n) * plane
                    let dst = row + n * plane
                    for y in 0..<H {
                        let sy = y + ky - 1
                        let d = dst + y * W
                        if sy < 0 || sy >= H {
                            for x in 0..<W { d[x] = 0 }
                            continue
                        }
                        let s = src + sy * W
                        // Plain loops rather than memmove: rows are often a handful of floats.
                        switch kx {
                        case 0:
                            d[0] = 0
                            for x in 1..<W { d[x] = s[x - 1] }
                        case 1:
                            for x in 0..<W { d[x] = s[x] }
                        default:
                            for x in 0..<(W - 1) { d[x] = s[x + 1] }
                            d[W - 1] = 0
                        }
                    }
                }
            }
        }
    }
}

/// The adjoint of `im2col3x3`: dinp (C, N, H, W) = the sum of every col entry that copied it.
/// Each (channel, image) plane is summed by one thread, its nine shifted rows in a fixed order.
func col2im3x3(dinp: UnsafeMutablePointer<Float>, dcol: UnsafePointer<Float>,
               C: Int, N: Int, H: Int, W: Int, threads: Int) {
    let plane = H * W, L = N * plane
    parallelFor(C * N, threads: threads) { cn in
        let c = cn / N, n = cn % N
        let base = dinp + c * N * plane
        (base + n * plane).update(repeating: 0, count: plane)
        for ky in 0..<3 {
            for kx in 0..<3 {
                let row = dcol + (c * 9 + ky * 3 + kx) * L
                do {
                    for y in 0..<H {
                        let sy = y + ky - 1
                        if sy < 0 || sy >= H { continue }
                        let s = base + n * plane + sy * W
                        let d = row + n * plane + y * W
                        switch kx {
                        case 0: for x in 1..<W { s[x - 1] += d[x] }
                        case 1: for x in 0..<W { s[x] += d[x] }
                        default: for x in 0..<(W - 1) { s[x + 1] += d[x] }
                        }
                    }
                }
            }
        }
    }
}

/// out (OC, N, H, W) = conv3x3(inp (C, N, H, W), weight (OC, C, 3, 3)) + bias (OC).
/// col (C*9, N*H*W) keeps the im2col matrix for the backward pass. With `bias` nil the caller
/// adds the bias later: the conv blocks add it after pooling, on a quarter of the values
/// (max(x + b) = max(x) + b), see `maxpool2x2BiasReluForward`.
func conv3x3Forward(out: UnsafeMutablePointer<Float>, col: UnsafeMutablePointer<Float>,
                    inp: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                    N: Int, C: Int, H: Int, W: Int, OC: Int, threads: Int) {
    let L = N * H * W, K = C * 9
    im2col3x3(col: col, inp: inp, C: C, N: N, H: H, W: W, threads: threads)
    // out (OC, L) in fixed column tiles: each column's dot products are one tile's.
    let width = Tiling.width(L)
    parallelTiles(Tiling.count(L, width), threads: threads) { t in
        let c0 = t * width, n = min(width, L - c0)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(OC), Int32(n), Int32(K),
                    1, weight, Int32(K), col + c0, Int32(L), 0, out + c0, Int32(L))
    }
    guard let bias else { return }
    parallelFor(OC, threads: threads) { o in
        let row = out + o * L, b = bias[o]
        for i in 0..<L { row[i] += b }
    }
}

/// How many floats `conv3x3Backward` needs in `partials` for these shapes.
func conv3x3PartialsCount(N: Int, C: Int, H: Int, W: Int, OC: Int) -> Int {
    let L = N * H * W, tiles = Tiling.count(L, Tiling.width(L))
    return tiles > 1 ? tiles * OC * C * 9 : 0
}

/// Given dout (OC, N, H, W): dweight (OC, C*9) and dbias (OC) are overwritten (each parameter is
/// used once per step), and dinp (C, N, H, W) is computed when asked for (not for the first layer).
/// dcol (C*9, N*H*W) is scratch. With `dbias` nil the caller computes it (the conv blocks sum
/// the pooled gradient instead, which holds the same values without the zeros).
func conv3x3Backward(dinp: UnsafeMutablePointer<Float>?, dcol: UnsafeMutablePointer<Float>,
                     dweight: UnsafeMutablePointer<Float>, dbias: UnsafeMutablePointer<Float>?,
                     dout: UnsafePointer<Float>, col: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                     partials: UnsafeMutablePointer<Float>,
                     N: Int, C: Int, H: Int, W: Int, OC: Int, threads: Int) {
    let L = N * H * W, K = C * 9
    // dweight (OC, K) = dout (OC, L) · col (K, L)ᵀ, a sum over L: each fixed tile of L columns
    // gives one partial product (OC, K) in `partials`, then every element adds its partials in
    // tile order (in Double). One tile writes dweight directly.
    let depth = Tiling.width(L), tiles = Tiling.count(L, depth), outCount = OC * K
    if tiles == 1 {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(OC), Int32(K), Int32(L),
                    1, dout, Int32(L), col, Int32(L), 0, dweight, Int32(K))
    } else {
        parallelTiles(tiles, threads: threads) { t in
            let c0 = t * depth, n = min(depth, L - c0)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(OC), Int32(K), Int32(n),
                        1, dout + c0, Int32(L), col + c0, Int32(L), 0, partials + t * outCount, Int32(K))
        }
        let chunk = 4096
        parallelFor(Tiling.count(outCount, chunk), threads: threads) { c in
            for i in (c * chunk)..<min(outCount, (c + 1) * chunk) {
                var s: Double = 0
                for t in 0..<tiles { s += Double(partials[t * outCount + i]) }
                dweight[i] = Float(s)
            }
        }
    }
    // dbias (OC) = row sums of dout, accumulated in Double in a fixed order.
    if let dbias {
        parallelFor(OC, threads: threads) { o in
            let row = dout + o * L
            var s: Double = 0
            for i in 0..<L { s += Double(row[i]) }
            dbias[o] = Float(s)
        }
    }
    guard let dinp else { return }
    // dcol (K, L) = weight (OC, K)ᵀ · dout (OC, L), in fixed column tiles.
    let width = Tiling.width(L)
    parallelTiles(Tiling.count(L, width), threads: threads) { t in
        let c0 = t * width, n = min(width, L - c0)
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(K), Int32(n), Int32(OC),
                    1, weight, Int32(K), dout + c0, Int32(L), 0, dcol + c0, Int32(L))
    }
    col2im3x3(dinp: dinp, dcol: dcol, C: C, N: N, H: H, W: W, threads: threads)
}
