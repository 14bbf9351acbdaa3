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

    /// Entries that may already be sorted (as parsed): checked in one pass, sorted only if not.
    init(parsed entries: [Entry]) {
        let sorted = entries.indices.dropFirst().allSatisfy { Self.order(entries[$0 - 1].path, entries[$0].path) <= 0 }
        self.entries = sorted ? entries : entries.sorted { Self.order($0.path, $1.path) < 0 }
    }

    /// The sum of the sizes (clamped, never trapping: parsed entries are at most 1 PiB each).
    package var totalSize: Int64 { entries.lazy.map(\.size).saturatingSum() }

    static let header = "mlv-manifest 1\n"

    package func serialized() -> [UInt8] {
        var out = Array(Self.header.utf8)
        out.reserveCapacity(entries.count * 100)
        for e in entries {
            out.append(contentsOf: e.digest.hex.utf8)
            out.append(9)
            out.append(contentsOf: String(e.size).utf8)
            out.append(9)
            for c in e.path.utf8 {
                switch c {
                case 37, 9, 10, 13:
                    out.append(37)
                    out.append(contentsOf: String(format2Hex: c).utf8)
                default: out.append(c)
                }
            }
            out.append(10)
        }
        return out
    }

    package struct Invalid: UserFacingError {
        package var source: String
        package var reason: String
        package var message: String { "directory manifest \(source) is invalid: \(reason)" }
        package var hint: String? { "run `mlv cache verify` to find corrupted objects" }
    }

    /// Parses and validates a manifest: every path must be relative, without "." or ".." parts.
    package static func parse(_ bytes: [UInt8], source: String) throws -> DirectoryManifest {
        let headerBytes = Array(header.utf8)
        guard bytes.starts(with: headerBytes) else { throw Invalid(source: source, reason: "missing header") }
        var entries: [Entry] = []
        var lineNo = 1
        try bytes.withUnsafeBufferPointer { buf in
            var i = headerBytes.count
            while i < buf.count {
                lineNo += 1
                // <64 hex> TAB <size> TAB <path> LF
                guard i + 66 < buf.count, buf[i + 64] == 9,
                      let digest = Digest(hexUTF8: UnsafeBufferPointer(rebasing: buf[i..<(i + 64)]))
                else { throw Invalid(source: source, reason: "line \(lineNo) is malformed") }
                var j = i + 65
                var size: Int64 = 0
                while j < buf.count, buf[j] >= 48, buf[j] <= 57, size < Int64.max / 10 {
                    size = size * 10 + Int64(buf[j] - 48)
                    j += 1
                }
                guard j > i + 65, j < buf.count, buf[j] == 9 else { throw Invalid(source: source, reason: "line \(lineNo) is malformed") }
                var k = j + 1
                while k < buf.count, buf[k] != 10 { k += 1 }
                guard k < buf.count else { throw Invalid(source: source, reason: "line \(lineNo) is not terminated") }
                let raw = UnsafeBufferPointer(rebasing: buf[(j + 1)..<k])
                guard let path = unescape(raw), (try? WorkspacePath(validating: path, allowingLineBreaks: true)) != nil
                else { throw Invalid(source: source, reason: "line \(lineNo): unsafe path '\(String(decoding: raw, as: UTF8.self))'") }
                guard size <= PointerFile.maxSize
                else { throw Invalid(source: source, reason: "line \(lineNo): size \(size) is larger than mlv supports (1 PiB)") }
                entries.append(Entry(path: path, digest: digest, size: size))
                i = k + 1
            }
        }
        let manifest = DirectoryManifest(parsed: entries)
        for k in manifest.entries.indices.dropFirst() where order(manifest.entries[k].path, manifest.entries[k - 1].path) == 0 {
            throw Invalid(source: source, reason: "duplicate path '\(manifest.entries[k].path)'")
        }
        // A path that is a file cannot also be a folder holding another entry ("a" and "a/b").
        // In path order everything inside "a/" comes after "a" and before any path past "a/":
        // a stack of the files that may still hold later entries finds it with no table.
        var open: [String] = []
        for e in manifest.entries {
            while let t = open.last {
                switch placement(e.path, after: t) {
                case .past: open.removeLast(); continue
                case .inside: throw Invalid(source: source, reason: "'\(t)' is both a file and a folder (holding '\(e.path)')")
                case .before: break
                }
                break
            }
            open.append(e.path)
        }
        return manifest
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

    enum Placement { case before, inside, past }

    /// Where `p` lies against the folder "`t`/", for `p` after `t` in path order: before every
    /// path inside it ("a.txt" after "a"), inside it ("a/b"), or past all of them ("b").
    static func placement(_ p: String, after t: String) -> Placement {
        let pu = p.utf8, tu = t.utf8
        guard pu.count > tu.count, pu.starts(with: tu) else { return .past }
        let next = pu[pu.index(pu.startIndex, offsetBy: tu.count)]
        return next == 47 ? .inside : next < 47 ? .before : .past
    }

    /// Walks two manifests in path order at once and calls `body` for every path whose entry
    /// differs: (old, new), nil where a side lacks it. Equal entries are skipped.
    static func merge(_ a: DirectoryManifest, _ b: DirectoryManifest, _ body: (Entry?, Entry?) -> Void) {
        let x = a.entries, y = b.entries
        var i = 0, j = 0
        while i < x.count || j < y.count {
            let c = i == x.count ? 1 : j == y.count ? -1 : order(x[i].path, y[j].path)
            if c < 0 { body(x[i], nil); i += 1 } else if c > 0 { body(nil, y[j]); j += 1 } else {
                if x[i].digest != y[j].digest { body(x[i], y[j]) }
                i += 1
                j += 1
            }
        }
    }

    static func unescape(_ s: UnsafeBufferPointer<UInt8>) -> String? {
        guard s.contains(37) else { return String(decoding: s, as: UTF8.self) }
        var out: [UInt8] = []
        var it = s.startIndex
        while it < s.endIndex {
            let c = s[it]
            if c == 37 {
                guard it + 2 < s.endIndex, let v = UInt8(String(decoding: s[(it + 1)...(it + 2)], as: UTF8.self), radix: 16) else { return nil }
                out.append(v)
                it += 3
            } else {
                out.append(c)
                it += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}

extension String {
    init(format2Hex c: UInt8) {
        let d = Array("0123456789ABCDEF".utf8)
        self = String(decoding: [d[Int(c >> 4)], d[Int(c & 15)]], as: UTF8.self)
    }
}
