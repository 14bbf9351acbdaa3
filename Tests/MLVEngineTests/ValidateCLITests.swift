import Foundation
import MLVSupport
import MLVTestSupport
import Testing
@testable import MLVEngine

/// `mlv validate` through the real binary: a dataset that meets its expectations, each kind of
/// failure (exit 1, the report saying which), and bad expectations (exit 2, nothing written).
@Suite struct ValidateCLITests {
    static let expectations = """
        validate:
          min_images_per_class: 4
          max_images_per_class: 20
          max_class_imbalance: 1.5
          image_size: 12
          channels: 1
          require_splits: true
          max_unreadable: 0
        """

    @Test func aDatasetThatMeetsItsExpectations() throws {
        try withTemporaryDirectory { dir in
            try makeImageFolder(dir.url("data"), classes: 3, perClass: 3, splits: ["train", "val", "test"])
            try dir.gen(["params.yaml": Self.expectations])
            let r = try runMLV(["validate", "data", "--report", "reports/validation.json"], cwd: dir.path)
            #expect(r.status == 0, "\(r)")
            #expect(r.stdout.hasSuffix("All 9 expectations met.\n"), "\(r)")
            let report = try dir.read("reports/validation.json")
            #expect(report.hasPrefix("{\n  \"passed\": true,\n  \"classes\": [\"c0\", \"c1\", \"c2\"],"), "\(report)")
            #expect(report.contains("\"train\": {\"c0\": 3, \"c1\": 3, \"c2\": 3}"))
            // No timing in the report: a second run writes the same bytes.
            #expect(try runMLV(["validate", "data", "--report", "again.json"], cwd: dir.path).status == 0)
            #expect(try dir.read("again.json") == report)
        }
    }

    @Test func eachFailedExpectationIsNamedAndExitsOne() throws {
        try withTemporaryDirectory { dir in
            try makeImageFolder(dir.url("data"), classes: 3, perClass: 3, splits: ["train", "val", "test"])
            try dir.gen(["params.yaml": Self.expectations])
            // Leakage: a training image copied into test; an unreadable PNG; a 16-pixel image; more in one class.
            try FS.copyFile(from: dir.url("data/train/c0/img0.png"), to: dir.url("data/test/c0/leak.png"))
            try dir.gen(["data/train/c1/broken.png": "not a png"])
            try makeImageFolder(dir.url("big"), classes: 1, perClass: 1, size: 16)
            try FS.copyFile(from: dir.url("big/c0/img0.png"), to: dir.url("data/val/c2/big.png"))
            try FS.copyFile(from: dir.url("data/train/c0/img1.png"), to: dir.url("data/train/c2/relabelled.png"))
            for i in 0..<8 { try FS.copyFile(from: dir.url("data/train/c1/img\(i % 3).png"), to: dir.url("data/train/c1/extra\(i).png")) }
            let r = try runMLV(["validate", "data", "--report", "report.json"], cwd: dir.path)
            #expect(r.status == 1, "\(r)")
            #expect(r.stderr.hasPrefix("mlv: error: dataset 'data' failed 5 of 9 expectations: class balance, unreadable files, image size, identical files across splits, identical files across classes\n"), "\(r)")
            #expect(r.stdout.contains("FAIL  identical files across splits   expected none, found 1, e.g. data/test/c0/leak.png = data/train/c0/img0.png")
                    || r.stdout.contains("FAIL  identical files across splits   expected none, found 1, e.g. data/train/c0/img0.png = data/test/c0/leak.png"), "\(r)")
            #expect(r.stdout.contains("FAIL  unreadable files"), "\(r)")
            #expect(r.stdout.contains("FAIL  image size                      expected 12×12, found 1 differ, e.g. data/val/c2/big.png: 16×16"), "\(r)")
            #expect(r.stdout.contains("FAIL  identical files across classes  expected none, found 1, e.g. data/train/c0/img1.png = data/train/c2/relabelled.png"), "\(r)")
            #expect(try dir.read("report.json").contains("\"passed\": false"))
        }
    }

    /// validate reads images as training does: a symlinked image (a checkout in symlink mode)
    /// is an image, not an unreadable file; a name that is not UTF-8 is named as such by both.
    @Test func validateAndTrainAcceptTheSameImages() throws {
        try withTemporaryDirectory { dir in
            try makeImageFolder(dir.url("data"), classes: 3, perClass: 3, splits: ["train", "val", "test"])
            try dir.gen(["params.yaml": Self.expectations])
            try FS.makeDirectories(dir.url("store"))
            try FS.rename(dir.url("data/train/c0/img0.png"), dir.url("store/img0.png"))
            try FS.makeSymlink(dir.url("store/img0.png"), dir.url("data/train/c0/img0.png"))
            let r = try runMLV(["validate", "data"], cwd: dir.path)
            #expect(r.status == 0, "\(r)")
            #expect(r.stdout.hasSuffix("All 9 expectations met.\n"), "\(r)")

            let bad: [UInt8] = Array(dir.url("data/train/c1/caf").utf8) + [0xE9, 0x2E, 0x70, 0x6E, 0x67, 0]
            let fd = bad.withUnsafeBufferPointer { open(UnsafeRawPointer($0.baseAddress!).assumingMemoryBound(to: CChar.self), O_WRONLY | O_CREAT, 0o644) }
            #expect(fd >= 0)
            close(fd)
            try dir.gen(["train.yaml": tinyParamsYAML()])
            for args in [["validate", "data"], ["train", "--params", "train.yaml", "--data", "data", "--out", "m"]] {
                let v = try runMLV(args, cwd: dir.path)
                #expect(v.status == 2, "\(args): \(v)")
                #expect(v.stderr.hasPrefix("mlv: error: data/train/c1/caf\\xE9.png: the name is not valid UTF-8\nhint: rename it"), "\(args): \(v)")
            }
        }
    }

    @Test func badExpectationsAreRefusedWithTheirPlace() throws {
        try withTemporaryDirectory { dir in
            try makeImageFolder(dir.url("data"), classes: 2, perClass: 3)
            for (yaml, message) in [
                ("validate:\n  min_images_per_clas: 3\n", "params.yaml:2:3: unknown key 'min_images_per_clas' in 'validate'"),
                ("validate:\n  channels: 2\n", "params.yaml:2:13: 'channels' must be 1 (gray) or 3 (colour)"),
                ("validate:\n  max_class_imbalance: 0.5\n", "params.yaml:2:24: 'max_class_imbalance' must be a number ≥ 1 (largest class / smallest class)"),
                ("train:\n  image_size: 12\n", "params.yaml: no `validate:` section"),
            ] {
                try dir.gen(["params.yaml": yaml])
                let r = try runMLV(["validate", "data", "--report", "report.json"], cwd: dir.path)
                #expect(r.status == 2, "\(r)")
                #expect(r.stderr.hasPrefix("mlv: error: \(message)"), "\(r)")
                #expect(!FS.exists(dir.url("report.json")))
            }
        }
    }
}
