import MLVSupport
import Yams

/// An MD5 as DVC records it: 32 lowercase hex digits, and `.dir` for a folder, whose MD5 is that
/// of its JSON manifest object (see `DVCTree`).
struct DVCHash: Hashable, Sendable, CustomStringConvertible {
    var md5: String
    var isDirectory: Bool

    init?(_ text: String) {
        var s = Substring(text)
        isDirectory = s.hasSuffix(".dir")
        if isDirectory { s = s.dropLast(4) }
        guard s.utf8.count == 32, s.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) }) else { return nil }
        md5 = String(s)
    }

    var description: String { md5 + (isDirectory ? ".dir" : "") }

    /// The object's path below a cache or remote: `ab/cdef…[.dir]` (DVC 2's layout), found
    /// below `files/md5/` in DVC 3's.
    var objectName: String { String(md5.prefix(2)) + "/" + String(md5.dropFirst(2)) + (isDirectory ? ".dir" : "") }
}

/// One recorded file or folder of a `.dvc` file or a `dvc.lock` stage, its path resolved to the
/// workspace (DVC writes it relative to the file's folder, or the stage's `wdir`).
struct DVCEntry: Equatable, Sendable {
    var path: String
    /// nil: nothing recorded (`import-url --no-download`, a dep that was missing).
    var hash: DVCHash?
    var size: Int64?
    var fileCount: Int?
    /// No `hash: md5` line: DVC 2's MD5, which read text files with CRLF as LF.
    var legacy: Bool
    var cache = true
}

/// Where a `.dvc` file's data was imported from (`dvc import`, `dvc import-url`).
enum DVCOrigin: Equatable, Sendable {
    case repo(url: String, path: String, rev: String?, revLock: String)
    case url(String, etag: String?, size: Int64?)
}

/// A `*.dvc` file: its outs and, for an import, its source.
struct DVCPointer: Sendable {
    /// Workspace-relative path of the `.dvc` file.
    var file: String
    var outs: [DVCEntry]
    var origin: DVCOrigin?

    static let suffix = ".dvc"

    /// Parses a `.dvc` file's text (untrusted: every path must stay inside the workspace).
    static func parse(_ text: String, file: String) throws -> DVCPointer {
        guard let doc = try YAMLNode.parse(text, file: file), !doc.isNull else { throw MigrationError.invalidFile(file, "it is empty") }
        let top = try doc.mapping("a .dvc file")
        let folder = Path.parent(file)
        let wdir = try top.first { $0.key == "wdir" }.map { try $0.value.string("'wdir'") } ?? "."
        let base = try DVCPath.resolve(wdir, in: folder, file: file, allowRoot: true)
        guard let outsNode = top.first(where: { $0.key == "outs" })?.value else { throw doc.error("missing 'outs'") }
        let outs = try outsNode.sequence("'outs'").map { try DVCLock.entry($0, base: base, file: file) }
        var origin: DVCOrigin?
        if let depsNode = top.first(where: { $0.key == "deps" })?.value, !depsNode.isNull {
            let deps = try depsNode.sequence("'deps'")
            guard deps.count == 1 else { throw depsNode.error("an import has exactly one dep") }
            origin = try Self.origin(deps[0], folder: folder, file: file)
        }
        return DVCPointer(file: file, outs: outs, origin: origin)
    }

    static func origin(_ dep: YAMLNode, folder: String, file: String) throws -> DVCOrigin {
        let fields = try dep.mapping("a dep")
        func text(_ node: YAMLNode?, _ key: String) throws -> String? {
            guard let node, !node.isNull else { return nil }
            let s = try node.string("'\(key)'")
            guard !s.isEmpty, s.utf8.count <= 4096, !WorkspacePath.hasLineBreakOrNUL(s) else { throw node.error("'\(key)' must be one line of at most 4096 bytes") }
            return s
        }
        func field(_ key: String) -> YAMLNode? { fields.first { $0.key == key }?.value }
        guard let path = try text(field("path"), "path") else { throw dep.error("the dep has no 'path'") }
        if let repoNode = field("repo") {
            let repo = try repoNode.mapping("'repo'")
            func repoField(_ key: String) throws -> String? { try text(repo.first { $0.key == key }?.value, key) }
            guard let url = try repoField("url") else { throw repoNode.error("missing 'url'") }
            guard let lock = try repoField("rev_lock") else { throw repoNode.error("missing 'rev_lock'") }
            return .repo(url: url, path: path, rev: try repoField("rev"), revLock: lock)
        }
        let size = try field("size").map { try PointerFile.size($0) }
        let etag = try text(field("etag"), "etag")
        if path.contains("://") || path.hasPrefix("/") { return .url(path, etag: etag, size: size) }
        // A local file named relative to the .dvc file's folder: made workspace-relative here.
        return .url(Path.normalize(Path.join(folder, path)), etag: etag, size: size)
    }
}

/// `dvc.lock` (schema 2.0, DVC 2 and 3): per stage, the cmd, deps and outs with MD5s, and params.
struct DVCLock: Sendable {
    struct Stage: Sendable {
        var name: String
        var cmd: [String]
        var deps: [DVCEntry]
        /// Workspace-relative params file → (key → value).
        var params: [(file: String, values: [(key: String, value: ParamValue)])]
        var outs: [DVCEntry]
    }

    var stages: [Stage]

