import MLVSupport

/// Every path below a folder with its kind, mode, size, mtime and content hash: two equal
/// snapshots mean nothing on disk changed.
package struct TreeSnapshot: Equatable, CustomStringConvertible {
    package var entries: [String: String]

    /// `excluding`: relative paths (and everything below them) left out, e.g. caches.
    package static func take(_ root: String, excluding: [String] = [".mlv/tmp", ".mlv/lock"]) throws -> TreeSnapshot {
        var entries: [String: String] = [:]
        func visit(_ rel: String) throws {
            let abs = rel.isEmpty ? root : root + "/" + rel
            for e in try FS.list(abs) {
                let r = rel.isEmpty ? e.name : rel + "/" + e.name
                if excluding.contains(r) { continue }
                guard let st = try FS.status(root + "/" + r) else { continue }
                switch st.kind {
                case .directory:
                    entries[r] = "dir \(String(st.mode, radix: 8))"
                    try visit(r)
                case .symlink:
                    entries[r] = "link -> \(try FS.readLink(root + "/" + r))"
                case .other:
                    entries[r] = "other \(String(st.mode, radix: 8))"   // a FIFO or device: never read
                default:
                    let bytes = try FS.readFile(root + "/" + r)
                    entries[r] = "file \(String(st.mode, radix: 8)) \(st.size) \(st.mtimeNs) \(SHA256Hasher.hex(bytes))"
                }
            }
        }
        try visit("")
        return TreeSnapshot(entries: entries)
    }

    package var description: String { entries.keys.sorted().map { "\($0): \(entries[$0]!)" }.joined(separator: "\n") }

    /// The paths that differ, for test messages.
    package func difference(_ other: TreeSnapshot) -> [String] {
        Set(entries.keys).union(other.entries.keys).filter { entries[$0] != other.entries[$0] }.sorted()
    }
}
