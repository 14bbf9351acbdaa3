import MLVSupport

/// A SHA-256 digest held as four words, so that millions of them compare and hash cheaply.
package struct Digest: Hashable, Sendable, Comparable {
    package var w0, w1, w2, w3: UInt64

    package init(bytes: [UInt8]) {
        precondition(bytes.count == 32)
        func word(_ i: Int) -> UInt64 {
            var w: UInt64 = 0
            for k in 0..<8 { w = (w << 8) | UInt64(bytes[i * 8 + k]) }
            return w
        }
        w0 = word(0); w1 = word(1); w2 = word(2); w3 = word(3)
    }

    /// From 32 raw bytes (big-endian words, as the hex reads).
    package init(raw pointer: UnsafeRawPointer) {
        w0 = UInt64(bigEndian: pointer.loadUnaligned(fromByteOffset: 0, as: UInt64.self))
        w1 = UInt64(bigEndian: pointer.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
        w2 = UInt64(bigEndian: pointer.loadUnaligned(fromByteOffset: 16, as: UInt64.self))
        w3 = UInt64(bigEndian: pointer.loadUnaligned(fromByteOffset: 24, as: UInt64.self))
    }

    /// Parses exactly 64 lowercase hex digits.
    package init?<S: Collection>(hexUTF8 s: S) where S.Element == UInt8 {
        guard s.count == 64 else { return nil }
        var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        var i = 0
        for c in s {
            let v: UInt64
            switch c {
            case 48...57: v = UInt64(c - 48)
            case 97...102: v = UInt64(c - 87)
            default: return nil
            }
            switch i >> 4 {
            case 0: words.0 = (words.0 << 4) | v
            case 1: words.1 = (words.1 << 4) | v
            case 2: words.2 = (words.2 << 4) | v
            default: words.3 = (words.3 << 4) | v
            }
            i += 1
        }
        (w0, w1, w2, w3) = words
    }

    /// The same over bytes in memory (a manifest line): 16 digits per word, no per-byte indexing.
    package init?(hexUTF8 s: UnsafeBufferPointer<UInt8>) {
        guard s.count == 64, let p = s.baseAddress else { return nil }
        @inline(__always) func word(_ q: UnsafePointer<UInt8>) -> UInt64? {
            var w: UInt64 = 0
            var bad: UInt8 = 0
            for k in 0..<16 {
                let c = q[k]
                let d = c &- 48, l = c &- 97
                bad |= (d > 9 && l > 5) ? 1 : 0
                w = (w << 4) | UInt64(d <= 9 ? d : l &+ 10)
            }
            return bad == 0 ? w : nil
        }
        guard let a = word(p), let b = word(p + 16), let c = word(p + 32), let d = word(p + 48) else { return nil }
        (w0, w1, w2, w3) = (a, b, c, d)
    }

    package init?(hex: String) { self.init(hexUTF8: Array(hex.utf8)) }

    package var bytes: [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(32)
        for w in [w0, w1, w2, w3] { for k in (0..<8).reversed() { out.append(UInt8(truncatingIfNeeded: w >> (UInt64(k) * 8))) } }
        return out
    }

    package var hex: String { Hex.encode(bytes) }

    package static func < (a: Digest, b: Digest) -> Bool {
        (a.w0, a.w1, a.w2, a.w3) < (b.w0, b.w1, b.w2, b.w3)
    }
}

/// The identity of tracked content: a file's SHA-256, or a directory manifest's SHA-256 marked `.dir`.
package struct ContentHash: Hashable, Sendable, CustomStringConvertible {
    package var digest: Digest
    package var isDirectory: Bool

    package init(_ digest: Digest, isDirectory: Bool = false) {
        self.digest = digest
        self.isDirectory = isDirectory
    }

    /// "<64 hex>" or "<64 hex>.dir".
    package init?(string: String) {
        var s = Substring(string)
        var dir = false
        if s.hasSuffix(".dir") { s = s.dropLast(4); dir = true }
        guard let d = s.withUTF8({ Digest(hexUTF8: $0) }) else { return nil }
        self.init(d, isDirectory: dir)
    }

    package var description: String { digest.hex + (isDirectory ? ".dir" : "") }

    /// The object's path below the cache's `sha256/` folder: "ab/cdef…[.dir]".
    package var objectName: String {
        let h = description
        return String(h.prefix(2)) + "/" + String(h.dropFirst(2))
    }

    /// For messages: the first 12 hex digits.
    package var short: String { String(digest.hex.prefix(12)) }
}
