@testable import MLVKit
import MLVSupport
import MLVTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite struct RemoteUnitTests {
    @Test func multipartLayout() {
        let mib: Int64 = 1 << 20
        #expect(S3Remote.parts(size: 10 * mib, chunk: 5 * mib).map(\.length) == [5 * mib, 5 * mib])
        #expect(S3Remote.parts(size: 10 * mib + 1, chunk: 5 * mib).map(\.length) == [5 * mib, 5 * mib, 1])
        #expect(S3Remote.parts(size: 10 * mib + 1, chunk: 5 * mib).map(\.offset) == [0, 5 * mib, 10 * mib])
        // Never more than S3's 10,000 parts: the chunk grows.
        let huge = S3Remote.parts(size: 100_000 * mib, chunk: 5 * mib)
        #expect(huge.count == 10_000 && huge.reduce(0) { $0 + $1.length } == 100_000 * mib)
    }

    @Test func remoteURLs() throws {
        #expect(try RemoteURL.parse("s3://bucket", workspaceRoot: "/w") == .s3(bucket: "bucket", prefix: ""))
        #expect(try RemoteURL.parse("s3://bucket/a b/ü/", workspaceRoot: "/w") == .s3(bucket: "bucket", prefix: "a b/ü"))
        #expect(try RemoteURL.parse("../store", workspaceRoot: "/w/repo") == .local(path: "/w/store"))
        #expect(throws: RemoteError.self) { try RemoteURL.parse("s3://bucket/a/../b", workspaceRoot: "/w") }
        #expect(throws: RemoteError.self) { try RemoteURL.parse("gs://bucket/a", workspaceRoot: "/w") }
    }

    @Test func sizes() {
        #expect(RemoteSettings.parseSize("64MiB") == 64 << 20)
        #expect(RemoteSettings.parseSize("5 GiB") == 5 << 30)
        #expect(RemoteSettings.parseSize("1048576") == 1 << 20)
        #expect(RemoteSettings.parseSize("99999999999999999GiB") == nil)
        #expect(RemoteSettings.parseSize("lots") == nil)
    }

    @Test func awsProfiles() {
        let text = "# comment\n[default]\naws_access_key_id = A\n\n[profile ci]\nAWS_ACCESS_KEY_ID=B\naws_secret_access_key = s = t\n"
        #expect(INIFile.section("default", in: text) == ["aws_access_key_id": "A"])
        #expect(INIFile.section("profile ci", in: text) == ["aws_access_key_id": "B", "aws_secret_access_key": "s = t"])
    }
}

@Suite struct RemoteIndexFormatTests {
    static func hash(_ s: String, dir: Bool = false) -> ContentHash {
        ContentHash(Digest(bytes: SHA256Hasher.hexBytes(Array(s.utf8))), isDirectory: dir)
    }

    @Test func roundTripIsCanonical() throws {
        let objects = [Self.hash("b"), Self.hash("a"), Self.hash("a", dir: true), Self.hash("b")]
        let index = RemoteIndex(objects)
        #expect(index.objects.count == 3)
        let bytes = index.serialized()
        #expect(bytes.count == 12 + 3 * 33)
        #expect(RemoteIndex(objects.reversed()).serialized() == bytes)
        #expect(RemoteIndex.parse(bytes, name: SHA256Hasher.hex(bytes)) == index)
        #expect(Set(RemoteIndex.parse(bytes, name: index.name)!.objects) == Set(objects))
        let empty = RemoteIndex([ContentHash]())
        #expect(RemoteIndex.parse(empty.serialized(), name: empty.name)?.objects.isEmpty == true)
    }

    @Test func anythingElseIsRefused() {
        let good = RemoteIndex([Self.hash("a"), Self.hash("b")]).serialized()
        func refused(_ bytes: [UInt8], name: String? = nil) -> Bool { RemoteIndex.parse(bytes, name: name ?? SHA256Hasher.hex(bytes)) == nil }
        #expect(refused(good, name: String(repeating: "0", count: 64)))           // not its hash
        #expect(refused(good, name: SHA256Hasher.hex(good).uppercased()))        // not a name
        #expect(refused(Array(good.dropLast())))                                  // a torn record
        #expect(refused(Array(good.dropFirst())))                                 // no header
        var kind = good; kind[12 + 32] = 2
        #expect(refused(kind))                                                    // unknown kind
        let swapped = Array(good[0..<12]) + Array(good[45..<78]) + Array(good[12..<45])
        #expect(refused(swapped))                                                 // out of order
        let twice = Array(good[0..<45]) + Array(good[12..<45])
        #expect(refused(twice))                                                   // a duplicate
        #expect(refused(Array("mlv-index 2\n".utf8)))                             // another version
    }

    /// A saved copy is checked as a download is, then read in order a buffer at a time: the
    /// hint's questions, asked in order, merge with it.
    @Test func aCopyIsCheckedAndReadInOrder() throws {
        let dir = try TemporaryDirectory()
        let objects = (0..<5000).map { Self.hash("\($0)", dir: $0 % 10 == 0) }
        let index = RemoteIndex(objects)
        let bytes = index.serialized()
        let path = dir.path + "/" + index.name
        try FS.writeFile(path, bytes)
        #expect(RemoteIndex.count(ofFile: path, name: index.name) == 5000)
        #expect(RemoteIndex.count(of: bytes, name: index.name) == 5000)
        let other = RemoteIndex([Self.hash("y"), Self.hash("1", dir: true)])
        try FS.writeFile(dir.path + "/" + other.name, other.serialized())

        var hint = RemoteHint(folder: dir.path)
        hint.indexes = [index.name: 5000, other.name: 2]
        let asked = (objects + [Self.hash("x"), Self.hash("y"), Self.hash("1", dir: true)]).sorted(by: RemoteIndex.precedes)
        let cursor = hint.cursor()
        #expect(asked.filter { cursor.contains($0) }.count == 5002)
        #expect(hint.naming([Self.hash("y"), Self.hash("x")]) == [other.name])
        #expect(hint.naming([Self.hash("1", dir: true), Self.hash("1")]).sorted() == [index.name, other.name].sorted())
        #expect(hint.load(other.name) == other)
        // One held in memory (downloaded by a fetch, which saves no copies) answers the same.
        var held = RemoteHint(folder: dir.path + "/none")
        held.indexes = [other.name: 2]
        held.unsaved = [other.name: other.serialized()]
        #expect(held.naming([Self.hash("y")]) == [other.name] && held.load(other.name) == other)
        let heldCursor = held.cursor()
        let questions = [Self.hash("1", dir: true), Self.hash("x"), Self.hash("y")].sorted(by: RemoteIndex.precedes)
        #expect(Set(questions.filter { heldCursor.contains($0) }) == [Self.hash("1", dir: true), Self.hash("y")])

        // A copy tampered with, torn, linked or misnamed names nothing.
        var flipped = bytes
        flipped[100] ^= 1
        try FS.writeFile(path, flipped)
        #expect(RemoteIndex.count(ofFile: path, name: index.name) == nil)
        try FS.writeFile(path, Array(bytes.dropLast(5)))
        #expect(RemoteIndex.count(ofFile: path, name: index.name) == nil)
        try FS.remove(path)
        try FS.writeFile(dir.path + "/real", bytes)
        #expect(symlink(dir.path + "/real", path) == 0)
        #expect(RemoteIndex.count(ofFile: path, name: index.name) == nil)
        #expect(RemoteIndex.count(ofFile: dir.path + "/real", name: other.name) == nil)
        #expect(RemoteIndex.count(ofFile: dir.path + "/missing", name: index.name) == nil)
    }
}
