import MLVSupport

/// An image-folder dataset: `DIR/<class>/*.png`, split by seed into train/val/test, or
/// `DIR/{train,val,test}/<class>/*.png` split by its folders. Classes are the folder names in
/// byte order; their index is the label.
package struct ImageFolder: Sendable {
    package struct Item: Equatable, Sendable {
        package var path: String
        package var label: Int32
    }

    package enum Split: String, CaseIterable, Sendable { case train, val, test }

    package var root: String
    package var classNames: [String]
    /// True when the split comes from train/val/test folders, false when drawn by seed.
    package var hasSplitFolders: Bool
    package var splits: [Split: [Item]]

    package func items(_ split: Split) -> [Item] { splits[split] ?? [] }

    /// Of each class's files (sorted by name, then shuffled by `seed`): the first tenth goes to
    /// val, the next tenth to test, the rest to train; a class of 2 images gives one to val, of 3
    /// one to val and one to test.
    package static let splitRule = "per class, shuffled by seed: 10% val, 10% test, 80% train"

    package static func scan(_ root: String, seed: Int) throws -> ImageFolder {
        guard FS.isDirectory(root) else {
            throw EngineError("\(root): no such data folder", hint: "pass a folder of class folders of PNG images")
        }
        let top = try visibleEntries(root)
        let splitNames = Set(Split.allCases.map(\.rawValue))
        if top.contains(where: { $0 == "train" }) && top.allSatisfy({ splitNames.contains($0) }) {
            let classes = try classFolders(Path.join(root, "train"))
            var splits: [Split: [Item]] = [:]
            for split in Split.allCases where top.contains(split.rawValue) {
                let dir = Path.join(root, split.rawValue)
                var items: [Item] = []
                for name in try classFolders(dir) {
                    guard let label = classes.firstIndex(of: name) else {
                        throw EngineError("\(Path.join(dir, name)): class '\(name)' is not in \(Path.join(root, "train"))",
                                          hint: "every split must use the training classes")
                    }
                    items += try pngFiles(Path.join(dir, name)).map { Item(path: $0, label: Int32(label)) }
                }
                splits[split] = items
            }
            return ImageFolder(root: root, classNames: classes, hasSplitFolders: true, splits: splits)
        }
        let classes = try classFolders(root)
        var splits: [Split: [Item]] = [.train: [], .val: [], .test: []]
        var rng = SplitMix64(seed: UInt64(seed) ^ 0x5EED_0F_5B11_7000)
        for (label, name) in classes.enumerated() {
            var files = try pngFiles(Path.join(root, name)).map { Item(path: $0, label: Int32(label)) }
            rng.shuffle(&files)
            let n = files.count
            let nVal = n >= 2 ? max(1, n / 10) : 0
            let nTest = n >= 3 ? max(1, n / 10) : 0
            splits[.val]! += files[0..<nVal]
            splits[.test]! += files[nVal..<(nVal + nTest)]
            splits[.train]! += files[(nVal + nTest)...]
        }
        return ImageFolder(root: root, classNames: classes, hasSplitFolders: false, splits: splits)
    }

    /// Non-hidden entries of a folder, sorted by bytes. A name that is not valid UTF-8 is an
    /// error naming it (its bytes as \xNN), not a file that then cannot be found.
    static func visibleEntries(_ dir: String) throws -> [String] {
        var names: [String] = []
        for raw in try FS.rawNames(dir) where raw.first != UInt8(ascii: ".") {
            guard let name = String(validating: raw, as: UTF8.self) else {
                throw EngineError("\(Path.join(dir, DirectoryWalker.InvalidName.escaped(raw))): the name is not valid UTF-8",
                                  hint: "rename it (mlv records names as UTF-8 text)")
            }
            names.append(name)
        }
        return names.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
    }

    /// The class folders of `dir`: every visible entry must be a folder.
    static func classFolders(_ dir: String) throws -> [String] {
        let names = try visibleEntries(dir)
        for name in names where !FS.isDirectory(Path.join(dir, name)) {
            throw EngineError("\(Path.join(dir, name)): expected a class folder, found a file",
                              hint: "lay the data out as DIR/<class>/*.png or DIR/{train,val,test}/<class>/*.png")
        }
        if names.count < 2 {
            throw EngineError("\(dir): found \(names.count) class folder\(names.count == 1 ? "" : "s"), need at least 2",
                              hint: "lay the data out as DIR/<class>/*.png or DIR/{train,val,test}/<class>/*.png")
        }
        return names
    }

    /// The PNG files of one class folder; anything else in it is an error naming the file.
    static func pngFiles(_ dir: String) throws -> [String] {
        let names = try visibleEntries(dir)
        for name in names where !name.lowercased().hasSuffix(".png") || FS.isDirectory(Path.join(dir, name)) {
            throw EngineError("\(Path.join(dir, name)): not a PNG file", hint: "class folders may only hold .png images")
        }
        if names.isEmpty {
            throw EngineError("\(dir): empty class folder", hint: "add PNG images to it or remove it")
        }
        return names.map { Path.join(dir, $0) }
    }
}
