/// The shape of the network: N conv blocks (3×3 conv, padding 1 → ReLU → 2×2 max-pool →
/// dropout), flatten, dense layers with ReLU, and a dense layer to the class logits.
package struct Architecture: Equatable, Sendable {
    package var imageSize: Int
    package var inputChannels: Int
    package var convFilters: [Int]
    package var fcSizes: [Int]
    package var dropoutRates: [Float]
    package var classCount: Int

    package init(imageSize: Int, inputChannels: Int, convFilters: [Int], fcSizes: [Int],
                dropoutRates: [Float], classCount: Int) {
        self.imageSize = imageSize
        self.inputChannels = inputChannels
        self.convFilters = convFilters
        self.fcSizes = fcSizes
        self.dropoutRates = dropoutRates
        self.classCount = classCount
    }

    /// One conv block's geometry: input (inChannels, size, size) → output (outChannels, size/2, size/2).
    struct ConvBlock {
        var inChannels: Int
        var outChannels: Int
        var size: Int
        var pooledSize: Int { size / 2 }
    }

    var convBlocks: [ConvBlock] {
        var blocks: [ConvBlock] = []
        var c = inputChannels, s = imageSize
        for f in convFilters {
            blocks.append(ConvBlock(inChannels: c, outChannels: f, size: s))
            c = f
            s /= 2
        }
        return blocks
    }

    /// The side of the feature maps after the last pool.
    var finalSize: Int { convFilters.reduce(imageSize) { s, _ in s / 2 } }

    /// Inputs of the first dense layer: channels × side × side of the last pool's output.
    var flatFeatures: Int { (convFilters.last ?? inputChannels) * finalSize * finalSize }

    /// (inputs, outputs) of every dense layer, the logits layer last.
    var denseLayers: [(inputs: Int, outputs: Int)] {
        var out: [(Int, Int)] = []
        var i = flatFeatures
        for o in fcSizes + [classCount] {
            out.append((i, o))
            i = o
        }
        return out
    }

    /// Every parameter tensor in storage order, named as the equivalent torch.nn module would name
    /// it: conv1.weight (out, in, 3, 3), conv1.bias, …, fc1.weight (out, in), fc1.bias, …; the last
    /// fc layer gives the logits.
    package var parameterShapes: [(name: String, shape: [Int])] {
        var out: [(String, [Int])] = []
        for (i, b) in convBlocks.enumerated() {
            out.append(("conv\(i + 1).weight", [b.outChannels, b.inChannels, 3, 3]))
            out.append(("conv\(i + 1).bias", [b.outChannels]))
        }
        for (j, d) in denseLayers.enumerated() {
            out.append(("fc\(j + 1).weight", [d.outputs, d.inputs]))
            out.append(("fc\(j + 1).bias", [d.outputs]))
        }
        return out
    }

    package var parameterCount: Int {
        parameterShapes.reduce(0) { $0 + $1.shape.reduce(1, *) }
    }

    /// Multiply-adds of one image's forward pass (conv and dense GEMMs only).
    package var forwardMultiplyAdds: Int {
        var total = 0
        for b in convBlocks { total += b.outChannels * b.inChannels * 9 * b.size * b.size }
        for d in denseLayers { total += d.inputs * d.outputs }
        return total
    }
}
