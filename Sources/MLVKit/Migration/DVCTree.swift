import Foundation
import MLVSupport

/// DVC's folder manifest (`….dir` object): a JSON list of the folder's files, sorted by path,
///
///     [{"md5": "d3b07384d113edec49eaa6238ad5ff00", "relpath": "a/b.txt"}, …]
///
/// written by Python's `json.dumps(entries, sort_keys=True)`; the folder's MD5 is that of these
/// bytes. Untrusted input: every path is checked, duplicates and file/folder clashes refused.
struct DVCTree: Equatable, Sendable {
    struct Entry: Equatable, Sendable {
        var path: String
        var md5: String
    }

    var entries: [Entry]

    /// The largest manifest read (as `ObjectCache.manifestLimit` for mlv's own).
    static let sizeLimit = Int(ObjectCache.manifestLimit)

    static func parse(_ bytes: [UInt8], source: String) throws -> DVCTree {
        func invalid(_ reason: String) -> MigrationError { .invalidManifest(source, reason) }
        /// One entry as DVC writes it (other keys, such as DVC 2's `size`, are ignored).
        struct Raw: Decodable {
            var md5: String
            var relpath: String
        }
        let list: [Raw]
        do {
            list = try JSONDecoder().decode([Raw].self, from: Data(bytes))
        } catch DecodingError.typeMismatch(_, let context) where context.codingPath.isEmpty {
            throw invalid("it is not a JSON list")
        } catch DecodingError.dataCorrupted(let context) where context.codingPath.isEmpty {
            throw invalid("it is not valid JSON")
        } catch {
            throw invalid("an entry is not {\"md5\": …, \"relpath\": …}")
        }
        var entries: [Entry] = []
        entries.reserveCapacity(list.count)
        var seen = Set<String>()
        seen.reserveCapacity(list.count)
        for item in list {
            guard let hash = DVCHash(item.md5), !hash.isDirectory else { throw invalid("'\(item.md5)' is not an MD5") }
            guard (try? WorkspacePath(validating: item.relpath)) != nil else { throw invalid("unsafe path '\(WorkspacePath.escapingLineBreaks(item.relpath))'") }
            guard seen.insert(item.relpath).inserted else { throw invalid("duplicate path '\(item.relpath)'") }
            entries.append(Entry(path: item.relpath, md5: item.md5))
        }
        for e in entries {
            var p = Substring(e.path)
            while let slash = p.lastIndex(of: "/") {
                p = p[..<slash]
                if seen.contains(String(p)) { throw invalid("'\(p)' is both a file and a folder") }
            }
        }
        return DVCTree(entries: entries)
    }

    /// The bytes DVC writes for these entries (Python's `json.dumps(…, sort_keys=True)`:
    /// sorted by path, `", "` and `": "` separators, everything outside printable ASCII escaped).
    func serialized() -> [UInt8] {
        let sorted = entries.sorted { $0.path.unicodeScalars.lexicographicallyPrecedes($1.path.unicodeScalars) }
        var out = "["
        for (i, e) in sorted.enumerated() {
            if i > 0 { out += ", " }
            out += "{\"md5\": \"\(e.md5)\", \"relpath\": " + Self.pythonString(e.path) + "}"
        }
        return Array((out + "]").utf8)
    }

    /// A JSON string as Python's `json.dumps` (ensure_ascii) writes it; this compatibility is
    /// why DVC's manifests are not written with `JSONText`.
    static func pythonString(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            case " "..."~": out.unicodeScalars.append(u)
            default:
                for unit in String(u).utf16 {
                    let hex = String(unit, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                }
            }
        }
        return out + "\""
    }
}