    /// `wdir`: each stage's working folder, workspace-relative (DVC writes lock paths relative to it).
    static func parse(_ text: String, file: String, wdir: (String) -> String) throws -> DVCLock {
        guard let doc = try YAMLNode.parse(text, file: file), !doc.isNull else { return DVCLock(stages: []) }
        try doc.checkExpandedSize()
        let top = try doc.mapping("dvc.lock")
        guard let schema = top.first(where: { $0.key == "schema" })?.value, try schema.string("'schema'") == "2.0" else {
            throw doc.error("only dvc.lock schema '2.0' (DVC 2 and 3) can be migrated", hint: "run `dvc repro` with DVC 2 or later once, to rewrite dvc.lock")
        }
        var stages: [Stage] = []
        guard let stagesNode = top.first(where: { $0.key == "stages" })?.value, !stagesNode.isNull else { return DVCLock(stages: []) }
        for (name, _, body) in try stagesNode.mapping("'stages'") {
            let fields = try body.mapping("stage '\(name)'")
            func field(_ key: String) -> YAMLNode? { fields.first { $0.key == key }?.value }
            let base = wdir(name)
            guard let cmdNode = field("cmd") else { throw body.error("stage '\(name)' has no 'cmd'") }
            let cmd = cmdNode.node.sequence != nil ? try cmdNode.sequence("'cmd'").map { try $0.string("a 'cmd' entry") } : [try cmdNode.string("'cmd'")]
            var params: [(file: String, values: [(key: String, value: ParamValue)])] = []
            if let p = field("params"), !p.isNull {
                for (f, fNode, values) in try p.mapping("'params'") {
                    let path = try DVCPath.resolve(f, in: base, file: file, at: fNode)
                    params.append((path, try values.mapping("the params of '\(f)'").map { (key: $0.key, value: try ParamValue.from($0.value)) }))
                }
            }
            func list(_ key: String) throws -> [DVCEntry] {
                guard let node = field(key), !node.isNull else { return [] }
                return try node.sequence("'\(key)'").map { try entry($0, base: base, file: file) }
            }
            stages.append(Stage(name: name, cmd: cmd, deps: try list("deps"), params: params, outs: try list("outs")))
        }
        return DVCLock(stages: stages)
    }

    /// One `outs`/`deps` entry: `path`, `md5` (or none), `size`, `nfiles`, `hash: md5`, `cache`.
    static func entry(_ node: YAMLNode, base: String, file: String) throws -> DVCEntry {
        let fields = try node.mapping("an entry")
        func field(_ key: String) -> YAMLNode? { fields.first { $0.key == key }?.value }
        guard let pathNode = field("path") else { throw node.error("missing 'path'") }
        let path = try DVCPath.resolve(try pathNode.string("'path'"), in: base, file: file, at: pathNode)
        var hash: DVCHash?
        if let md5Node = field("md5"), !md5Node.isNull {
            let text = try md5Node.string("'md5'")
            guard let h = DVCHash(text) else { throw md5Node.error("'\(text)' is not an MD5 (32 lowercase hex digits, '.dir' for a folder)") }
            hash = h
        }
        let algorithm = try field("hash").map { try $0.string("'hash'") }
        if let algorithm, algorithm != "md5" { throw node.error("hash '\(algorithm)' cannot be migrated (only md5)") }
        return DVCEntry(path: path, hash: hash,
                        size: try field("size").map { try PointerFile.size($0) },
                        fileCount: try field("nfiles").map { try PointerFile.fileCount($0) },
                        legacy: algorithm == nil,
                        cache: try field("cache").map { try $0.bool("'cache'") } ?? true)
    }
}

/// Paths in DVC's files, resolved to the workspace: relative to a folder, never absolute, never
/// leaving the workspace, never into `.git`, `.mlv` or `.dvc`.
enum DVCPath {
    /// The folders above `path` that exist must resolve, symbolic links followed, inside `root`
    /// (absolute and symlink-free) and outside `.git`, `.mlv` and `.dvc`: mlv writes there.
    static func checkNoSymlinkEscape(_ path: String, root: String, file: String) throws {
        var dir = Path.parent(path)
        while dir != "." && !FS.exists(Path.join(root, dir)) { dir = Path.parent(dir) }
        guard dir != "." else { return }
        guard let real = FS.realPath(Path.join(root, dir)), let inside = Path.relative(real, to: root),
              !inside.split(separator: "/").contains(where: { $0 == ".dvc" || WorkspacePath.isProtected($0) })
        else { throw MigrationError.symlinkEscape(file: file, path: path) }
    }

    static func resolve(_ raw: String, in folder: String, file: String, at node: YAMLNode? = nil, allowRoot: Bool = false) throws -> String {
        var parts: [Substring] = folder == "." ? [] : folder.split(separator: "/")
        var escapes = raw.hasPrefix("/") || raw.isEmpty || WorkspacePath.hasLineBreakOrNUL(raw)
        for c in raw.split(separator: "/") where c != "." {
            if c == ".." {
                if parts.popLast() == nil { escapes = true }
            } else {
                parts.append(c)
            }
        }
        let path = parts.isEmpty ? "." : parts.joined(separator: "/")
        if path == "." && allowRoot && !escapes { return path }
        let protected = parts.first { $0 == ".dvc" || WorkspacePath.isProtected($0) }
        if escapes || path == "." || protected != nil || (try? WorkspacePath(validating: path)) == nil {
            throw MigrationError.unsafePath(file: file, path: raw, line: node?.line)
        }
        return path
    }
}
