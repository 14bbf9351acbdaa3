import MLVSupport
import Testing

@Suite struct SHA256Tests {
    @Test func knownVectors() {
        #expect(SHA256Hasher.hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256Hasher.hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    @Test func streamingEqualsOneShot() {
        let bytes = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        let h = SHA256Hasher()
        for chunk in stride(from: 0, to: bytes.count, by: 4093) {
            h.update(Array(bytes[chunk..<min(chunk + 4093, bytes.count)]))
        }
        #expect(h.finalizeHex() == SHA256Hasher.hex(bytes))
    }

    /// RFC 1321's test suite; streaming equals one shot (part ETags on S3 are the hex MD5).
    @Test func md5KnownVectors() {
        #expect(MD5Hasher.hex([]) == "d41d8cd98f00b204e9800998ecf8427e")
        #expect(MD5Hasher.hex(Array("abc".utf8)) == "900150983cd24fb0d6963f7d28e17f72")
        #expect(MD5Hasher.hex(Array("12345678901234567890123456789012345678901234567890123456789012345678901234567890".utf8))
                == "57edf4a22be3c955ac49da2e2107b67a")
        let h = MD5Hasher()
        h.update(Array("message ".utf8))
        h.update(Array("digest".utf8))
        #expect(h.finalizeHex() == "f96b697d7cb7938d525a2f31aaf161d0")
    }

    @Test func hmacRFC4231Case2() {
        let mac = HMACSHA256.mac(key: Array("Jefe".utf8), message: Array("what do ya want for nothing?".utf8))
        #expect(Hex.encode(mac) == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }
}

@Suite struct PathTests {
    @Test func normalize() {
        #expect(Path.normalize("a/./b/../c/") == "a/c")
        #expect(Path.normalize("/x/../../y") == "/y")
        #expect(Path.normalize("../a") == "../a")
        #expect(Path.normalize("") == ".")
    }

    @Test func relative() {
        #expect(Path.relative("/w/data/x", to: "/w") == "data/x")
        #expect(Path.relative("/w", to: "/w") == ".")
        #expect(Path.relative("/wx/a", to: "/w") == nil)
    }
}

@Suite struct WorkspacePathTests {
    @Test func safeRelativePaths() {
        for ok in ["a", "a/b", "a.b/c..d", ".hidden/x", "...", "a/.b"] { #expect(WorkspacePath.isSafeRelative(ok), "\(ok)") }
        for bad in ["", "/a", "a/", "a//b", ".", "..", "a/..", "../a", "a/./b", "a/../b", "a\u{0}b"] {
            #expect(!WorkspacePath.isSafeRelative(bad), "\(bad)")
        }
    }
}
