import MLVSupport
#if canImport(Glibc)
import Glibc
#endif

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

    /// From objects already in order (`precedes`), each once: no set of them is built.
    init(sorted: [ContentHash]) {
        precondition(zip(sorted, sorted.dropFirst()).allSatisfy { Self.precedes($0, $1) }, "RemoteIndex(sorted:) given objects out of order")
        objects = sorted
    }

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

    /// The index object's name: the SHA-256 of its body, in hex.
    var name: String { SHA256Hasher.hex(serialized()) }

    /// A well-formed name: 64 lowercase hex digits.
    static func isName<S: StringProtocol>(_ s: S) -> Bool {
        s.utf8.count == 64 && s.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }

    /// The index `bytes` hold, if they are one and hash to `name`; nil for anything else.
    static func parse(_ bytes: [UInt8], name: String) -> RemoteIndex? {
        guard count(of: bytes, name: name) != nil else { return nil }
        let n = (bytes.count - header.count) / recordSize
        let objects = bytes.withUnsafeBytes { raw in
            (0..<n).map { i in record(raw.baseAddress! + header.count + i * recordSize)! }
        }
        return RemoteIndex(sorted: objects)
    }

    /// How many objects the index `bytes` name, if they are one and hash to `name` (nothing is
    /// built: a download is checked before its copy is saved).
    static func count(of bytes: [UInt8], name: String) -> Int? {
        guard isName(name), bytes.count <= maxBytes, shapeFits(bytes.count) else { return nil }
        var check = Check()
        bytes.withUnsafeBytes { check.feed($0) }
        return check.finish(name: name)
    }

    /// How many objects a copy saved at `path` names, checked as a download is (regular file,
    /// size, shape, order, hash), read a buffer at a time; nil when it is not one.
    static func count(ofFile path: String, name: String) -> Int? {
        guard isName(name), let (fd, size) = try? UntrustedFile.openRegular(path, shownAs: name, followSymlinks: false) else { return nil }
        defer { close(fd) }
        guard size <= maxBytes, shapeFits(size) else { return nil }
        var check = Check()
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        var offset = 0
        while offset < size {
            let n = min(buffer.count, size - offset)
            do {
                try buffer.withUnsafeMutableBytes { try FS.readFully(fd, into: UnsafeMutableRawBufferPointer(rebasing: $0[0..<n]), offset: Int64(offset), path: path, short: "ended early") }
            } catch { return nil }
            buffer.withUnsafeBytes { check.feed(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            offset += n
        }
        return check.finish(name: name)
    }

    private static func shapeFits(_ size: Int) -> Bool { size >= header.count && (size - header.count) % recordSize == 0 }

    fileprivate static func record(_ at: UnsafeRawPointer) -> ContentHash? {
        let kind = at.load(fromByteOffset: 32, as: UInt8.self)
        return kind <= 1 ? ContentHash(Digest(raw: at), isDirectory: kind == 1) : nil
    }

    /// The checks of an index body fed in pieces: header, kinds, strict order, and its hash.
    private struct Check {
        let hasher = SHA256Hasher()
        var pending: [UInt8] = []   // the header, or a record split between pieces
        var headerSeen = false
        var last: ContentHash?
        var count = 0
        var ok = true

        mutating func feed(_ piece: UnsafeRawBufferPointer) {
            hasher.update(piece)
            var rest = piece
            while ok && !rest.isEmpty {
                let want = headerSeen ? recordSize : header.count
                if pending.isEmpty && rest.count >= want {
                    take(UnsafeRawBufferPointer(rebasing: rest[rest.startIndex..<rest.startIndex + want]))
                    rest = UnsafeRawBufferPointer(rebasing: rest[(rest.startIndex + want)...])
                    continue
                }
                let n = min(want - pending.count, rest.count)
                pending += rest[rest.startIndex..<rest.startIndex + n]
                rest = UnsafeRawBufferPointer(rebasing: rest[(rest.startIndex + n)...])
                if pending.count == want {
                    let whole = pending
                    pending = []
                    whole.withUnsafeBytes { take($0) }
                }
            }
        }

        private mutating func take(_ unit: UnsafeRawBufferPointer) {
            guard headerSeen else {
                headerSeen = true
                ok = unit.elementsEqual(header)
                return
            }
            guard let h = record(unit.baseAddress!), last.map({ precedes($0, h) }) ?? true else { ok = false; return }
            last = h
            count += 1
        }

        func finish(name: String) -> Int? {
            ok && headerSeen && pending.isEmpty && hasher.finalizeHex() == name ? count : nil
        }
    }
}

/// Reads a checked copy of an index object in order, a buffer at a time, for questions asked in
/// order (`skip(to:)`). A copy that turns out short or out of order meanwhile names nothing more.
final class IndexFileReader {
    private let fd: Int32
    private let path: String
    private var buffer: [UInt8]
    private var filled = 0, at = 0
    private var offset = RemoteIndex.header.count
    private var size = 0   // the file's, when opened
    private(set) var current: ContentHash?
    private var ended = false

    init?(path: String) {
        guard let (fd, size) = try? UntrustedFile.openRegular(path, shownAs: path, followSymlinks: false) else { return nil }
        self.fd = fd
        self.path = path
        self.size = size
        buffer = [UInt8](repeating: 0, count: RemoteIndex.recordSize * 2048)
    }

    /// The same over a checked body held in memory (one downloaded and not saved).
    init(body: [UInt8]) {
        fd = -1
        path = ""
        buffer = Array(body.dropFirst(RemoteIndex.header.count))
        filled = buffer.count - buffer.count % RemoteIndex.recordSize
    }

    deinit { if fd >= 0 { close(fd) } }

    /// Moves to the first object not before `h`; true when that is `h`.
    func skip(to h: ContentHash) -> Bool {
        while !ended {
            if let c = current, !RemoteIndex.precedes(c, h) { return c == h }
            advance()
        }
        return false
    }

    private func advance() {
        if at + RemoteIndex.recordSize > filled {
            let left = size - offset
            let n = min(buffer.count, left - left % RemoteIndex.recordSize)
            guard fd >= 0, n > 0, (try? buffer.withUnsafeMutableBytes {
                try FS.readFully(fd, into: UnsafeMutableRawBufferPointer(rebasing: $0[0..<n]), offset: Int64(offset), path: path, short: "ended early")
            }) != nil else { ended = true; return }
            filled = n
            offset += n
            at = 0
        }
        let next = buffer.withUnsafeBytes { RemoteIndex.record($0.baseAddress! + at) }
        at += RemoteIndex.recordSize
        guard let next, current.map({ RemoteIndex.precedes($0, next) }) ?? true else { ended = true; return }
        current = next
    }
}
