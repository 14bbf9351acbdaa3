@testable import MLVKit
import MLVSupport
import Testing

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
}
