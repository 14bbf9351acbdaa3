@testable import MLVKit
import MLVSupport
import Testing

@Suite struct ContentHashTests {
    @Test func parsesFilesAndDirectories() throws {
        let hex = SHA256Hasher.hex("x")
        let file = try #require(ContentHash(string: hex))
        #expect(!file.isDirectory && file.description == hex)
        #expect(file.objectName == String(hex.prefix(2)) + "/" + String(hex.dropFirst(2)))
        let dir = try #require(ContentHash(string: hex + ".dir"))
        #expect(dir.isDirectory && dir.description == hex + ".dir")
        #expect(ContentHash(string: hex.uppercased()) == nil)
        #expect(ContentHash(string: String(hex.dropLast())) == nil)
        #expect(ContentHash(string: hex + ".txt") == nil)
        #expect(Digest(bytes: file.digest.bytes) == file.digest)
    }
}

@Suite struct PointerFileTests {
    @Test func roundTripsWithStableBytes() throws {
        let h = try #require(ContentHash(string: SHA256Hasher.hex("d") + ".dir"))
        let p = PointerFile(path: "images", hash: h, size: 42, fileCount: 3)
        let text = try p.serialized()
        #expect(text == "outs:\n- path: images\n  hash: sha256\n  sha256: \(h)\n  size: 42\n  nfiles: 3\n")
        #expect(try PointerFile.parse(text, file: "images.mlv") == p)
    }

    @Test func oddNamesAreQuoted() throws {
        let h = try #require(ContentHash(string: SHA256Hasher.hex("d")))
        for name in ["a: b", "#hash", "yes", "123", "space ", "ünï"] {
            let p = PointerFile(path: name, hash: h, size: 1, fileCount: nil)
            #expect(try PointerFile.parse(p.serialized(), file: "x.mlv") == p, "\(name)")
        }
    }

    @Test func rejectsBadFieldsWithPositions() {
        let h = SHA256Hasher.hex("d")
        func error(_ text: String) -> String {
            do { _ = try PointerFile.parse(text, file: "p.mlv"); return "parsed" } catch let e as UserFacingError { return e.message } catch { return "\(error)" }
        }
        #expect(error("outs:\n- path: x\n  sha256: \(h)\n  size: -1\n") == "p.mlv:4:9: 'size' must not be negative")
        #expect(error("outs:\n- path: x\n  sha256: \(h)\n  size: big\n") == "p.mlv:4:9: 'size' must be an integer")
        #expect(error("outs:\n- path: x\n  size: 1\n") == "p.mlv:2:3: missing 'sha256'")
        #expect(error("outs:\n- path: x\n  hash: md5\n  sha256: \(h)\n  size: 1\n") == "p.mlv:3:9: unsupported hash algorithm 'md5' (only sha256)")
        #expect(error("outs:\n- path: a/../../b\n  sha256: \(h)\n  size: 1\n") == "p.mlv:2:9: path 'a/../../b' escapes the workspace")
        #expect(error("") == "p.mlv:1:1: empty pointer file")
        #expect(error("outs: []\n") == "p.mlv:1:7: 'outs' must hold exactly one entry")
        #expect(error("out: []\n") == "p.mlv:1:1: unknown key 'out' in a pointer file")
    }
}

@Suite struct DirectoryManifestTests {
    @Test func sortsByBytesAndEscapes() throws {
        let d = Digest(bytes: [UInt8](repeating: 7, count: 32))
        let m = DirectoryManifest(entries: [
            .init(path: "b", digest: d, size: 1), .init(path: "a\tb%c\nd", digest: d, size: 2), .init(path: "B", digest: d, size: 3),
        ])
        #expect(m.entries.map(\.path) == ["B", "a\tb%c\nd", "b"])
        let bytes = m.serialized()
        #expect(String(decoding: bytes, as: UTF8.self).contains("\ta%09b%25c%0Ad\n"))
        #expect(try DirectoryManifest.parse(bytes, source: "t") == m)
        #expect(m.totalSize == 6)
    }

    @Test func digestsParseFromBytesExactlyAsFromText() {
        let hex = SHA256Hasher.hex("x")
        let d = Array(hex.utf8).withUnsafeBufferPointer { Digest(hexUTF8: $0) }
        #expect(d?.hex == hex && d == Digest(hexUTF8: Array(hex.utf8) as [UInt8]))
        // Only lowercase hex digits, anywhere in the 64.
        for bad in ["A", "F", "g", ":", "/", "`", "@", " "] {
            for at in [0, 15, 16, 63] {
                var b = Array(hex.utf8)
                b[at] = bad.utf8.first!
                #expect(b.withUnsafeBufferPointer { Digest(hexUTF8: $0) } == nil, "\(bad) at \(at)")
            }
        }
        #expect(Array(hex.utf8.dropLast()).withUnsafeBufferPointer { Digest(hexUTF8: $0) } == nil)
    }

