import MLVSupport

/// What an image-folder dataset is expected to look like: the `validate:` section of a params
/// file (as Great Expectations does for tables). Every key is optional; a missing one is not checked.
///
///     validate:
///       min_images_per_class: 500     # over all splits
///       max_images_per_class: 5000
///       max_class_imbalance: 1.5      # largest class / smallest class
///       image_size: 64                # or [width, height]
///       channels: 1                   # 1 (gray) or 3 (colour)
///       require_splits: true          # DIR/{train,val,test}/<class>/ must exist
///       max_unreadable: 0             # files that are not decodable PNGs
package struct DatasetExpectations: Equatable, Sendable {
    package var minImagesPerClass: Int?
    package var maxImagesPerClass: Int?
    package var maxClassImbalance: Double?
    package var imageWidth: Int?
    package var imageHeight: Int?
    package var channels: Int?
    package var requireSplits = false
    package var maxUnreadable = 0

    package init() {}

    static let keys = ["min_images_per_class", "max_images_per_class", "max_class_imbalance", "image_size", "channels",
                       "require_splits", "max_unreadable"]

    /// Reads the `validate:` section of a params file (YAML); errors name file:line:column.
    package static func load(path: String) throws -> DatasetExpectations {
        let text = try UntrustedFile.readText(path, shownAs: path, what: "a params file")
        guard let doc = try YAMLNode.parse(text, file: path), !doc.isNull else {
            throw EngineError("\(path): empty params file", hint: "put the expectations under a top-level `validate:` key")
        }
        let top = try doc.mapping("a params file")
        guard let section = top.first(where: { $0.key == "validate" })?.value else {
            throw EngineError("\(path): no `validate:` section", hint: "put the expectations under a top-level `validate:` key")
        }
        let entries = try section.mapping("'validate'")
        try section.checkKeys(entries, allowed: keys, in: "'validate'")
        var e = DatasetExpectations()
        func count(_ node: YAMLNode, _ name: String, max: Int = 10_000_000) throws -> Int {
            let v = try node.int("'\(name)'")
            guard v >= 0, v <= max else { throw node.error("'\(name)' must be from 0 to \(max)") }
            return v
        }
        for (key, _, value) in entries {
            switch key {
            case "min_images_per_class": e.minImagesPerClass = try count(value, key)
            case "max_images_per_class": e.maxImagesPerClass = try count(value, key)
            case "max_unreadable": e.maxUnreadable = try count(value, key)
            case "max_class_imbalance":
                let v = try value.double("'\(key)'")
                guard v.isFinite, v >= 1 else { throw value.error("'\(key)' must be a number ≥ 1 (largest class / smallest class)") }
                e.maxClassImbalance = v
            case "image_size":
                if let list = value.node.sequence {
                    guard list.count == 2 else { throw value.error("'image_size' must be one number or [width, height]") }
                    let items = try value.sequence("'image_size'")
                    e.imageWidth = try count(items[0], key, max: 65536)
                    e.imageHeight = try count(items[1], key, max: 65536)
                } else {
                    let side = try count(value, key, max: 65536)
                    (e.imageWidth, e.imageHeight) = (side, side)
                }
            case "channels":
                let c = try value.int("'channels'")
                guard c == 1 || c == 3 else { throw value.error("'channels' must be 1 (gray) or 3 (colour)") }
                e.channels = c
            default: e.requireSplits = try value.bool("'require_splits'")
            }
        }
        if let lo = e.minImagesPerClass, let hi = e.maxImagesPerClass, lo > hi {
            throw EngineError("\(path): validate: min_images_per_class (\(lo)) is above max_images_per_class (\(hi))")
        }
        return e
    }
}

