import Foundation
import MLVSupport
import MLVTestSupport
import Testing
@testable import MLVEngine

/// Files another person wrote, given to train, evaluate and predict: every size read from them is
/// checked before arithmetic and allocation, only regular files of bounded size are read, and the
/// memory a run needs is estimated first. Each case: one `mlv: error:` line, exit 2, nothing
/// written, no trap.
@Suite struct HostileInputTests {
    /// Runs mlv in `dir` and checks the refusal; `skip` names entries the snapshot must not read (FIFOs).
    func refused(_ dir: TemporaryDirectory, _ args: [String], _ message: String, hint: String? = nil,
                 skip: [String] = []) throws {
        let before = try TreeSnapshot.take(dir.path, excluding: skip)
        let r = try runMLV(args, cwd: dir.path)
        #expect(r.status == 2, "\(args): \(r)")
        let lines = r.stderr.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasPrefix("mlv: error: \(message)") == true, "\(args): \(r)")
        if let hint { #expect(lines.dropFirst().first?.hasPrefix("hint: \(hint)") == true, "\(args): \(r)") }
        #expect(!r.stderr.contains("Fatal error") && !r.stderr.contains("Stack"), "\(r)")
        let after = try TreeSnapshot.take(dir.path, excluding: skip)
        #expect(after == before, "\(args) changed: \(before.difference(after))")
    }

    /// A valid small checkpoint (random weights) for 12×12 gray images, 2 classes.
    static func smallCheckpoint(_ arch: Architecture = Architecture(imageSize: 12, inputChannels: 1, convFilters: [4, 8],
                                                                     fcSizes: [16], dropoutRates: [0, 0], classCount: 2)) -> Checkpoint {
        var rng = SplitMix64(seed: 1)
        return Checkpoint(architecture: arch, classNames: ["c0", "c1"],
                          normalization: Normalization(mean: [0.5], std: [0.25]), paramsJSON: "{}",
                          weights: (0..<arch.parameterCount).map { _ in rng.nextFloat(bound: 0.1) })
    }

    /// `bytes` of a safetensors file with conv1.weight's header entry replaced by `entry`.
    static func withConv1Entry(_ bytes: [UInt8], _ entry: String) -> [UInt8] {
        var n = 0
        for i in 0..<8 { n |= Int(bytes[i]) << (8 * i) }
        var header = String(decoding: bytes[8..<(8 + n)], as: UTF8.self)
        let old = "\"conv1.weight\": {\"dtype\": \"F32\", \"shape\": [4, 1, 3, 3], \"data_offsets\": [0, 144]}"
        precondition(header.contains(old))
        header = header.replacingOccurrences(of: old, with: "\"conv1.weight\": " + entry)
        while header.utf8.count % 8 != 0 { header += " " }
        var out: [UInt8] = []
        withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { out += $0 }
        return out + Array(header.utf8) + bytes[(8 + n)...]
    }

