import Foundation
import MLVSupport
import MLVTestSupport
import Testing
@testable import MLVEngine

/// Cross-checks against PyTorch, run only where a Python with torch and safetensors exists:
/// $MLV_TORCH_PYTHON, or the venv at .venv/ or bench/venv/ of this package (see README).
/// They are not on `make test`'s required path.
enum TorchPython {
    static let packageRoot = Path.parent(Path.parent(Path.parent("\(#filePath)")))
    static let script = Path.join(packageRoot, "scripts/engine/torch_crosscheck.py")

    static let python: String? = {
        var candidates = [Path.join(packageRoot, ".venv/bin/python"), Path.join(packageRoot, "bench/venv/bin/python")]
        if let p = ProcessInfo.processInfo.environment["MLV_TORCH_PYTHON"] { candidates.insert(p, at: 0) }
        for p in candidates where FileManager.default.isExecutableFile(atPath: p) {
            if let r = try? runProcess(p, ["-c", "import torch, safetensors"], cwd: "/"), r.status == 0 { return p }
        }
        return nil
    }()
}

@Suite(.enabled(if: TorchPython.python != nil, "needs a Python with torch and safetensors"))
struct TorchCrossCheckTests {
    /// Logits, loss and every parameter gradient of one batch, from the same weights, against
    /// torch (dropout off: its masks are random by design). Within 1e-4 of the largest value.
    @Test func forwardAndBackwardMatchPyTorch() throws {
        let arch = Architecture(imageSize: 16, inputChannels: 3, convFilters: [8, 16], fcSizes: [32, 16],
                                dropoutRates: [0, 0], classCount: 4)
        let N = 5
        var rng = SplitMix64(seed: 21)
        let net = ConvNet(arch, maxBatch: N, threads: 2)
        net.params.initialize(arch, rng: &rng)
        let images = (0..<(N * 3 * 16 * 16)).map { _ in rng.nextFloat(bound: 1) }   // (N, C, H, W)
        let labels: [Int32] = [0, 3, 1, 2, 3]
        images.withUnsafeBufferPointer { net.loadBatch(images: $0.baseAddress!, labels: labels, indices: Array(0..<N)[...]) }

        var tensors: [SafeTensors.Tensor] = []
        var offset = 0
        for (name, shape) in arch.parameterShapes {
            let n = shape.reduce(1, *)
            tensors.append(.init(name: name, shape: shape, values: Array(UnsafeBufferPointer(start: net.params.memory + offset, count: n))))
            offset += n
        }
        tensors.append(.init(name: "input", shape: [N, 3, 16, 16], values: images))
        tensors.append(.init(name: "labels", shape: [N], values: labels.map(Float.init)))

        try withTemporaryDirectory { dir in
            try AtomicFile.write(SafeTensors.encode(tensors, metadata: [:]), to: dir.url("in.safetensors"))
            let r = try runProcess(TorchPython.python!, [TorchPython.script, "grads", dir.url("in.safetensors"), dir.url("out.safetensors")], cwd: dir.path)
            try #require(r.status == 0, "\(r)")
            let ref = try SafeTensors.decode(try FS.readFile(dir.url("out.safetensors")), path: "out").tensors

            var unused = SplitMix64(seed: 0)
            net.forward(N: N, training: true, rng: &unused)
            let loss = net.loss(N: N).lossSum / Double(N)
            net.backward(N: N)
            func relativeError(_ ours: [Float], _ theirs: [Float]) -> Float {
                let scale = max(theirs.map(abs).max() ?? 0, 1e-12)
                return zip(ours, theirs).map { abs($0 - $1) }.max()! / scale
            }
            let logits = Array(UnsafeBufferPointer(start: net.fc.last!, count: N * 4))
            #expect(relativeError(logits, ref["logits"]!.values) < 1e-4)
            #expect(abs(loss - Double(ref["loss"]!.values[0])) / loss < 1e-4)
            offset = 0
            for (name, shape) in arch.parameterShapes {
                let n = shape.reduce(1, *)
                let ours = Array(UnsafeBufferPointer(start: net.grads.memory + offset, count: n))
                let e = relativeError(ours, ref["grad.\(name)"]!.values)
                #expect(e < 1e-4, "\(name): relative error \(e)")
                offset += n
            }
        }
    }

    /// A checkpoint from `mlv train` loads into torch.nn (strict state_dict) and gives the
    /// logits `mlv predict --json` prints, within 1e-4.
    @Test func predictedLogitsMatchPyTorch() throws {
        try withTemporaryDirectory { dir in
            let r = try runProcess(TorchPython.python!, [TorchPython.script, "predict", "--mlv", mlvBinary, "--work", dir.path], cwd: dir.path)
            #expect(r.status == 0, "\(r)")
            #expect(r.stdout.contains("max |logit difference|"), "\(r)")
        }
    }
}
