import MLVSupport
#if canImport(Glibc)
import Glibc
#endif

/// A directory manifest read one entry at a time, in path order, checked as it is read: the
/// one parser of the format (`DirectoryManifest.parse` collects what it yields). Read from a
/// cache object it holds one buffer of the file, never the whole manifest, and hashes the
/// bytes as they go by: the last `next()` fails when they do not hash to the object's name.
///
/// Every entry is checked before it is yielded: 64 hex digits, a size of at most 1 PiB, a safe
/// path (relative, no ".", "..", `.git` or `.mlv` part, valid UTF-8), each path after the one
/// before in byte order (the order `serialized()` writes; so no duplicates), and no path that
/// is a file and also a folder holding a later entry.
package final class ManifestReader {
    // One reader is used by one thread at a time, and this is the inner loop of `diff`, `gc`
    // and `status -c` at a million entries: its fields skip the runtime's exclusivity checks
    // (a fifth of the time).
    /// The current entry's path (unescaped), hash and size, after `next()` returned true.
    @exclusivity(unchecked) package private(set) var path: [UInt8] = []
    @exclusivity(unchecked) package private(set) var digest = Digest(bytes: [UInt8](repeating: 0, count: 32))
    @exclusivity(unchecked) package private(set) var size: Int64 = 0
    /// Entries read so far, and the sum of their sizes (saturating).
    @exclusivity(unchecked) package private(set) var count = 0
    @exclusivity(unchecked) package private(set) var totalSize: Int64 = 0

    private let source: String
    @exclusivity(unchecked) private var buffer: [UInt8]
    @exclusivity(unchecked) private var start = 0, end = 0
    private var fd: Int32 = -1
    private var atEnd: Bool
    @exclusivity(unchecked) private var lineNo = 1
    @exclusivity(unchecked) private var previous: [UInt8] = []
    /// Files read so far that a later path could still lie inside ("a" while "a.txt" and "a!"
    /// go by). Each is a prefix of the one after it and the last is the path read last, so
    /// they are kept as lengths of `previous`.
    @exclusivity(unchecked) private var open: [Int] = []
    private var check: (hasher: SHA256Hasher, hash: ContentHash, object: String)?

    /// The most one line may take (a path of 4,096 bytes, every byte escaped, is 12,288).
    static let chunk = 1 << 20

    /// Over bytes in memory (already checked, or about to be).
    package init(bytes: [UInt8], source: String) throws {
        self.source = source
        buffer = bytes
        end = bytes.count
        atEnd = true
        try readHeader()
    }

    /// Over a `.dir` object of the cache, read in chunks; `hash` is its name.
    init(object: String, hash: ContentHash, shownAs: String) throws {
        source = "'\(hash.short)…'"
        // The cap of a manifest read whole holds here too: a file claiming 10^9 entries is
        // refused by its size, not read for minutes.
        let what = "a cache object read whole (a manifest)", limit = Int(ObjectCache.manifestLimit)
        do {
            let (fd, size) = try UntrustedFile.openRegular(object, shownAs: shownAs, followSymlinks: false)
            guard size <= limit else {
                close(fd)
                throw UntrustedFile.tooLarge(shownAs, what, limit)
            }
            self.fd = fd
        } catch UntrustedFile.Refusal.notRegular(let kind) {
            throw UntrustedFile.notRegular(shownAs, what, kind)
        }
        buffer = [UInt8](repeating: 0, count: Self.chunk)
        atEnd = false
        check = (SHA256Hasher(), hash, object)
        try readHeader()
    }

    deinit { if fd >= 0 { close(fd) } }

    /// The current entry as a value.
    package var entry: DirectoryManifest.Entry {
        DirectoryManifest.Entry(path: String(decoding: path, as: UTF8.self), digest: digest, size: size)
    }

    /// Moves to the next entry: false at the end (after the whole object proved intact).
    package func next() throws -> Bool {
        swap(&previous, &path)
        do {
            guard let line = try nextLine() else {
                try finish()
                return false
            }
            lineNo += 1
            try parse(line)
        } catch let e as DirectoryManifest.Invalid {
            try finish()   // a corrupted object is reported as that, not as what its bytes say
            throw e
        }
        count += 1
        totalSize = totalSize.addingReportingOverflow(size).overflow ? .max : totalSize + size
        return true
    }

    private func invalid(_ reason: String) -> DirectoryManifest.Invalid {
        DirectoryManifest.Invalid(source: source, reason: reason)
    }

    private func readHeader() throws {
        let header = Array(DirectoryManifest.header.utf8.dropLast())
        // A first line that is not one (unterminated, too long) is no header either; a read
        // error is reported as itself.
        let first: Range<Int>?
        do { first = try nextLine() } catch is DirectoryManifest.Invalid { first = nil }
        guard let line = first, line.count == header.count,
              buffer[line].elementsEqual(header) else {
            try finish()
            throw invalid("missing header")
        }
    }

    /// The next line's range in `buffer` (without its LF); nil at the end of the bytes.
    private func nextLine() throws -> Range<Int>? {
        while true {
            let found = buffer.withUnsafeBufferPointer { b -> Int? in
                guard end > start, let p = memchr(b.baseAddress! + start, 10, end - start) else { return nil }
                return b.baseAddress!.distance(to: p.assumingMemoryBound(to: UInt8.self))
            }
            if let lf = found {
                defer { start = lf + 1 }
                return start..<lf
            }
            if atEnd {
                guard start == end else { throw invalid("line \(lineNo + 1) is not terminated") }
                return nil
            }
            try fill()
        }
    }

    /// Moves the unread bytes to the front and reads more after them.
    private func fill() throws {
        if start > 0 {
            buffer.withUnsafeMutableBufferPointer { b in
                _ = memmove(b.baseAddress!, b.baseAddress! + start, end - start)
            }
            end -= start
            start = 0
        }
        guard end < buffer.count else { throw invalid("line \(lineNo + 1) is longer than \(Self.chunk) bytes") }
        let n = buffer.withUnsafeMutableBytes { b -> Int in
            var n: Int
            repeat { n = read(fd, b.baseAddress! + end, b.count - end) } while n < 0 && errno == EINTR
            return n
        }
        guard n >= 0 else { throw FileSystemError.posix("read", check?.object ?? source, errno: errno) }
        if n == 0 { atEnd = true; return }
        buffer.withUnsafeBytes { check?.hasher.update(UnsafeRawBufferPointer(rebasing: $0[end..<(end + n)])) }
        end += n
    }

    /// Reads what is left and checks the object's hash (a manifest in memory has none to check).
    private func finish() throws {
        guard let c = check else { return }
        while !atEnd {
            start = end
            try fill()
        }
        check = nil
        if Digest(bytes: c.hasher.finalizeBytes()) != c.hash.digest {
            throw WorkspaceError.corruptedObject(path: c.object, hash: c.hash)
        }
    }

    /// `<64 hex> TAB <size> TAB <path, %-escaped> `, checked against the entries before it.
    private func parse(_ line: Range<Int>) throws {
        try buffer.withUnsafeBufferPointer { all in
            let b = UnsafeBufferPointer(rebasing: all[line])
            guard b.count > 66, b[64] == 9, let d = Digest(hexUTF8: UnsafeBufferPointer(rebasing: b[0..<64]))
            else { throw invalid("line \(lineNo) is malformed") }
            var j = 65
            var n: Int64 = 0
            while j < b.count, b[j] >= 48, b[j] <= 57, n < Int64.max / 10 {
                n = n * 10 + Int64(b[j] - 48)
                j += 1
            }
            guard j > 65, j < b.count, b[j] == 9 else { throw invalid("line \(lineNo) is malformed") }
            let raw = UnsafeBufferPointer(rebasing: b[(j + 1)...])
            guard Self.unescape(raw, into: &path),
                  path.withUnsafeBufferPointer({ WorkspacePath.isSafeOutput(bytes: $0, allowingLineBreaks: true) })
            else { throw invalid("line \(lineNo): unsafe path '\(String(decoding: raw, as: UTF8.self))'") }
            guard n <= PointerFile.maxSize else { throw invalid("line \(lineNo): size \(n) is larger than mlv supports (1 PiB)") }
            digest = d
            size = n
        }
        if count > 0 {
            let c = Self.order(previous, path)
            if c == 0 { throw invalid("duplicate path '\(String(decoding: path, as: UTF8.self))'") }
            if c > 0 {
                throw invalid("line \(lineNo) is out of order: '\(String(decoding: path, as: UTF8.self))' after '\(String(decoding: previous, as: UTF8.self))'")
            }
        }
        // In path order everything inside "a/" comes after "a" and before any path past "a/":
        // a stack of the files that may still hold later entries finds "a" and "a/b" with no table.
        while let t = open.last {
            switch Self.placement(path, after: previous, prefix: t) {
            case .past: open.removeLast(); continue
            case .inside:
                throw invalid("'\(String(decoding: previous[..<t], as: UTF8.self))' is both a file and a folder (holding '\(String(decoding: path, as: UTF8.self))')")
            case .before: break
            }
            break
        }
        open.append(path.count)
    }

    /// Byte order of two paths: negative, zero or positive.
    static func order(_ a: [UInt8], _ b: [UInt8]) -> Int {
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                let n = min(pa.count, pb.count)
                let c = n == 0 ? 0 : memcmp(pa.baseAddress!, pb.baseAddress!, n)
                return c != 0 ? Int(c) : pa.count - pb.count
            }
        }
    }

    /// Where `p` lies against the folder named by the first `n` bytes of `t` (see `Placement`).
    static func placement(_ p: [UInt8], after t: [UInt8], prefix n: Int) -> DirectoryManifest.Placement {
        p.withUnsafeBufferPointer { pb in
            t.withUnsafeBufferPointer { tb in
                guard pb.count > n, n <= tb.count, memcmp(pb.baseAddress!, tb.baseAddress!, n) == 0 else { return .past }
                let next = pb[n]
                return next == 47 ? .inside : next < 47 ? .before : .past
            }
        }
    }

    /// `%XX` (hex, either case) to its byte; false for a broken escape.
    static func unescape(_ s: UnsafeBufferPointer<UInt8>, into out: inout [UInt8]) -> Bool {
        out.removeAll(keepingCapacity: true)
        guard memchr(s.baseAddress!, 37, s.count) != nil else {
            out.append(contentsOf: s)
            return true
        }
        func hex(_ c: UInt8) -> UInt8? {
            switch c {
            case 48...57: c - 48
            case 65...70: c - 55
            case 97...102: c - 87
            default: nil
            }
        }
        var i = 0
        while i < s.count {
            if s[i] == 37 {
                guard i + 2 < s.count, let hi = hex(s[i + 1]), let lo = hex(s[i + 2]) else { return false }
                out.append(hi << 4 | lo)
                i += 3
            } else {
                out.append(s[i])
                i += 1
            }
        }
        return true
    }
}

extension DirectoryManifest {
    /// Walks two manifests in path order at once and calls `body` for every path whose entry
    /// differs: (old, new), nil where a side lacks it. Equal entries are skipped and never
    /// become values, so two million-entry manifests differing in ten paths make ten.
    static func merge(_ x: ManifestReader, _ y: ManifestReader, _ body: (Entry?, Entry?) throws -> Void) throws {
        var hasX = try x.next(), hasY = try y.next()
        while hasX || hasY {
            let c = !hasX ? 1 : !hasY ? -1 : ManifestReader.order(x.path, y.path)
            if c < 0 {
                try body(x.entry, nil)
                hasX = try x.next()
            } else if c > 0 {
                try body(nil, y.entry)
                hasY = try y.next()
            } else {
                if x.digest != y.digest { try body(x.entry, y.entry) }
                hasX = try x.next()
                hasY = try y.next()
            }
        }
    }

    /// A reader over this manifest (its serialized bytes, checked as any other).
    func reader() throws -> ManifestReader {
        try ManifestReader(bytes: serialized(), source: "of the workspace")
    }
}
