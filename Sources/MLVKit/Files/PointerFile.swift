import MLVSupport
import Yams

/// `PATH.mlv`: what `mlv add` recorded for PATH (a file or a directory).
///
///     outs:
///     - path: images
///       hash: sha256
///       sha256: 3f2a…e1.dir
///       size: 1048576
///       nfiles: 120
///
/// The record is a `ContentRecord` (its path relative to the pointer file's folder); this file
/// holds its pointer-file format.
package typealias PointerFile = ContentRecord

extension PointerFile {
    package static let suffix = ".mlv"
    /// The largest size a pointer or manifest entry may state (1 PiB): sums of many stay far from overflow.
    package static let maxSize: Int64 = 1 << 50
    package static let maxFileCount = 1 << 32

    /// `origin`: where imported data came from (see DataOrigin).
    package func serialized(origin: DataOrigin? = nil) throws -> String {
        var pairs: [(Node, Node)] = [
            ("path", Node(path)),
            ("hash", "sha256"),
            ("sha256", Node(hash.description)),
            ("size", Node(String(size), Tag(.int))),
        ]
        if let fileCount { pairs.append(("nfiles", Node(String(fileCount), Tag(.int)))) }
        let out = Node(pairs, Tag(.map), .block)
        let outs = Node([out], Tag(.seq), .block)
        var top: [(Node, Node)] = [(Node("outs"), outs)]
        if let origin { top.append(("source", origin.node)) }
        let root = Node(top, Tag(.map), .block)
        return try YAMLText.serialize(root)
    }

    /// A pointer of `import-url --no-download`: a source and no data yet (`mlv update` fetches it).
    struct PendingImport: Error {
        var source: URLSource
    }

    /// The pointer of an `import-url --no-download`: the source only.
    static func serializedPending(_ source: URLSource) throws -> String {
        try YAMLText.serialize(Node([(Node("source"), source.node)], Tag(.map), .block))
    }

    /// Parses and validates a pointer file's text; `file` names it in errors (file:line:col).
    package static func parse(_ text: String, file: String) throws -> PointerFile { try parseWithSource(text, file: file).record }

    /// The record and, for imported data, where it came from.
    package static func parseWithSource(_ text: String, file: String) throws -> (record: PointerFile, origin: DataOrigin?) {
        guard let doc = try YAMLNode.parse(text, file: file) else {
            throw YAMLError(file: file, line: 1, column: 1, problem: "empty pointer file", hint: "restore it with `git checkout -- \(file)`")
        }
        let top = try doc.mapping("a pointer file")
        try doc.checkKeys(top, allowed: ["outs", "source"], in: "a pointer file")
        guard let outsNode = top.first(where: { $0.key == "outs" })?.value else {
            // `import-url --no-download`: the source is recorded, the data not fetched yet.
            if let node = top.first(where: { $0.key == "source" })?.value, case .url(let s) = try DataOrigin.parse(node, file: file) {
                throw PendingImport(source: s)
            }
            throw doc.error("missing 'outs'")
        }
        let outs = try outsNode.sequence("'outs'")
        guard outs.count == 1 else { throw outsNode.error("'outs' must hold exactly one entry") }
        let out = outs[0]
        let fields = try out.mapping("an 'outs' entry")
        try out.checkKeys(fields, allowed: ["path", "hash", "sha256", "size", "nfiles"], in: "an 'outs' entry")
        func field(_ name: String) throws -> YAMLNode {
            guard let v = fields.first(where: { $0.key == name })?.value else { throw out.error("missing '\(name)'") }
            return v
        }
        let pathNode = try field("path")
        let path = try pathNode.string("'path'")
        do {
            _ = try WorkspacePath(validating: path)
        } catch .protected(let part) {
            throw pathNode.error("path '\(path)' reaches '\(part)', which mlv never writes", hint: WorkspaceError.protectedHint)
        } catch {
            throw pathNode.error("path '\(path)' escapes the workspace", hint: "a pointer's path must be relative to its folder, without '..'")
        }
        if let algo = fields.first(where: { $0.key == "hash" })?.value {
            guard try algo.string("'hash'") == "sha256" else { throw algo.error("unsupported hash algorithm '\(try algo.string("'hash'"))' (only sha256)") }
        }
        let hashNode = try field("sha256")
        let hashText = try hashNode.string("'sha256'")
        guard let hash = ContentHash(string: hashText) else {
            throw hashNode.error("'\(hashText)' is not a SHA-256 hash (64 lowercase hex digits, '.dir' for a directory)")
        }
        let size = try Self.size(try field("size"))
        let count = try fields.first(where: { $0.key == "nfiles" }).map { try Self.fileCount($0.value) }
        let source = try top.first(where: { $0.key == "source" }).map { try DataOrigin.parse($0.value, file: file) }
        return (PointerFile(path: path, hash: hash, size: size, fileCount: count), source)
    }

    /// A recorded size (pointers and `pipeline.lock` alike): from 0 to 1 PiB.
    static func size(_ node: YAMLNode) throws -> Int64 {
        let size = try node.int("'size'")
        guard size >= 0 else { throw node.error("'size' must not be negative") }
        guard Int64(size) <= maxSize else { throw node.error("'size' \(size) is larger than mlv supports (1 PiB)") }
        return Int64(size)
    }

    /// A recorded file count of a folder: from 0 to 2^32.
    static func fileCount(_ node: YAMLNode) throws -> Int {
        let count = try node.int("'nfiles'")
        guard count >= 0 else { throw node.error("'nfiles' must not be negative") }
        guard count <= maxFileCount else { throw node.error("'nfiles' \(count) is larger than mlv supports (2^32)") }
        return count
    }
}
