import MLVSupport
import Yams

/// Where imported data came from (`mlv import`): another repository, the path there, the
/// revision asked for (nil: its default branch) and the commit that resolved to. Kept in the
/// pointer file beside `outs`; `mlv update` moves it, `add` and `commit` leave it alone:
///
///     source:
///       repo: https://example.com/registry.git
///       path: data/images
///       rev: v1.0
///       rev_lock: 0123abcd…(40 hex digits)
package struct ImportSource: Equatable, Sendable {
    package var repo: String
    package var path: String
    package var rev: String?
    package var revLock: String

    package init(repo: String, path: String, rev: String?, revLock: String) {
        self.repo = repo
        self.path = path
        self.rev = rev
        self.revLock = revLock
    }

    /// A pointer's `source` node, validated.
    static func parse(_ node: YAMLNode, file: String) throws -> ImportSource {
        let fields = try node.mapping("'source'")
        try node.checkKeys(fields, allowed: ["repo", "path", "rev", "rev_lock"], in: "'source'")
        func text(_ key: String, required: Bool = true) throws -> String? {
            guard let v = fields.first(where: { $0.key == key })?.value else {
                if required { throw node.error("missing '\(key)'") }
                return nil
            }
            let s = try v.string("'\(key)'")
            guard !s.isEmpty, s.utf8.count <= 4096, !WorkspacePath.hasLineBreakOrNUL(s) else {
                throw v.error("'\(key)' must be one line of at most 4096 bytes")
            }
            return s
        }
        let path = try text("path")!
        guard (try? WorkspacePath(validating: path)) != nil else {
            throw node.error("source path '\(path)' escapes its repository", hint: "restore the pointer with `git checkout -- \(file)`")
        }
        let lock = try text("rev_lock")!
        guard lock.utf8.count == 40, lock.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) }) else {
            throw node.error("'rev_lock' must be a commit id (40 lowercase hex digits)")
        }
        return ImportSource(repo: try text("repo")!, path: path, rev: try text("rev", required: false), revLock: lock)
    }

    var node: Node {
        var pairs: [(Node, Node)] = [("repo", Node(repo)), ("path", Node(path))]
        if let rev { pairs.append(("rev", Node(rev))) }
        pairs.append(("rev_lock", Node(revLock)))
        return Node(pairs, Tag(.map), .block)
    }
}

/// Where `mlv import-url` data came from: a URL (`s3://bucket/key`, `http(s)://…`, or a local
/// file), and what the source said of the version fetched (ETag and Last-Modified when it gave
/// them, and the size), so `mlv update` downloads again only when the source changed:
///
///     source:
///       url: s3://datasets/raw/train.csv
///       etag: '"9b2cf535f27731c974343645a3985328"'
///       last_modified: Tue, 01 Dec 2026 10:00:00 GMT
///       size: 5242880
package struct URLSource: Equatable, Sendable {
    package var url: String
    package var etag: String?
    package var lastModified: String?
    package var size: Int64

    package init(url: String, etag: String?, lastModified: String?, size: Int64) {
        self.url = url
        self.etag = etag
        self.lastModified = lastModified
        self.size = size
    }

    /// The same version of the source: its ETag when both have one, else Last-Modified and size.
    func isSameVersion(as other: URLSource) -> Bool {
        if let a = etag, let b = other.etag { return a == b && size == other.size }
        return lastModified == other.lastModified && size == other.size
    }

    static func parse(_ node: YAMLNode, file: String) throws -> URLSource {
        let fields = try node.mapping("'source'")
        try node.checkKeys(fields, allowed: ["url", "etag", "last_modified", "size"], in: "'source'")
        func text(_ key: String) throws -> String? {
            guard let v = fields.first(where: { $0.key == key })?.value else { return nil }
            let s = try v.string("'\(key)'")
            guard !s.isEmpty, s.utf8.count <= 4096, !WorkspacePath.hasLineBreakOrNUL(s) else { throw v.error("'\(key)' must be one line of at most 4096 bytes") }
            return s
        }
        guard let url = try text("url") else { throw node.error("missing 'url'") }
        guard let sizeNode = fields.first(where: { $0.key == "size" })?.value else { throw node.error("missing 'size'") }
        return URLSource(url: url, etag: try text("etag"), lastModified: try text("last_modified"), size: try PointerFile.size(sizeNode))
    }

    var node: Node {
        var pairs: [(Node, Node)] = [("url", Node(url))]
        if let etag { pairs.append(("etag", Node(etag))) }
        if let lastModified { pairs.append(("last_modified", Node(lastModified))) }
        pairs.append(("size", Node(String(size), Tag(.int))))
        return Node(pairs, Tag(.map), .block)
    }
}

/// Where imported data came from: another repository (`mlv import`) or a URL (`mlv import-url`).
package enum DataOrigin: Equatable, Sendable {
    case repo(ImportSource)
    case url(URLSource)

    static func parse(_ node: YAMLNode, file: String) throws -> DataOrigin {
        let fields = try node.mapping("'source'")
        if fields.contains(where: { $0.key == "url" }) { return .url(try URLSource.parse(node, file: file)) }
        return .repo(try ImportSource.parse(node, file: file))
    }

    var node: Node {
        switch self {
        case .repo(let s): return s.node
        case .url(let s): return s.node
        }
    }

    /// For messages: where it came from.
    package var shown: String {
        switch self {
        case .repo(let s): return "\(s.repo) (\(s.path))"
        case .url(let s): return s.url
        }
    }
}
