import MLVSupport
#if canImport(Glibc)
import Glibc
#endif

/// What a run will allocate, estimated before anything is: params inside the documented ranges
/// (image_size 1024 with batch_size 64) or a checkpoint's metadata can ask for more memory than
/// the machine has, and an allocation that fails ends the process without a message. Computed in
/// Double, so no product of sizes read from a file can overflow.
enum MemoryEstimate {
    /// The machine's physical memory in bytes.
    static var physicalBytes: Double {
        Double(sysconf(Int32(_SC_PHYS_PAGES))) * Double(sysconf(Int32(_SC_PAGESIZE)))
    }

    /// Bytes `ConvNet(arch, maxBatch:, training:)` allocates (the same buffers as its `init`).
    static func convNetBytes(_ arch: Architecture, maxBatch: Int, training: Bool) -> Double {
        let N = Double(maxBatch)
        var floats = 0.0
        let P = arch.parameterShapes.reduce(0.0) { $0 + $1.shape.reduce(1.0) { $0 * Double($1) } }
        floats += P * (training ? 5 : 1)  // params (+ grads, Adam's two moments, the best epoch's copy)
        floats += Double(arch.inputChannels) * N * Double(arch.imageSize) * Double(arch.imageSize)
        var maxConv = 0.0, maxPool = Double(arch.flatFeatures) * N, maxCol = 0.0, maxPartials = 0.0
        var s = Double(arch.imageSize), c = Double(arch.inputChannels)
        for (i, f) in arch.convFilters.map(Double.init).enumerated() {
            let p = (s / 2).rounded(.down)
            let col = c * 9 * N * s * s, conv = f * N * s * s, pool = f * N * p * p
            floats += col + conv + pool + pool / 4  // + argmax bytes
            maxConv = max(maxConv, conv)
            maxPool = max(maxPool, pool)
            if i > 0 { maxCol = max(maxCol, col) }
            let L = N * s * s
            let tiles = (L / Double(Tiling.width(Int(min(L, 1e15))))).rounded(.up)
            if tiles > 1 { maxPartials = max(maxPartials, tiles * f * c * 9) }
            s = p
            c = f
        }
        let flat = N * Double(arch.flatFeatures)
        let dense = arch.denseLayers.reduce(0.0) { $0 + N * Double($1.outputs) }
        floats += flat + dense * (training ? 2 : 1) + N * Double(arch.classCount)
        if training { floats += maxConv + maxPool + maxCol + flat + maxPartials }
        return floats * 4
    }

    /// Bytes of `count` decoded images at the network's input size (ImageSet's pixels).
    static func imageBytes(_ arch: Architecture, count: Int) -> Double {
        Double(count) * Double(arch.inputChannels) * Double(arch.imageSize) * Double(arch.imageSize) * 4
    }

    /// Throws when `bytes` is more than the machine's physical memory.
    static func check(_ bytes: Double, doing: String, because: String, hint: String) throws {
        let have = physicalBytes
        guard bytes > have else { return }
        throw EngineError("\(doing) needs about \(ByteCount.text(bytes)) of memory (\(because)); this machine has \(ByteCount.text(have))",
                          hint: hint)
    }
}

extension Architecture {
    /// "image_size 128, 3 channels, conv_filters [16, 64]" for memory messages.
    var sizeDescription: String {
        "image_size \(imageSize), conv_filters [\(convFilters.map(String.init).joined(separator: ", "))]"
    }
}