/// The outcome of `mlv validate`: one line per expectation, a report with no timing in it (so a
/// pipeline can track it), and per class and split the image counts.
package struct ValidationReport: Sendable {
    package struct Check: Sendable {
        package var name: String
        package var expected: String
        package var observed: String
        package var passed: Bool
    }

    package var data: String
    package var classNames: [String]
    /// Per class: images in each split present ("all" when the dataset has no split folders).
    package var counts: [(split: String, perClass: [Int])]
    package var checks: [Check]

    package var failed: [Check] { checks.filter { !$0.passed } }

    package var table: String {
        let width = max(12, checks.map(\.name.count).max() ?? 0)
        var out = "Dataset \(data): \(classNames.count) classes, \(counts.map { "\($0.perClass.reduce(0, +)) \($0.split)" }.joined(separator: ", "))\n"
        for c in checks {
            let pad = String(repeating: " ", count: width - c.name.count)
            out += "  \(c.passed ? "ok  " : "FAIL")  \(c.name)\(pad)  expected \(c.expected), found \(c.observed)\n"
        }
        out += failed.isEmpty ? "All \(checks.count) expectations met.\n" : "\(failed.count) of \(checks.count) expectations failed.\n"
        return out
    }

    package var json: String {
        let countsJSON = JSONText.object(counts.map { split in
            (split.split, JSONText.object(zip(classNames, split.perClass).map { ($0, "\($1)") }))
        }, indent: 4)
        let checksJSON = "[\n" + checks.map { c in
            "    " + JSONText.object([("name", JSONText.string(c.name)), ("passed", c.passed ? "true" : "false"),
                                 ("expected", JSONText.string(c.expected)), ("observed", JSONText.string(c.observed))])
        }.joined(separator: ",\n") + "\n  ]"
        return JSONText.object([
            ("passed", failed.isEmpty ? "true" : "false"),
            ("classes", JSONText.array(classNames.map(JSONText.string))),
            ("counts", countsJSON.replacingOccurrences(of: "\n}", with: "\n  }")),
            ("checks", checksJSON),
        ], indent: 2) + "\n"
    }
}