    @Test func craftedSafetensorsHeadersAreRefused() throws {
        try withTemporaryDirectory { dir in
            try makeImageFolder(dir.url("data"), classes: 2, perClass: 3)
            let good = Self.smallCheckpoint().encoded()
            let cases: [(String, String)] = [
                ("{\"dtype\": \"F32\", \"shape\": [9223372036854775807, 2], \"data_offsets\": [0, 144]}", "conv1.weight has a shape [9223372036854775807, 2] larger than the file"),
                ("{\"dtype\": \"F32\", \"shape\": [4294967296, 4294967296, 1, 1], \"data_offsets\": [0, 144]}", "conv1.weight has a shape [4294967296, 4294967296, 1, 1] larger than the file"),
                ("{\"dtype\": \"F32\", \"shape\": [-4, -1, 3, 3], \"data_offsets\": [0, 144]}", "conv1.weight has an invalid shape [-4, -1, 3, 3]"),
                ("{\"dtype\": \"F32\", \"shape\": [4, 1, 3, 3], \"data_offsets\": [-144, 0]}", "conv1.weight has a byte range that does not fit its shape"),
                ("{\"dtype\": \"F32\", \"shape\": [4, 1, 3, 3], \"data_offsets\": [9223372036854775807, -9223372036854775663]}", "conv1.weight has a byte range that does not fit its shape"),
                ("{\"dtype\": \"F32\", \"shape\": [4, 1, 3, 3], \"data_offsets\": [9223372036854775000, 9223372036854775144]}", "conv1.weight has a byte range that does not fit its shape"),
                ("{\"dtype\": \"F32\", \"shape\": [0], \"data_offsets\": [0, 0]}", "not an mlv checkpoint (tensor conv1.weight has shape [0]"),
            ]
            for (i, (entry, message)) in cases.enumerated() {
                let name = "bad\(i).safetensors"
                try FS.writeFile(dir.url(name), Self.withConv1Entry(good, entry))
                let expected = message.hasPrefix("not an") ? "\(name): \(message)" : "\(name): not a safetensors checkpoint (\(message))"
                try refused(dir, ["predict", "--model", name, "data/c0/img0.png"], expected,
                            hint: "pass the model.safetensors written by `mlv train`")
                try refused(dir, ["evaluate", "--model", name, "--data", "data", "--out", "e.json"], expected)
            }
            // Metadata describing a network of gigabytes of weights over a file of kilobytes.
            var n = 0
            for k in 0..<8 { n |= Int(good[k]) << (8 * k) }
            let header = String(decoding: good[8..<(8 + n)], as: UTF8.self)
            for old in ["\\\"fc_sizes\\\": [16]", "\"mlv.image_size\": \"12\""] {
                #expect(header.contains(old), "\(old) in \(header)")
            }
            var forged = header.replacingOccurrences(of: "\\\"fc_sizes\\\": [16]", with: "\\\"fc_sizes\\\": [4096]")
                .replacingOccurrences(of: "\"mlv.image_size\": \"12\"", with: "\"mlv.image_size\": \"1024\"")
            while forged.utf8.count % 8 != 0 { forged += " " }
            var forgedBytes: [UInt8] = []
            withUnsafeBytes(of: UInt64(forged.utf8.count).littleEndian) { forgedBytes += $0 }
            forgedBytes += Array(forged.utf8) + good[(8 + n)...]
            try FS.writeFile(dir.url("meta.safetensors"), forgedBytes)
            try refused(dir, ["predict", "--model", "meta.safetensors", "data/c0/img0.png"],
                        "meta.safetensors: not an mlv checkpoint (its metadata describes 8.0 GiB of weights, the file holds ")

            // A header length past the end of the file, and the largest one.
            for length in [UInt64(1) << 40, UInt64.max] {
                var bytes = good
                withUnsafeBytes(of: length.littleEndian) { for k in 0..<8 { bytes[k] = $0[k] } }
                try FS.writeFile(dir.url("len.safetensors"), bytes)
                try refused(dir, ["predict", "--model", "len.safetensors", "data/c0/img0.png"],
                            "len.safetensors: not a safetensors checkpoint (bad header length)")
            }
            // The untouched file works: the refusals above were about the changes.
            try FS.writeFile(dir.url("good.safetensors"), good)
            let ok = try runMLV(["predict", "--model", "good.safetensors", "data/c0/img0.png"], cwd: dir.path)
            #expect(ok.status == 0, "\(ok)")
        }
    }

    @Test func aCheckpointAskingForMoreMemoryThanTheMachineHasIsRefused() throws {
        try withTemporaryDirectory { dir in
            try makeImageFolder(dir.url("data"), classes: 2, perClass: 3)
            // A few hundred KB of weights, but 4096 feature maps of 1024² pixels for each image.
            let arch = Architecture(imageSize: 1024, inputChannels: 1, convFilters: [4096] + Array(repeating: 1, count: 9),
                                    fcSizes: [4], dropoutRates: Array(repeating: 0, count: 10), classCount: 2)
            try Self.smallCheckpoint(arch).write(to: dir.url("huge.safetensors"))
            let needed = MemoryEstimate.convNetBytes(arch, maxBatch: 32, training: false) + MemoryEstimate.imageBytes(arch, count: 32)
            #expect(needed > 1e12, "the case must exceed any machine's memory")
            try refused(dir, ["predict", "--model", "huge.safetensors"] + Array(repeating: "data/c0/img0.png", count: 32),
                        "running huge.safetensors needs about \(ByteCount.text(needed)) of memory (its image_size 1024, conv_filters [4096, 1, 1, 1, 1, 1, 1, 1, 1, 1], 32 images); this machine has",
                        hint: "the checkpoint's metadata asks for a network too large for this machine")
        }
    }

    @Test func paramsNeedingMoreMemoryThanTheMachineHasAreRefusedBeforeLoading() throws {
        try withTemporaryDirectory { dir in
            try makeImageFolder(dir.url("data"), classes: 2, perClass: 3)
            try dir.gen(["params.yaml": "train:\n  image_size: 1024\n  batch_size: 1024\n  conv_filters: [4096, 8]\n  dropout_rates: [0, 0]\n"])
            try refused(dir, ["train", "--data", "data", "--out", "out"], "training needs about ",
                        hint: "lower train.batch_size or train.image_size, or use fewer or narrower conv_filters")
            // The issue's case, inside the documented ranges: refused wherever it does not fit.
            try dir.gen(["issue.yaml": "train:\n  image_size: 1024\n  batch_size: 64\n"])
            var p = TrainParams()
            p.imageSize = 1024
            p.batchSize = 64
            let arch = p.architecture(classCount: 2)
            let needed = MemoryEstimate.convNetBytes(arch, maxBatch: 64, training: true)
            if needed > MemoryEstimate.physicalBytes {
                try refused(dir, ["train", "--params", "issue.yaml", "--data", "data", "--out", "out"],
                            "training needs about ")
                let r = try runMLV(["train", "--params", "issue.yaml", "--data", "data", "--out", "out"], cwd: dir.path)
                #expect(r.stderr.contains("of memory (image_size 1024, conv_filters [16, 64, 128, 128], batch_size 64, "), "\(r)")
            }
        }
    }

