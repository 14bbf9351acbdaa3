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
