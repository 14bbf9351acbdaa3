/// Parameters, their gradients, or one of Adam's moment buffers: a single allocation with a
/// pointer to each tensor, in `Architecture.parameterShapes` order (llm.c's `ParameterTensors`).
struct ParameterTensors {
    let memory: UnsafeMutablePointer<Float>
    let count: Int
    var convWeight: [UnsafeMutablePointer<Float>] = []
    var convBias: [UnsafeMutablePointer<Float>] = []
    var fcWeight: [UnsafeMutablePointer<Float>] = []
    var fcBias: [UnsafeMutablePointer<Float>] = []

    /// Points into `memory`, which must hold `arch.parameterCount` floats.
    init(_ arch: Architecture, memory: UnsafeMutablePointer<Float>) {
        self.memory = memory
        count = arch.parameterCount
        var p = memory
        for (name, shape) in arch.parameterShapes {
            let n = shape.reduce(1, *)
            if name.hasPrefix("conv") {
                if name.hasSuffix(".weight") { convWeight.append(p) } else { convBias.append(p) }
            } else {
                if name.hasSuffix(".weight") { fcWeight.append(p) } else { fcBias.append(p) }
            }
            p += n
        }
    }

    /// PyTorch's default initialisation of Conv2d and Linear (kaiming_uniform with a = √5, which
    /// is U(-1/√fan_in, 1/√fan_in), for weights and biases alike), drawn in storage order.
    func initialize(_ arch: Architecture, rng: inout SplitMix64) {
        var p = memory
        var fanIn = 1
        for (name, shape) in arch.parameterShapes {
            let n = shape.reduce(1, *)
            if name.hasSuffix(".weight") { fanIn = shape.dropFirst().reduce(1, *) }
            let bound = 1 / Float(fanIn).squareRoot()
            for i in 0..<n { p[i] = rng.nextFloat(bound: bound) }
            p += n
        }
    }
}

/// Every buffer of a run, allocated once for `maxBatch` images: parameters, gradients, Adam's
/// moments and the activations the backward pass needs. Layouts are in the comments; inside the
/// conv blocks activations are channel-major (C, N, H, W) so that each convolution is one GEMM.
/// A class only so that `deinit` can free the memory; it has no subclasses and no virtual calls.
final class ConvNet {
    let arch: Architecture
    let maxBatch: Int
    let threads: Int
    private var allocations: [UnsafeMutableRawPointer] = []

    var params: ParameterTensors
    var grads: ParameterTensors
    var adamM: ParameterTensors
    var adamV: ParameterTensors

    // Activations, per conv block i with input (C, N, S, S) and OC filters:
    var input: UnsafeMutablePointer<Float>             // (C0, N, S0, S0)
    var col: [UnsafeMutablePointer<Float>] = []        // (C*9, N*S*S)
    var conv: [UnsafeMutablePointer<Float>] = []       // (OC, N, S, S), before bias (added after the pool)
    var pool: [UnsafeMutablePointer<Float>] = []       // (OC, N, S/2, S/2), pool → bias → ReLU → dropout
    var argmax: [UnsafeMutablePointer<UInt8>] = []     // (OC, N, S/2, S/2)
    var flat: UnsafeMutablePointer<Float>              // (N, F)
    var fc: [UnsafeMutablePointer<Float>] = []         // (N, O_j), after ReLU except the logits (last)
    var probs: UnsafeMutablePointer<Float>             // (N, K)
    var labels: UnsafeMutablePointer<Int32>            // (N)

    // Gradient scratch, reused by every block:
    var dconv: UnsafeMutablePointer<Float>             // the largest (OC, N, S, S)
    var dpool: UnsafeMutablePointer<Float>             // the largest (OC, N, S/2, S/2), also dflat's image
    var dcol: UnsafeMutablePointer<Float>              // the largest (C*9, N*S*S) past the first block
    var dflat: UnsafeMutablePointer<Float>             // (N, F)
    var dfc: [UnsafeMutablePointer<Float>] = []        // (N, O_j)
    var partials: UnsafeMutablePointer<Float>          // the weight gradients' partial products (Tiling)