    /// CRC-32 of PNG chunks (ISO 3309), to forge a header.
    static func crc32(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in bytes {
            c ^= UInt32(b)
            for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        }
        return ~c
    }

    @Test func aSmallPNGClaimingHugeDimensionsIsRefused() throws {
        try withTemporaryDirectory { dir in
            try makeImageFolder(dir.url("data"), classes: 2, perClass: 2, splits: ["train", "val"])
            try dir.gen(["params.yaml": tinyParamsYAML(epochs: 1)])
            // A 1×1 PNG whose IHDR is rewritten to 16384×16384 (bytes 16-23), CRC fixed.
            var png = try PNGImage.encode(width: 1, height: 1, channels: 1, pixels: [7])
            for (k, v) in [UInt32(16384), UInt32(16384)].enumerated() {
                for j in 0..<4 { png[16 + 4 * k + j] = UInt8((v >> (24 - 8 * UInt32(j))) & 0xFF) }
            }
            let crc = Self.crc32(png[12..<29])
            for j in 0..<4 { png[29 + j] = UInt8((crc >> (24 - 8 * UInt32(j))) & 0xFF) }
            try FS.writeFile(dir.url("data/train/c1/bomb.png"), png)
            #expect(png.count < 100)
            try refused(dir, ["train", "--data", "data", "--out", "out"],
                        "data/train/c1/bomb.png: PNG of 16384×16384 pixels is too large (at most 40 megapixels)")
        }
    }

    @Test func devicesFIFOsAndHugeFilesAreRefused() throws {
        try withTemporaryDirectory { dir in
            try makeImageFolder(dir.url("data"), classes: 2, perClass: 3)
            try dir.gen(["params.yaml": tinyParamsYAML(epochs: 1), "big.yaml": "train:\n" + String(repeating: "#", count: 2 << 20)])
            try Self.smallCheckpoint().write(to: dir.url("m.safetensors"))
            #expect(mkfifo(dir.url("fifo"), 0o644) == 0)
            // A sparse 5 GB file: nothing but its size is real.
            let fd = open(dir.url("huge.safetensors"), O_WRONLY | O_CREAT, 0o644)
            #expect(fd >= 0 && ftruncate(fd, 5_000_000_000) == 0)
            close(fd)
            let skip = ["fifo", "huge.safetensors", "data/c0/fifo.png"]
            try refused(dir, ["predict", "--model", "/dev/zero", "data/c0/img0.png"],
                        "/dev/zero: is a device, not a regular checkpoint file", skip: skip)
            try refused(dir, ["evaluate", "--model", "fifo", "--data", "data", "--out", "e.json"],
                        "fifo: is a FIFO, not a regular checkpoint file", skip: skip)
            try refused(dir, ["predict", "--model", "huge.safetensors", "data/c0/img0.png"],
                        "huge.safetensors: 4.7 GiB is too large for a checkpoint file (at most 4.0 GiB)", skip: skip)
            try refused(dir, ["predict", "--model", "m.safetensors", "data/c0/img0.png", "/dev/zero"],
                        "/dev/zero: is a device, not a regular image file", skip: skip)
            try refused(dir, ["predict", "--model", "m.safetensors", "fifo"],
                        "fifo: is a FIFO, not a regular image file", skip: skip)
            try refused(dir, ["train", "--params", "/dev/zero", "--data", "data", "--out", "out"],
                        "/dev/zero: is a device, not a regular params file", skip: skip)
            try refused(dir, ["train", "--params", "fifo", "--data", "data", "--out", "out"],
                        "fifo: is a FIFO, not a regular params file", skip: skip)
            try refused(dir, ["train", "--params", "big.yaml", "--data", "data", "--out", "out"],
                        "big.yaml: 2.0 MiB is too large for a params file (at most 1.0 MiB)", skip: skip)
            try makeImageFolder(dir.url("split"), classes: 2, perClass: 2, splits: ["train", "val"])
            #expect(mkfifo(dir.url("split/train/c0/fifo.png"), 0o644) == 0)
            try refused(dir, ["train", "--data", "split", "--out", "out"],
                        "split/train/c0/fifo.png: is a FIFO, not a regular image file", skip: skip + ["split/train/c0/fifo.png"])
        }
    }
}
