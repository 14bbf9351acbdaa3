import Foundation
import MLVSupport
import MLVTestSupport
import Testing
@testable import MLVEngine

/// The engine's promise: the files `train` and `evaluate` write are a function of the data, the
/// params and the seed, whatever `--threads` says and whatever kernels OPENBLAS_CORETYPE asks for.
@Suite struct ReproducibilityTests {
    /// Images and params whose products span several fixed tiles (Tiling): 24×24 images in
    /// batches of 16 make conv1's L = 9216 columns, 6 tiles of 1536, and conv2's 2304, 5 tiles of 512
    /// (and the last batch of each epoch other tiles).
    static func makeRun(_ dir: TemporaryDirectory) throws {
        try makeImageFolder(dir.url("data"), classes: 3, perClass: 12, size: 24, channels: 3)
        try dir.gen(["params.yaml": """
            train:
              image_size: 24
              input_channels: 3
              conv_filters: [6, 12]
              dropout_rates: [0.1, 0.2]
              fc_sizes: [16]
              learning_rate: 0.01
              batch_size: 16
              num_epochs: 3
              random_seed: 5
            """])
    }

    /// The tiled products themselves: a conv layer large enough for several tiles gives the same
    /// bits on 1, 2 and 3 threads, and the tiled weight gradient matches a Double reference.
    @Test func tiledConvProductsAreThreadIndependent() {
        var rng = SplitMix64(seed: 9)
        let N = 3, C = 4, H = 30, W = 30, OC = 5, L = N * H * W, K = C * 9
        #expect(Tiling.count(L, Tiling.width(L)) > 1)
        let inp = TestBuffer(random: C * N * H * W, rng: &rng), weight = TestBuffer(random: OC * K, rng: &rng)
        let dout = TestBuffer(random: OC * L, rng: &rng)
        var results: [[Float]] = []
        for threads in [1, 2, 3] {
            let out = TestBuffer(OC * L), col = TestBuffer(K * L), dcol = TestBuffer(K * L)
            let dinp = TestBuffer(C * N * H * W), dw = TestBuffer(OC * K)
            let partials = TestBuffer(conv3x3PartialsCount(N: N, C: C, H: H, W: W, OC: OC))
            conv3x3Forward(out: out.p, col: col.p, inp: inp.p, weight: weight.p, bias: nil,
                           N: N, C: C, H: H, W: W, OC: OC, threads: threads)
            conv3x3Backward(dinp: dinp.p, dcol: dcol.p, dweight: dw.p, dbias: nil, dout: dout.p, col: col.p,
                            weight: weight.p, partials: partials.p, N: N, C: C, H: H, W: W, OC: OC, threads: threads)
            results.append(out.array + dinp.array + dw.array)
            if threads == 1 {
                var worst = 0.0
                for o in 0..<OC {
                    for k in 0..<K {
                        var s = 0.0
                        for l in 0..<L { s += Double(dout[o * L + l]) * Double(col[k * L + l]) }
                        worst = max(worst, abs(s - Double(dw[o * K + k])))
                    }
                }
                #expect(worst < 1e-3, "weight gradient off by \(worst)")
            }
        }
        #expect(results[1] == results[0] && results[2] == results[0], "the tiled products depend on the thread count")
    }

    static let outputs = ["model.safetensors", "metrics.json", "history.csv"]

    static func hashes(_ dir: TemporaryDirectory, _ out: String) throws -> [String] {
        try outputs.map { SHA256Hasher.hex(try FS.readFile(dir.url("\(out)/\($0)"))) }
    }

    @Test func everyThreadCountAndKernelRequestGivesTheSameBytes() throws {
        try withTemporaryDirectory { dir in
            try Self.makeRun(dir)
            let runs: [(String, [String], [String: String])] = [
                ("t1", ["--threads", "1"], [:]), ("t2", ["--threads", "2"], [:]),
                ("t3", ["--threads", "3"], [:]), ("t4", ["--threads", "4"], [:]),
                ("default", [], [:]),
                // Another CPU's kernels asked for: the engine pins Haswell before OpenBLAS loads.
                ("skx", ["--threads", "3"], ["OPENBLAS_CORETYPE": "SkylakeX"]),
                ("zen", ["--threads", "2"], ["OPENBLAS_CORETYPE": "Zen"]),
                ("snb", ["--threads", "1"], ["OPENBLAS_CORETYPE": "Sandybridge", "OPENBLAS_NUM_THREADS": "4"]),
            ]
            var reference: [String]?
            for (out, args, env) in runs {
                let r = try runMLV(["train", "--data", "data", "--out", out] + args, cwd: dir.path, env: env)
                #expect(r.status == 0, "\(r)")
                let h = try Self.hashes(dir, out)
                if let reference {
                    for (i, file) in Self.outputs.enumerated() {
                        #expect(h[i] == reference[i], "\(out)/\(file) differs from t1/\(file)")
                    }
                } else {
                    reference = h
                }
            }
            // history.csv holds no wall time; the terminal shows it.
            #expect(try dir.read("t1/history.csv").hasPrefix("epoch,train_loss,train_acc,val_loss,val_acc\n1,"))
            // evaluate's JSON too.
            for t in ["1", "3"] {
                let e = try runMLV(["evaluate", "--model", "t1/model.safetensors", "--data", "data", "--split", "train",
                                    "--threads", t, "--out", "eval\(t).json"], cwd: dir.path)
                #expect(e.status == 0, "\(e)")
                #expect(e.stdout.contains("img/s"), "the terminal shows the inference speed")
            }
            #expect(try dir.read("eval1.json") == (try dir.read("eval3.json")))
            #expect(!(try dir.read("eval1.json")).contains("seconds"))
        }
    }