/// `mlv validate`: checks an image-folder dataset against `DatasetExpectations`.
package enum DatasetValidator {
    /// The largest image decoded (pixels), as training's; larger ones count as unreadable. Files
    /// are read as training reads them (EngineFile.readImage: symlinks followed, the same size cap).
    static let maxPixels = PNGImage.maxPixels

    package static func validate(data: String, expectations e: DatasetExpectations, threads: Int) throws -> ValidationReport {
        let folder = try ImageFolder.scan(data, seed: 0)
        let splitNames: [ImageFolder.Split] = folder.hasSplitFolders ? ImageFolder.Split.allCases.filter { folder.splits[$0] != nil } : [.train, .val, .test]
        var items: [(split: String, item: ImageFolder.Item)] = []
        for s in splitNames { items += folder.items(s).map { (folder.hasSplitFolders ? s.rawValue : "all", $0) } }

        // Read and decode every image in parallel: its content hash, size and channels, or why not.
        struct Seen { var hash = ""; var width = 0; var height = 0; var channels = 0; var problem: String? }
        var seen = [Seen](repeating: Seen(), count: items.count)
        let lock = Lock()
        try Parallel.forEach(count: items.count, workers: max(1, threads), makeContext: { () }) { i, _ in
            var s = Seen()
            do {
                let bytes = try EngineFile.readImage(items[i].item.path)
                s.hash = SHA256Hasher.hex(bytes)
                if let (w, h) = pngDimensions(bytes), w * h > maxPixels {
                    s.problem = "\(w)×\(h) pixels, above \(maxPixels)"
                } else {
                    let image = try PNGImage.decode(bytes, path: items[i].item.path)
                    (s.width, s.height, s.channels) = (image.width, image.height, image.channels)
                }
            } catch let error as UserFacingError {
                s.problem = error.message
            }
            lock.lock(); seen[i] = s; lock.unlock()
        }

        var checks: [ValidationReport.Check] = []
        func check(_ name: String, _ expected: String, _ observed: String, _ passed: Bool) {
            checks.append(.init(name: name, expected: expected, observed: observed, passed: passed))
        }
        var perClass = [Int](repeating: 0, count: folder.classNames.count)
        for (_, item) in items { perClass[Int(item.label)] += 1 }
        let named = { (n: Int) in folder.classNames[n] }
        if let lo = e.minImagesPerClass {
            let low = perClass.indices.filter { perClass[$0] < lo }
            check("min images per class", "≥ \(lo)", low.isEmpty ? "smallest \(perClass.min() ?? 0)" : low.map { "\(named($0)): \(perClass[$0])" }.joined(separator: ", "), low.isEmpty)
        }
        if let hi = e.maxImagesPerClass {
            let high = perClass.indices.filter { perClass[$0] > hi }
            check("max images per class", "≤ \(hi)", high.isEmpty ? "largest \(perClass.max() ?? 0)" : high.map { "\(named($0)): \(perClass[$0])" }.joined(separator: ", "), high.isEmpty)
        }
        if let ratio = e.maxClassImbalance, let lo = perClass.min(), let hi = perClass.max() {
            let observed = lo == 0 ? Double.infinity : Double(hi) / Double(lo)
            check("class balance", "largest/smallest ≤ \(ratio)", lo == 0 ? "an empty class" : "\(hi)/\(lo) = \((observed * 100).rounded() / 100)", observed <= ratio)
        }
        if e.requireSplits {
            check("split folders", "train, val and test", folder.hasSplitFolders ? splitNames.map(\.rawValue).joined(separator: ", ") : "none (DIR/<class>/ only)",
                  folder.hasSplitFolders && splitNames.count == 3)
        }
        let unreadable = items.indices.filter { seen[$0].problem != nil }
        check("unreadable files", "≤ \(e.maxUnreadable)",
              unreadable.isEmpty ? "0" : "\(unreadable.count) (\(unreadable.prefix(3).map { "\(items[$0].item.path): \(seen[$0].problem!)" }.joined(separator: "; ")))",
              unreadable.count <= e.maxUnreadable)
        let readable = items.indices.filter { seen[$0].problem == nil }
        if let w = e.imageWidth, let h = e.imageHeight {
            let off = readable.filter { seen[$0].width != w || seen[$0].height != h }
            check("image size", "\(w)×\(h)", off.isEmpty ? "all \(w)×\(h)" : "\(off.count) differ, e.g. \(items[off[0]].item.path): \(seen[off[0]].width)×\(seen[off[0]].height)", off.isEmpty)
        }
        if let c = e.channels {
            let off = readable.filter { seen[$0].channels != c }
            check("channels", "\(c)", off.isEmpty ? "all \(c)" : "\(off.count) differ, e.g. \(items[off[0]].item.path): \(seen[off[0]].channels)", off.isEmpty)
        }
        // Identical files: a lookup by content hash. Across splits it is train/test leakage;
        // across classes, one image with two labels.
        var byHash: [String: [Int]] = [:]
        for i in readable { byHash[seen[i].hash, default: []].append(i) }
        let groups = byHash.values.filter { $0.count > 1 }.map { $0.sorted() }.sorted { $0[0] < $1[0] }
        if folder.hasSplitFolders {
            let leaks = groups.filter { Set($0.map { items[$0].split }).count > 1 }
            check("identical files across splits", "none", leaks.isEmpty ? "none" : "\(leaks.count), e.g. " + leaks[0].map { items[$0].item.path }.joined(separator: " = "), leaks.isEmpty)
        }
        let conflicts = groups.filter { Set($0.map { items[$0].item.label }).count > 1 }
        check("identical files across classes", "none", conflicts.isEmpty ? "none" : "\(conflicts.count), e.g. " + conflicts[0].map { items[$0].item.path }.joined(separator: " = "), conflicts.isEmpty)

        let counts: [(String, [Int])] = (folder.hasSplitFolders ? splitNames.map(\.rawValue) : ["all"]).map { split in
            var n = [Int](repeating: 0, count: folder.classNames.count)
            for (s, item) in items where s == split { n[Int(item.label)] += 1 }
            return (split, n)
        }
        return ValidationReport(data: data, classNames: folder.classNames, counts: counts, checks: checks)
    }

    /// Width and height from a PNG's IHDR chunk, read before anything is allocated for pixels.
    static func pngDimensions(_ bytes: [UInt8]) -> (Int, Int)? {
        guard bytes.count >= 24, bytes[12...15].elementsEqual(Array("IHDR".utf8)) else { return nil }
        func be(_ at: Int) -> Int { bytes[at..<(at + 4)].reduce(0) { $0 << 8 | Int($1) } }
        return (be(16), be(20))
    }
}

extension String {
    fileprivate func replacingOccurrences(of a: String, with b: String) -> String {
        var out = "", rest = Substring(self)
        while let r = rest.range(of: a) { out += rest[..<r.lowerBound] + b; rest = rest[r.upperBound...] }
        return out + rest
    }
}
