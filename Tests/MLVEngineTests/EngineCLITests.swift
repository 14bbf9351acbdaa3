import Foundation
import MLVSupport
import MLVTestSupport
import Testing
@testable import MLVEngine

/// The engine through the real `mlv` binary: outputs, determinism, and bad input (one line
/// `mlv: error: …`, exit code 2, nothing written).
@Suite struct EngineCLITests {
    @Test func trainTwiceGivesIdenticalBytes() throws {
        try withTemporaryDirectory { dir in
            try makeImageFolder(dir.url("data"), classes: 3, perClass: 10)
            try dir.gen(["params.yaml": tinyParamsYAML()])
            // c asks OpenBLAS for another CPU's kernels (as a machine with another CPU would pick
            // them): the engine pins its kernels before the library loads, so the bytes match.
            for (out, env) in [("a", [String: String]()), ("b", [:]), ("c", ["OPENBLAS_CORETYPE": "SkylakeX"])] {
                let r = try runMLV(["train", "--data", "data", "--out", out, "--threads", "2"], cwd: dir.path, env: env)
                #expect(r.status == 0, "\(r)")
                #expect(r.stdout.contains("epoch 3/3  train loss"), "\(r)")
                #expect(r.stdout.contains("kernels: Haswell"), "\(r)")
            }
            for file in ["model.safetensors", "metrics.json"] {
                let a = try FS.readFile(dir.url("a/\(file)"))
                #expect(a == (try FS.readFile(dir.url("b/\(file)"))), "\(file) differs between two identical runs")
                #expect(a == (try FS.readFile(dir.url("c/\(file)"))), "\(file) differs when other kernels were asked for")
            }
            let history = try dir.read("a/history.csv").split(separator: "\n")
            #expect(history.first == "epoch,train_loss,train_acc,val_loss,val_acc" && history.count == 4)
            let metrics = try dir.read("a/metrics.json")
            #expect(metrics.contains("\"final_epoch\": 3") && metrics.contains("\"stopped_early\": false"))
            let checkpoint = try Checkpoint.read(dir.url("a/model.safetensors"))
            #expect(checkpoint.classNames == ["c0", "c1", "c2"] && checkpoint.architecture.convFilters == [4, 8])
        }
    }

    @Test func setOverridesAndEarlyStopping() throws {
        try withTemporaryDirectory { dir in
            try makeImageFolder(dir.url("data"), classes: 2, perClass: 10)
            try dir.gen(["p.yaml": tinyParamsYAML(epochs: 30, extra: "  early_stopping_patience: 2")])
            // A learning rate this large overshoots: the validation loss stops improving at once.
            let r = try runMLV(["train", "--params", "p.yaml", "--data", "data", "--out", "o", "--set", "learning_rate=0.2",
                                "--threads", "1"], cwd: dir.path)
            #expect(r.status == 0, "\(r)")
            let metrics = try dir.read("o/metrics.json")
            #expect(metrics.contains("\"stopped_early\": true") && !metrics.contains("\"final_epoch\": 30"), "\(metrics)")
        }
    }