    /// The bytes of a tiny training run, fixed. When a change to the engine changes the numerics
    /// on purpose, raise `EngineRuntime.numericsVersion` and put the new hashes here.
    static let golden = [
        "model.safetensors": "b05b26444663208a8d5508d964a451382aa34d00adbf6e61a4a60277e27abd33",
        "metrics.json": "1fae49cbb2a939fee080392d0a2b188a307b80c3a4b086108c65ce1c4e23bddd",
        "history.csv": "d1522536f89c5ed4cf8563c8d75601392ce2700a843a269c14206ba93214c075",
    ]

    @Test func tinyRunMatchesTheGoldenHashes() throws {
        try withTemporaryDirectory { dir in
            try Self.makeRun(dir)
            let r = try runMLV(["train", "--data", "data", "--out", "o", "--threads", "2"], cwd: dir.path)
            #expect(r.status == 0, "\(r)")
            let h = try Self.hashes(dir, "o")
            let checkpoint = try Checkpoint.read(dir.url("o/model.safetensors"))
            let engine = Dictionary(uniqueKeysWithValues: checkpoint.engine)
            for (i, file) in Self.outputs.enumerated() {
                #expect(h[i] == Self.golden[file], """
                    \(file) of the golden tiny run changed: sha256 \(h[i]), expected \(Self.golden[file]!) \
                    (OpenBLAS \(engine["openblas"] ?? "?"), kernels \(engine["kernels"] ?? "?"); the golden hashes were made \
                    with OpenBLAS 0.3.21, Haswell kernels). If the engine's numerics changed on purpose, raise \
                    EngineRuntime.numericsVersion and put the new hashes in ReproducibilityTests.golden.
                    """)
            }
        }
    }

    @Test func checkpointAndDoctorStateTheGuarantee() throws {
        try withTemporaryDirectory { dir in
            try makeImageFolder(dir.url("data"), classes: 2, perClass: 6)
            try dir.gen(["params.yaml": tinyParamsYAML(epochs: 1)])
            let r = try runMLV(["train", "--data", "data", "--out", "o"], cwd: dir.path)
            #expect(r.status == 0, "\(r)")
            #expect(!r.stderr.contains("warning"), "OpenBLAS 0.3.21 with Haswell kernels was checked: \(r)")
            let engine = Dictionary(uniqueKeysWithValues: try Checkpoint.read(dir.url("o/model.safetensors")).engine)
            #expect(engine["numerics_version"] == String(EngineRuntime.numericsVersion))
            #expect(engine["kernels"] == "Haswell")
            #expect(engine["openblas"] == "0.3.21 or 0.3.34 (bit-identical single-thread kernels)")
            #expect(engine["threads"]?.contains("byte-identical for every --threads value") == true)
            let d = try runMLV(["doctor"], cwd: dir.path)
            #expect(d.status == 0, "\(d)")
            #expect(d.stdout.contains("threads per call: 1"), "\(d)")
            #expect(d.stdout.contains("engine     numerics v\(EngineRuntime.numericsVersion), byte-identical models for every --threads value"), "\(d)")
        }
    }

    @Test func anUncheckedOpenBLASOrOtherKernelsAreOneWarning() {
        #expect(EngineRuntime.blasWarning(version: "0.3.21", kernels: "Haswell", avx2: true) == nil)
        #expect(EngineRuntime.blasWarning(version: "0.3.34", kernels: "Haswell", avx2: true) == nil)
        #expect(EngineRuntime.blasWarning(version: "0.3.26", kernels: "Haswell", avx2: true)
                == "OpenBLAS 0.3.26 was not checked for mlv's bits (checked: 0.3.21, 0.3.34); models trained here may differ in the last bits from other machines'")
        #expect(EngineRuntime.blasWarning(version: "0.3.21", kernels: "SkylakeX", avx2: true)
                == "OpenBLAS runs SkylakeX kernels instead of Haswell; models trained here may differ in the last bits from other machines'")
        #expect(EngineRuntime.blasWarning(version: "0.3.21", kernels: "Sandybridge", avx2: false)?
                    .hasPrefix("this CPU has no AVX2/FMA, so OpenBLAS runs Sandybridge kernels") == true)
    }

    @Test func missingOpenBLASIsAnErrorWithTheInstallHint() throws {
        try withTemporaryDirectory { dir in
            try makeImageFolder(dir.url("data"), classes: 2, perClass: 4)
            try dir.gen(["params.yaml": tinyParamsYAML(epochs: 1)])
            let env = ["MLV_OPENBLAS": dir.url("no-such-libopenblas.so")]
            for args in [["train", "--data", "data", "--out", "o"], ["predict", "--model", "m.safetensors", "data"], ["doctor"]] {
                let r = try runMLV(args, cwd: dir.path, env: env)
                #expect(r.status == 2, "\(r)")
                let lines = r.stderr.split(separator: "\n").map(String.init)
                #expect(lines.first?.hasPrefix("mlv: error: cannot load OpenBLAS (") == true, "\(r)")
                #expect(lines.dropFirst().first?.hasPrefix("hint: install OpenBLAS: `apt-get install libopenblas0-pthread`") == true, "\(r)")
                #expect(!r.stderr.contains("Fatal error"))
            }
            #expect(!dir.exists("o"))
            // A library that is not OpenBLAS.
            let r = try runMLV(["train", "--data", "data", "--out", "o"], cwd: dir.path, env: ["MLV_OPENBLAS": "libz.so.1"])
            #expect(r.status == 2, "\(r)")
            #expect(r.stderr.hasPrefix("mlv: error: libz.so.1 is not a usable OpenBLAS: it has no symbol cblas_sgemm"), "\(r)")
            #expect(!dir.exists("o"))
        }
    }
}
