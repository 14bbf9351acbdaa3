import MLVHTTP
@testable import MLVKit
import MLVSupport
import MLVTestSupport
import Testing

/// S3Remote.existing on the test server, with 2-key listing pages so that every plan is taken:
/// the 16-way listing, and its fallbacks (per-folder listings, HEADs) when a chain has more
/// pages than its budget. Each plan must find exactly the objects that are there.
@Suite struct S3ExistenceTests {
    @Test func everyPlanFindsExactlyWhatIsThere() throws {
        let server = try S3TestServer.get()
        let tmp = try TemporaryDirectory(prefix: "mlv-exist")
        defer { tmp.remove() }
        let location = S3Location(endpoint: server.endpoint, bucket: server.bucket, region: "us-east-1", addressing: .path)
        let client = S3Client(location: location, credentials: AWSCredentials(accessKeyID: server.accessKey, secretAccessKey: server.secretKey))
        let store = S3Remote(name: "t", client: client, prefix: server.uniquePrefix("exist"))
        store.listPageSize = 2
        var present: [ContentHash] = []
        let absent = (0..<8).map { i in ContentHash(Digest(bytes: SHA256Hasher.hexBytes(Array("absent \(i)".utf8)))) }
        // An empty remote, then one that fits in one listing page: the first page answers.
        #expect(try store.existing(absent, jobs: 2).isEmpty)
        for i in 0..<40 {
            if i == 2 { #expect(try store.existing(present + absent, jobs: 2) == Set(present)) }
            let bytes = Array("object \(i)".utf8)
            let h = ContentHash(Digest(bytes: SHA256Hasher.hexBytes(bytes)))
            try FS.writeFile(tmp.path + "/o", bytes)
            try store.upload(h, from: tmp.path + "/o", size: Int64(bytes.count), jobs: 1)
            present.append(h)
        }
        let all = present + absent
        // Budget large enough: the 16-way listing answers.
        #expect(try store.existing(all, jobs: 2) == Set(present))
        // One page a chain at most: 40 keys in 16 chains, so some chain overflows (pigeonhole);
        // per-folder listings (or HEADs, if no two objects share a folder) answer.
        #expect(try store.existing(all, jobs: 64) == Set(present))
        // Objects of an overflowing chain, in distinct folders, one round: HEADs answer.
        let crowded = Dictionary(grouping: present) { $0.digest.hex.prefix(1) }.values.first { $0.count >= 3 }!
        var few: [ContentHash] = []
        for h in crowded + absent where !few.contains(where: { $0.digest.hex.prefix(2) == h.digest.hex.prefix(2) }) { few.append(h) }
        #expect(try store.existing(few, jobs: few.count) == Set(few.filter { present.contains($0) }))
        #expect(try store.existing([], jobs: 4).isEmpty)
    }
}