    @Test func evaluateAndPredictATrainedModel() throws {
        try withTemporaryDirectory { dir in
            try makeImageFolder(dir.url("data"), classes: 3, perClass: 20)
            try dir.gen(["params.yaml": tinyParamsYAML(epochs: 8)])
            let t = try runMLV(["train", "--data", "data", "--out", "o"], cwd: dir.path)
            #expect(t.status == 0, "\(t)")
            let e = try runMLV(["evaluate", "--model", "o/model.safetensors", "--data", "data", "--out", "eval.json",
                                "--predictions", "predictions.csv"], cwd: dir.path)
            #expect(e.status == 0, "\(e)")
            // One row per test image; the rows agree with the confusion matrix.
            let rows = try dir.read("predictions.csv").split(separator: "\n").map { $0.split(separator: ",").map(String.init) }
            #expect(rows.first == ["path", "actual", "predicted"])
            #expect(rows.count == 7 && rows.dropFirst().allSatisfy { $0.count == 3 && $0[0].hasPrefix("c") && $0[0].hasSuffix(".png") })
            #expect(e.stdout.contains("confusion matrix") && e.stdout.contains("on 6 test images"), "\(e)")
            let json = try JSONSerialization.jsonObject(with: Data(try dir.read("eval.json").utf8)) as! [String: Any]
            #expect(json["images"] as? Int == 6)
            #expect((json["accuracy"] as? Double ?? 0) >= 0.8, "\(json)")
            #expect((json["confusion_matrix"] as? [[Int]])?.count == 3)
            let matrix = json["confusion_matrix"] as? [[Int]] ?? []
            for (a, row) in matrix.enumerated() {
                for (p, n) in row.enumerated() {
                    #expect(rows.dropFirst().filter { $0[1] == "c\(a)" && $0[2] == "c\(p)" }.count == n)
                }
            }
            let p = try runMLV(["predict", "--model", "o/model.safetensors", "--json", "data/c2"], cwd: dir.path)
            #expect(p.status == 0, "\(p)")
            let items = try JSONSerialization.jsonObject(with: Data(p.stdout.utf8)) as! [[String: Any]]
            #expect(items.count == 20)
            #expect(items.filter { $0["class"] as? String == "c2" }.count >= 16)
            let probs = items[0]["probabilities"] as! [String: Double]
            #expect(abs(probs.values.reduce(0, +) - 1) < 1e-5)
            let text = try runMLV(["predict", "--model", "o/model.safetensors", "data/c0/img0.png"], cwd: dir.path)
            #expect(text.stdout.hasPrefix("data/c0/img0.png  c"), "\(text)")
        }
    }

    @Test func badInputFailsCleanlyAndWritesNothing() throws {
        try withTemporaryDirectory { dir in
            try makeImageFolder(dir.url("data"), classes: 2, perClass: 4)
            try makeImageFolder(dir.url("other"), classes: 3, perClass: 4)
            try dir.gen(["params.yaml": tinyParamsYAML(), "bad.yaml": "train:\n  conv_filters: [4, 8, 16]\n  image_size: 12\n",
                         "typo.yaml": "train:\n  batchsize: 8\n", "data/c1/readme.txt": "x"])
            func fails(_ args: [String], _ message: String, hint: String? = nil) throws {
                let r = try runMLV(args, cwd: dir.path)
                #expect(r.status == 2, "\(r)")
                #expect(r.stderr.hasPrefix("mlv: error: \(message)"), "\(r)")
                if let hint { #expect(r.stderr.contains("hint: \(hint)"), "\(r)") }
                #expect(!r.stderr.contains("Fatal error"))
                #expect(!dir.exists("out"), "an output was written")
            }
            try fails(["train", "--params", "bad.yaml", "--data", "data", "--out", "out"],
                      "bad.yaml: train.dropout_rates has 4 values but conv_filters has 3 conv blocks")
            try fails(["train", "--params", "typo.yaml", "--data", "data", "--out", "out"],
                      "typo.yaml:2:3: unknown key train.batchsize", hint: "did you mean `batch_size`?")
            try fails(["train", "--data", "data", "--out", "out"], "data/c1/readme.txt: not a PNG file")
            try fails(["train", "--data", "data", "--out", "out", "--set", "image_size=2"],
                      "params.yaml: train.image_size 2 is pooled below 1 pixel by 2 conv blocks (2 → 1 → 0)")
            try FS.remove(dir.url("data/c1/readme.txt"))
            try dir.gen(["data/c1/broken.png": "not really a png"])
            try fails(["train", "--data", "data", "--out", "out"], "data/c1/broken.png: not a readable PNG")
            try FS.remove(dir.url("data/c1/broken.png"))
            let ok = try runMLV(["train", "--data", "data", "--out", "model"], cwd: dir.path)
            #expect(ok.status == 0, "\(ok)")
            try fails(["evaluate", "--model", "model/model.safetensors", "--data", "other", "--out", "out"],
                      "other has classes c0, c1, c2 but the model was trained on c0, c1")
            try fails(["predict", "--model", "params.yaml", "data/c0"], "params.yaml: not a safetensors checkpoint")
            try fails(["evaluate", "--model", "missing.safetensors", "--data", "data"], "missing.safetensors: no such checkpoint")
        }
    }
}
