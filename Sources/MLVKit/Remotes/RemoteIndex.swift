import MLVSupport

/// An index object: a set of objects that a push confirmed present on a remote (uploaded, or
/// found there), stored at `PREFIX/index/<sha256 of the body>`. Readers take the union of a
/// remote's index objects as a hint of what it holds, so that `status -c` and a push whose
/// objects are all there cost a listing instead of a request per object. A hint, never proof:
/// anything found missing later is re-sent, and the index objects naming it are dropped.
///
///     mlv-index 1\n
///     33-byte records, strictly ascending: the 32-byte SHA-256, then 0 (a file) or 1 (a `.dir` manifest)
///
/// Binary and canonical (sorted, no duplicates), so one set has one name, and 20,000 objects
/// take 660 KB. Index objects are written by other people: a body that does not hash to its
/// name, is larger than `maxBytes`, or is not exactly this shape is ignored.
struct RemoteIndex: Equatable, Sendable {
    static let header: [UInt8] = Array("mlv-index 1\n".utf8)
    static let recordSize = 33
    /// 1 million objects (33 MB); larger bodies are ignored (and never written: a push splits its set).
    static let maxObjects = 1_000_000
    static var maxBytes: Int { header.count + maxObjects * recordSize }

    /// Sorted by (digest, kind), no duplicates.
    private(set) var objects: [ContentHash]

    init<S: Sequence>(_ objects: S) where S.Element == ContentHash {
        self.objects = Array(Set(objects)).sorted(by: Self.precedes)
    }

    private init(sorted: [ContentHash]) { objects = sorted }

    static func precedes(_ a: ContentHash, _ b: ContentHash) -> Bool {
        a.digest != b.digest ? a.digest < b.digest : (!a.isDirectory && b.isDirectory)
    }

    func serialized() -> [UInt8] {
        var out = Self.header
        out.reserveCapacity(Self.header.count + objects.count * Self.recordSize)
        for h in objects {
            out += h.digest.bytes
            out.append(h.isDirectory ? 1 : 0)
        }
        return out
    }

    /// Whether it names `h` (a bisection).
    func contains(_ h: ContentHash) -> Bool {
        var lo = 0, hi = objects.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if Self.precedes(objects[mid], h) { lo = mid + 1 } else { hi = mid }
        }
        return lo < objects.count && objects[lo] == h
    }

    /// The index object's name: the SHA-256 of its body, in hex.
    var name: String { SHA256Hasher.hex(serialized()) }

    /// A well-formed name: 64 lowercase hex digits.
    static func isName<S: StringProtocol>(_ s: S) -> Bool {
        s.utf8.count == 64 && s.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }

    /// The index `bytes` hold, if they are one and hash to `name`; nil for anything else.
    static func parse(_ bytes: [UInt8], name: String) -> RemoteIndex? {
        guard isName(name), bytes.count <= maxBytes, bytes.count >= header.count,
              bytes[0..<header.count].elementsEqual(header),
              (bytes.count - header.count) % recordSize == 0,
              SHA256Hasher.hex(bytes) == name else { return nil }
        let n = (bytes.count - header.count) / recordSize
        var objects: [ContentHash] = []
        objects.reserveCapacity(n)
        let ok = bytes.withUnsafeBytes { raw -> Bool in
            for i in 0..<n {
                let at = header.count + i * recordSize
                let kind = raw[at + 32]
                guard kind <= 1 else { return false }
                let h = ContentHash(Digest(raw: raw.baseAddress! + at), isDirectory: kind == 1)
                if let last = objects.last, !precedes(last, h) { return false }
                objects.append(h)
            }
            return true
        }
        return ok ? RemoteIndex(sorted: objects) : nil
    }
}
