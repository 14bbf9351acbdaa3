import MLVSupport
#if canImport(Glibc)
import Glibc
#endif

/// The listing of a tracked directory: every file's relative path, hash and size, sorted by the
/// bytes of the path, so the same tree always serializes to the same bytes and the same `.dir` hash.
///
/// On disk (one object in the cache), line-oriented so 20,000 entries parse in milliseconds:
///
///     mlv-manifest 1
///     <64 hex>\t<size>\t<path, with %, tab, CR and LF percent-escaped>
package struct DirectoryManifest: Equatable, Sendable {
    package struct Entry: Equatable, Sendable {
        package var path: String
        package var digest: Digest
        package var size: Int64
        package init(path: String, digest: Digest, size: Int64) {
            self.path = path
            self.digest = digest
            self.size = size
        }
    }

    package private(set) var entries: [Entry]

    package init(entries: [Entry]) {
        self.entries = entries.sorted { Self.order($0.path, $1.path) < 0 }
    }

    /// Entries known to be in path order, without duplicates (as `ManifestReader` yields them).
    init(sorted entries: [Entry]) {
        self.entries = entries
    }

    /// The sum of the sizes (clamped, never trapping: parsed entries are at most 1 PiB each).
    package var totalSize: Int64 { entries.lazy.map(\.size).saturatingSum() }

    static let header = "mlv-manifest 1\n"

    package func serialized() -> [UInt8] {
        var out = Array(Self.header.utf8)
        out.reserveCapacity(entries.count * 100)
        for e in entries { Self.appendLine(&out, path: e.path, digest: e.digest, size: e.size) }
        return out
    }

    /// Appends one entry's line: `<64 hex> TAB <size> TAB <path, %, TAB, CR and LF escaped> LF`.
    static func appendLine(_ out: inout [UInt8], path: String, digest: Digest, size: Int64) {
        let hex: StaticString = "0123456789abcdef"
        for w in [digest.w0, digest.w1, digest.w2, digest.w3] {
            for k in stride(from: 60, through: 0, by: -4) { out.append(hex.utf8Start[Int((w >> UInt64(k)) & 15)]) }
        }
        out.append(9)
        out.append(contentsOf: String(size).utf8)
        out.append(9)
        for c in path.utf8 {
            switch c {
            case 37, 9, 10, 13:
                out.append(37)
                out.append(contentsOf: String(format2Hex: c).utf8)
            default: out.append(c)
            }
        }
        out.append(10)
    }

    package struct Invalid: UserFacingError {
        package var source: String
        package var reason: String
        package var message: String { "directory manifest \(source) is invalid: \(reason)" }
        package var hint: String? { "run `mlv cache verify` to find corrupted objects" }
    }

    /// Parses and validates a manifest (see `ManifestReader` for what is checked).
    package static func parse(_ bytes: [UInt8], source: String) throws -> DirectoryManifest {
        try DirectoryManifest(reading: try ManifestReader(bytes: bytes, source: source))
    }

    /// Every entry a reader has left (checked as it reads them).
    init(reading reader: ManifestReader) throws {
        var entries: [Entry] = []
        while try reader.next() { entries.append(reader.entry) }
        self.init(sorted: entries)
    }

    /// Orders two paths by their UTF-8 bytes (the manifest's order): negative, zero or positive.
    @inline(__always)
    static func order(_ a: String, _ b: String) -> Int {
        if let r = a.utf8.withContiguousStorageIfAvailable({ pa in
            b.utf8.withContiguousStorageIfAvailable { pb -> Int in
                let c = memcmp(pa.baseAddress!, pb.baseAddress!, min(pa.count, pb.count))
                return c != 0 ? Int(c) : pa.count - pb.count
            }
        }), let r { return r }
        if a == b { return 0 }
        return a.utf8.lexicographicallyPrecedes(b.utf8) ? -1 : 1
    }

    /// The entry for `path`, found by bisection (entries are in path order).
    func entry(at path: String) -> Entry? {
        var lo = 0, hi = entries.count
        while lo < hi {
            let mid = (lo + hi) / 2
            let c = Self.order(entries[mid].path, path)
            if c == 0 { return entries[mid] }
            if c < 0 { lo = mid + 1 } else { hi = mid }
        }
        return nil
    }

    /// Where a path lies against the folder "`t`/" of a path `t` before it: before every path
    /// inside it ("a.txt" after "a"), inside it ("a/b"), or past all of them ("b").
    enum Placement { case before, inside, past }
}

extension String {
    init(format2Hex c: UInt8) {
        let d = Array("0123456789ABCDEF".utf8)
        self = String(decoding: [d[Int(c >> 4)], d[Int(c & 15)]], as: UTF8.self)
    }
}
