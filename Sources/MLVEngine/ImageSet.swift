import Dispatch
import MLVSupport

/// Held while a large image is decoded (see `ImageSet.load`).
private let bigDecode = Lock()

/// Decoded images of one split, ready for the network: pixels (count, C, S, S), scaled to
/// [0, 1] then normalised per channel.
package struct ImageSet: Sendable {
    package var files: [String]
    package var labels: [Int32]
    package var pixels: [Float]
    package var count: Int { labels.count }

    /// Reads, decodes, converts and resizes `items` on `threads` threads. Each file goes to its
    /// own slot, so the result does not depend on scheduling; the first failing file (in order)
    /// is the error reported.
    static func load(_ items: [ImageFolder.Item], size S: Int, channels C: Int, threads: Int) throws -> ImageSet {
        let plane = C * S * S
        if items.isEmpty { return ImageSet(files: [], labels: [], pixels: []) }
        var pixels = [Float](repeating: 0, count: items.count * plane)
        var errors = [Error?](repeating: nil, count: items.count)
        pixels.withUnsafeMutableBufferPointer { out in
            errors.withUnsafeMutableBufferPointer { errs in
                let outBase = out.baseAddress!, errBase = errs.baseAddress!
                parallelFor(items.count, threads: threads) { i in
                    do {
                        let bytes = try EngineFile.readImage(items[i].path)
                        // Decoding takes about 28 bytes per pixel (libpng's buffer, the samples,
                        // the planes): large images are decoded one at a time, so memory stays
                        // bounded by one image of PNGImage.maxPixels, not one per thread.
                        let large = PNGImage.claimedPixels(bytes) > PNGImage.largePixels
                        if large { bigDecode.lock() }
                        defer { if large { bigDecode.unlock() } }
                        let image = try PNGImage.decode(bytes, path: items[i].path)
                        resizeBilinear(image, into: outBase + i * plane, size: S, channels: C)
                    } catch {
                        errBase[i] = error
                    }
                }
            }
        }
        if let first = errors.first(where: { $0 != nil }) { throw first! }
        return ImageSet(files: items.map(\.path), labels: items.map(\.label), pixels: pixels)
    }

    /// Per-channel mean and standard deviation of the pixels, summed in Double in index order.
    func channelStatistics(channels C: Int) -> Normalization {
        let plane = count == 0 ? 0 : pixels.count / (count * C)
        var mean = [Float](), std = [Float]()
        for c in 0..<C {
            var s = 0.0, s2 = 0.0
            for i in 0..<count {
                let base = (i * C + c) * plane
                for j in 0..<plane { let v = Double(pixels[base + j]); s += v; s2 += v * v }
            }
            let n = Double(max(count * plane, 1))
            let m = s / n
            let sd = max(s2 / n - m * m, 0).squareRoot()
            mean.append(Float(m))
            std.append(sd > 1e-6 ? Float(sd) : 1)
        }
        return Normalization(mean: mean, std: std)
    }

    mutating func normalize(_ norm: Normalization) {
        let C = norm.mean.count
        let plane = count == 0 ? 0 : pixels.count / (count * C)
        for i in 0..<count {
            for c in 0..<C {
                let base = (i * C + c) * plane, m = norm.mean[c], s = norm.std[c]
                for j in 0..<plane { pixels[base + j] = (pixels[base + j] - m) / s }
            }
        }
    }
}

/// x' = (x - mean[c]) / std[c], with the statistics of the training images.
package struct Normalization: Equatable, Sendable {
    package var mean: [Float]
    package var std: [Float]
}

/// Converts `image` to `C` channels (gray → RGB by copying; RGB → gray as ITU-R 601 luma,
/// 0.299 R + 0.587 G + 0.114 B, as Pillow's convert("L")) and resizes it to S×S into
/// out (C, S, S) with bilinear interpolation on pixel centres (PyTorch's
/// F.interpolate(mode="bilinear", align_corners=False), no antialiasing). Same size: a copy.
func resizeBilinear(_ image: PNGImage, into out: UnsafeMutablePointer<Float>, size S: Int, channels C: Int) {
    let w = image.width, h = image.height, ic = image.channels
    var planes = [Float](repeating: 0, count: C * w * h)   // (C, h, w)
    for i in 0..<(w * h) {
        let px = i * ic
        if C == ic {
            for c in 0..<C { planes[c * w * h + i] = image.pixels[px + c] }
        } else if C == 3 {
            for c in 0..<3 { planes[c * w * h + i] = image.pixels[px] }
        } else {
            planes[i] = 0.299 * image.pixels[px] + 0.587 * image.pixels[px + 1] + 0.114 * image.pixels[px + 2]
        }
    }
    if w == S && h == S {
        planes.withUnsafeBufferPointer { out.update(from: $0.baseAddress!, count: C * S * S) }
        return
    }
    // Source coordinate, lower index, upper index and weight of the upper one, per output index.
    func taps(_ inSize: Int) -> [(Int, Int, Float)] {
        let scale = Float(inSize) / Float(S)
        return (0..<S).map { d in
            let src = max(scale * (Float(d) + 0.5) - 0.5, 0)
            let i0 = min(Int(src), inSize - 1)
            let i1 = i0 < inSize - 1 ? i0 + 1 : i0
            return (i0, i1, src - Float(i0))
        }
    }
    let ys = taps(h), xs = taps(w)
    for c in 0..<C {
        let p = c * w * h
        for (oy, (y0, y1, ly)) in ys.enumerated() {
            for (ox, (x0, x1, lx)) in xs.enumerated() {
                let top = (1 - lx) * planes[p + y0 * w + x0] + lx * planes[p + y0 * w + x1]
                let bottom = (1 - lx) * planes[p + y1 * w + x0] + lx * planes[p + y1 * w + x1]
                out[(c * S + oy) * S + ox] = (1 - ly) * top + ly * bottom
            }
        }
    }
}
