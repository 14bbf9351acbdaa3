import Foundation
@testable import MLVHTTP
import MLVSupport
import Testing

/// Every case of AWS's SigV4 test suite (Fixtures/sigv4/v4, from awslabs/aws-c-auth), each stage
/// checked separately (canonical request, string to sign, signature), for header and query signing.
@Suite struct SigV4VectorTests {
    static let root = Path.join(Path.parent(#filePath), "Fixtures/sigv4/v4")
    static let cases: [String] = ((try? FS.list(root)) ?? []).map(\.name).sorted()

    struct Case {
        var signer: SigV4Signer
        var request: SigV4Signer.Request
        var body: [UInt8]
        var signBody: Bool
        var date: SigningTime
        var expires: Int
        var dir: String

        func expected(_ name: String) throws -> String { try FS.readText(Path.join(dir, name)) }
    }

    static func load(_ name: String) throws -> Case {
        let dir = Path.join(root, name)
        let context = try JSONSerialization.jsonObject(with: Data(try FS.readFile(Path.join(dir, "context.json")))) as! [String: Any]
        let creds = context["credentials"] as! [String: Any]
        let credentials = AWSCredentials(accessKeyID: creds["access_key_id"] as! String,
                                         secretAccessKey: creds["secret_access_key"] as! String,
                                         sessionToken: creds["token"] as? String)
        let signer = SigV4Signer(credentials: credentials, region: context["region"] as! String, service: context["service"] as! String,
                                 normalizePath: context["normalize"] as! Bool, omitSessionToken: context["omit_session_token"] as? Bool ?? false)
        // "2015-08-30T12:36:00Z"
        let ts = context["timestamp"] as! String
        let date = SigningTime(secondsSince1970: ISO8601DateFormatter().date(from: ts)!.timeIntervalSince1970)
        let (request, body) = parseRequest(try FS.readFile(Path.join(dir, "request.txt")))
        return Case(signer: signer, request: request, body: body, signBody: context["sign_body"] as! Bool, date: date,
                    expires: context["expiration_in_seconds"] as? Int ?? 3600, dir: dir)
    }

    /// `METHOD PATH[?QUERY] HTTP/1.1`, header lines (a line starting with white space continues
    /// the previous value), a blank line, the body.
    static func parseRequest(_ bytes: [UInt8]) -> (SigV4Signer.Request, [UInt8]) {
        var text = String(decoding: bytes, as: UTF8.self)
        var body: [UInt8] = []
        if let r = text.range(of: "\n\n") {
            body = Array(text[r.upperBound...].utf8)
            text = String(text[..<r.lowerBound])
        }
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let first = lines.removeFirst()
        let afterMethod = first[first.index(after: first.firstIndex(of: " ")!)...]
        let target = String(afterMethod[..<afterMethod.range(of: " HTTP/", options: .backwards)!.lowerBound])
        let method = String(first[..<first.firstIndex(of: " ")!])
        var path = target
        var query: [(name: String, value: String)] = []
        if let q = target.firstIndex(of: "?") {
            path = String(target[..<q])
            for pair in target[target.index(after: q)...].split(separator: "&") {
                let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                query.append((name: String(kv[0]).removingPercentEncoding!, value: kv.count > 1 ? String(kv[1]).removingPercentEncoding! : ""))
            }
        }
        var headers: [(name: String, value: String)] = []
        for line in lines where !line.isEmpty {
            if line.first == " " || line.first == "\t" {
                headers[headers.count - 1].value += " " + line
            } else {
                let colon = line.firstIndex(of: ":")!
                headers.append((name: String(line[..<colon]), value: String(line[line.index(after: colon)...])))
            }
        }
        return (SigV4Signer.Request(method: method, path: path, query: query, headers: headers), body)
    }

    @Test func theSuiteIsThere() {
        #expect(Self.cases.count == 38, "the vectors are missing from \(Self.root)")
    }

    @Test(arguments: cases) func headerSigning(_ name: String) throws {
        let c = try Self.load(name)
        let payload = SHA256Hasher.hex(c.body)
        // What signedHeaders signs: the request plus X-Amz-Date (and the payload hash and token).
        let headers = c.signer.signedHeaders(c.request, payloadHash: payload, date: c.date, addContentHashHeader: c.signBody)
        var signing = c.request
        signing.headers = headers.filter { $0.name != "Authorization" && !(c.signer.omitSessionToken && $0.name == "X-Amz-Security-Token") }
        let canonical = c.signer.canonicalRequest(signing, payloadHash: payload)
        #expect(canonical.text == (try c.expected("header-canonical-request.txt")), "canonical request, \(name)")
        let sts = c.signer.stringToSign(canonicalRequest: canonical.text, date: c.date)
        #expect(sts == (try c.expected("header-string-to-sign.txt")), "string to sign, \(name)")
        let signature = c.signer.signature(stringToSign: sts, date: c.date)
        #expect(signature == (try c.expected("header-signature.txt")), "signature, \(name)")
        // The Authorization header as the signed request shows it.
        let signed = try c.expected("header-signed-request.txt")
        let auth = headers.first { $0.name == "Authorization" }!.value
        #expect(signed.contains("Authorization:" + auth + "\n") || signed.hasSuffix("Authorization:" + auth), "authorization, \(name)")
    }

    @Test(arguments: cases) func querySigning(_ name: String) throws {
        let c = try Self.load(name)
        let payload = SHA256Hasher.hex(c.body)
        let presigning = c.signer.presigningRequest(c.request, date: c.date, expires: c.expires)
        let canonical = c.signer.canonicalRequest(presigning, payloadHash: payload)
        #expect(canonical.text == (try c.expected("query-canonical-request.txt")), "canonical request, \(name)")
        let sts = c.signer.stringToSign(canonicalRequest: canonical.text, date: c.date)
        #expect(sts == (try c.expected("query-string-to-sign.txt")), "string to sign, \(name)")
        let signature = c.signer.signature(stringToSign: sts, date: c.date)
        #expect(signature == (try c.expected("query-signature.txt")), "signature, \(name)")
        let query = c.signer.presignedQuery(c.request, payloadHash: payload, date: c.date, expires: c.expires)
        #expect(query.last?.name == "X-Amz-Signature" && query.last?.value == signature)
    }

    @Test func credentialsNeverPrintTheSecret() {
        let c = AWSCredentials(accessKeyID: "AKID", secretAccessKey: "very-secret", sessionToken: "tok-secret")
        for text in ["\(c)", String(reflecting: c)] {
            #expect(!text.contains("very-secret") && !text.contains("tok-secret"), "\(text)")
        }
    }

    @Test func s3KeysAreEncodedOnceWithSlashesKept() {
        #expect(SigV4Signer.uriEncode("/bucket/a b/ü+x=~.-_", keepSlash: true) == "/bucket/a%20b/%C3%BC%2Bx%3D~.-_")
        #expect(SigV4Signer.uriEncode("a/b") == "a%2Fb")
    }
}