    @Test func acceptsNamesThatOnlyShareAPrefix() throws {
        let hex = SHA256Hasher.hex("x")
        let body = ["a.txt", "a/b", "ab", "ab!/c", "b", "b0/x"].map { "\(hex)\t1\t\($0)\n" }.joined()
        let m = try DirectoryManifest.parse(Array(("mlv-manifest 1\n" + body).utf8), source: "m")
        #expect(m.entries.map(\.path) == ["a.txt", "a/b", "ab", "ab!/c", "b", "b0/x"])
    }

    @Test func mergeNamesEveryDifferenceInPathOrder() throws {
        func m(_ pairs: [(String, String)]) -> DirectoryManifest {
            DirectoryManifest(entries: pairs.map { .init(path: $0.0, digest: Digest(bytes: SHA256Hasher.hexBytes(Array($0.1.utf8))), size: 1) })
        }
        let old = m([("a", "1"), ("b/c", "2"), ("d", "3"), ("é", "4")])
        let new = m([("a", "1"), ("b/c", "9"), ("c", "5"), ("é", "4"), ("z", "6")])
        var seen: [String] = []
        try DirectoryManifest.merge(try old.reader(), try new.reader()) { was, now in
            seen.append("\(was?.path ?? "-")>\(now?.path ?? "-")")
        }
        #expect(seen == ["b/c>b/c", "->c", "d>-", "->z"])
    }

    @Test func rejectsUnsafeOrMalformedEntries() {
        let hex = SHA256Hasher.hex("x")
        for (body, reason) in [
            ("\(hex)\t1\t../etc/passwd\n", "line 2: unsafe path '../etc/passwd'"),
            ("\(hex)\t1\t/abs\n", "line 2: unsafe path '/abs'"),
            ("\(hex)\tone\tx\n", "line 2 is malformed"),
            ("\(hex)\t1\tx\n\(hex)\t1\tx\n", "duplicate path 'x'"),
            ("\(hex)\t1\ta\n\(hex)\t1\ta/b\n", "'a' is both a file and a folder (holding 'a/b')"),
            // Not next to each other in path order ('!' and '.' sort before '/').
            ("\(hex)\t1\ta\n\(hex)\t1\ta!\n\(hex)\t1\ta.txt\n\(hex)\t1\ta/b/c\n", "'a' is both a file and a folder (holding 'a/b/c')"),
            ("\(hex)\t1\ta\n\(hex)\t1\ta.txt\n\(hex)\t1\ta!\n", "line 4 is out of order: 'a!' after 'a.txt'"),
            ("\(hex)\t1\tb\n\(hex)\t1\ta\n", "line 3 is out of order: 'a' after 'b'"),
            ("\(hex)\t1\tsub/GIT~1/x\n", "line 2: unsafe path 'sub/GIT~1/x'"),
            ("\(hex)\t1\tbad%zz\n", "line 2: unsafe path 'bad%zz'"),
            ("\(hex)\t1\tnul%00\n", "line 2: unsafe path 'nul%00'"),
            ("\(hex)\t1\tbroken%FF\n", "line 2: unsafe path 'broken%FF'"),
            ("\(hex)\t1\tz/a\n\(hex)\t1\tz/a!\n\(hex)\t1\tz/a!/x\n", "'z/a!' is both a file and a folder (holding 'z/a!/x')"),
            ("\(hex)\t1\tx", "line 2 is not terminated"),
        ] {
            do {
                _ = try DirectoryManifest.parse(Array(("mlv-manifest 1\n" + body).utf8), source: "m")
                Issue.record("accepted \(body)")
            } catch let e as DirectoryManifest.Invalid {
                #expect(e.reason == reason)
            } catch { Issue.record("\(error)") }
        }
    }
}

@Suite struct ConfigFormatTests {
    @Test func serializesNestedSortedKeys() throws {
        let c = WorkspaceConfig(values: ["remote.s3.url": "s3://b/p", "cache.type": "hardlink", "core.remote": "s3"])
        #expect(try c.serialized() == "cache:\n  type: hardlink\ncore:\n  remote: s3\nremote:\n  s3:\n    url: s3://b/p\n")
        #expect(WorkspaceConfig(values: ["cache.type": "hardlink,copy"]).linkTypes == [.hardlink, .copy])
        #expect(WorkspaceConfig.isKnown("remote.any.endpoint_url"))
        #expect(!WorkspaceConfig.isKnown("remote..url"))
    }
}