    var adamStep = 0
    /// Set to time every layer (see LayerProfile).
    var profile: LayerProfile?

    init(_ arch: Architecture, maxBatch: Int, threads: Int, training: Bool = true) {
        self.arch = arch
        self.maxBatch = maxBatch
        self.threads = threads
        var allocs: [UnsafeMutableRawPointer] = []
        func floats(_ n: Int) -> UnsafeMutablePointer<Float> {
            let p = UnsafeMutablePointer<Float>.allocate(capacity: max(n, 1))
            p.initialize(repeating: 0, count: max(n, 1))
            allocs.append(UnsafeMutableRawPointer(p))
            return p
        }
        func bytes(_ n: Int) -> UnsafeMutablePointer<UInt8> {
            let p = UnsafeMutablePointer<UInt8>.allocate(capacity: max(n, 1))
            p.initialize(repeating: 0, count: max(n, 1))
            allocs.append(UnsafeMutableRawPointer(p))
            return p
        }
        let P = arch.parameterCount, N = maxBatch
        params = ParameterTensors(arch, memory: floats(P))
        grads = ParameterTensors(arch, memory: floats(training ? P : 0))
        adamM = ParameterTensors(arch, memory: floats(training ? P : 0))
        adamV = ParameterTensors(arch, memory: floats(training ? P : 0))
        input = floats(arch.inputChannels * N * arch.imageSize * arch.imageSize)
        var maxConv = 0, maxPool = arch.flatFeatures * N, maxDcol = 0, maxPartials = 0
        for (i, b) in arch.convBlocks.enumerated() {
            let convSize = b.outChannels * N * b.size * b.size
            let poolSize = b.outChannels * N * b.pooledSize * b.pooledSize
            let colSize = b.inChannels * 9 * N * b.size * b.size
            col.append(floats(colSize))
            conv.append(floats(convSize))
            pool.append(floats(poolSize))
            argmax.append(bytes(poolSize))
            maxConv = max(maxConv, convSize)
            maxPool = max(maxPool, poolSize)
            if i > 0 { maxDcol = max(maxDcol, colSize) }
            maxPartials = max(maxPartials, conv3x3PartialsCount(N: N, C: b.inChannels, H: b.size, W: b.size, OC: b.outChannels))
        }
        flat = floats(N * arch.flatFeatures)
        for d in arch.denseLayers {
            fc.append(floats(N * d.outputs))
            dfc.append(floats(training ? N * d.outputs : 0))
        }
        probs = floats(N * arch.classCount)
        let l = UnsafeMutablePointer<Int32>.allocate(capacity: N)
        l.initialize(repeating: 0, count: N)
        allocs.append(UnsafeMutableRawPointer(l))
        labels = l
        dconv = floats(training ? maxConv : 0)
        dpool = floats(training ? maxPool : 0)
        dcol = floats(training ? maxDcol : 0)
        dflat = floats(training ? N * arch.flatFeatures : 0)
        partials = floats(training ? maxPartials : 0)
        allocations = allocs
    }

    deinit {
        for p in allocations { p.deallocate() }
    }

    /// Copies images (count, C, S, S) at `indices` into `input` (C, N, S, S) and their labels.
    func loadBatch(images: UnsafePointer<Float>, labels source: [Int32], indices: ArraySlice<Int>) {
        let C = arch.inputChannels, plane = arch.imageSize * arch.imageSize, N = indices.count
        precondition(N <= maxBatch)
        for (n, idx) in indices.enumerated() {
            for c in 0..<C {
                (input + (c * N + n) * plane).update(from: images + (idx * C + c) * plane, count: plane)
            }
            labels[n] = source.isEmpty ? 0 : source[idx]
        }
    }
}
