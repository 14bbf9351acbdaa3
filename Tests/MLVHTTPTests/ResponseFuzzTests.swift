import Foundation
@testable import MLVHTTP
import MLVTestSupport
import Testing

/// What an S3 server answers is untrusted: mutated listings, error documents, entity bombs and
/// Content-Range/date headers go through the parsers mlv uses on them, which must return (a
/// value or nil) without trapping, in bounded time. `MLV_FUZZ_CASES` (default 2,000), `MLV_FUZZ_SEED`.
@Suite struct ResponseFuzzTests {
    static let documents = [
        """
        <?xml version="1.0" encoding="UTF-8"?><ListBucketResult><Name>b</Name><Contents><Key>p/sha256/ab/cd</Key><Size>12</Size>\
        <LastModified>2026-01-01T00:00:00.000Z</LastModified></Contents><IsTruncated>true</IsTruncated>\
        <NextContinuationToken>tok</NextContinuationToken></ListBucketResult>
        """,
        "<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>",
        "<InitiateMultipartUploadResult><Bucket>b</Bucket><Key>k</Key><UploadId>u-1</UploadId></InitiateMultipartUploadResult>",
        "<ListMultipartUploadsResult><Upload><Key>k</Key><UploadId>u</UploadId><Initiated>2026-01-01T00:00:00.000Z</Initiated></Upload></ListMultipartUploadsResult>",
    ]
    static let tokens = ["<", ">", "</", "/>", "&amp;", "&", "&#0;", "&#x110000;", "<![CDATA[", "]]>", "<!--", "-->", "\u{0}", "é",
                         "<!DOCTYPE x [<!ENTITY a \"aaaaaaaaaa\">]>", "&a;", String(repeating: "<a>", count: 500), "9223372036854775808",
                         "-1", "<Contents>", "<Key>", "</Key>", "<IsTruncated>true</IsTruncated>"]

    @Test func mutatedResponsesNeverTrap() {
        let seed = UInt64(ProcessInfo.processInfo.environment["MLV_FUZZ_SEED"] ?? "") ?? UInt64.random(in: 0...UInt64.max)
        let cases = Int(ProcessInfo.processInfo.environment["MLV_FUZZ_CASES"] ?? "") ?? 2000
        var rng = SplitMix(state: seed)
        var parsed = 0
        for _ in 0..<cases {
            var bytes = Array(rng.pick(Self.documents).utf8)
            for _ in 0...rng.below(4) {
                let at = rng.below(bytes.count + 1)
                switch rng.below(3) {
                case 0: bytes.insert(contentsOf: Array(rng.pick(Self.tokens).utf8), at: at)
                case 1: if at < bytes.count { bytes.removeSubrange(at..<min(bytes.count, at + 1 + rng.below(10))) }
                default: if at < bytes.count { bytes[at] ^= UInt8(1 << rng.below(8)) }
                }
            }
            if let tree = XMLTree.parse(bytes) {
                parsed += 1
                _ = tree["Key"]; _ = tree.all("Contents").map { ($0["Key"], $0["Size"].flatMap { Int64($0) }) }
            }
            _ = S3Error(response: HTTPResponse(status: 400 + rng.below(200), headers: [], body: bytes), bucket: "b", key: nil).description
            let header = String(decoding: bytes.prefix(40), as: UTF8.self)
            _ = S3Client.parseContentRange("bytes " + header)
            _ = S3Client.parseContentRange(rng.pick(["bytes 0-9223372036854775807/9223372036854775807", "bytes -1-2/3", "bytes 5-1/2", "bytes 0-1/"]))
            _ = S3Client.parseTimestamp(header)
        }
        #expect(parsed > 0 && parsed < cases, "seed \(seed): some mutations parse, some do not (\(parsed) of \(cases))")
    }

    /// Entities that expand exponentially (a "billion laughs" listing) are refused by the parser
    /// (libxml2's amplification limit), in well under a second.
    @Test func anEntityBombIsRefusedQuickly() {
        var doc = "<?xml version=\"1.0\"?><!DOCTYPE l [<!ENTITY l0 \"lollollollollollollollollollol\">"
        for i in 1...9 { doc += "<!ENTITY l\(i) \"" + String(repeating: "&l\(i - 1);", count: 10) + "\">" }
        doc += "]><ListBucketResult><Name>&l9;</Name></ListBucketResult>"
        let start = Date()
        let tree = XMLTree.parse(Array(doc.utf8))
        #expect(Date().timeIntervalSince(start) < 2)
        #expect(tree == nil || (tree?["Name"]?.utf8.count ?? 0) < 10_000_000)
    }
}
