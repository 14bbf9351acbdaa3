import MLVSupport
#if canImport(Glibc)
import Glibc
#endif

/// AWS credentials. `description` never shows the secret or the session token.
package struct AWSCredentials: Sendable, Equatable, CustomStringConvertible {
    package var accessKeyID: String
    package var secretAccessKey: String
    package var sessionToken: String?

    package init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
    }

    package var description: String { "AWSCredentials(accessKeyID: \(accessKeyID), secret: <hidden>)" }
}

/// AWS Signature Version 4, as a pure function of the request, the credentials and the date
/// (injected, as soto's `AWSSigner` does), so it can be checked against AWS's published vectors.
///
/// The three stages are visible to the tests so a test failure points at the one that is wrong:
/// `canonicalRequest` → `stringToSign` → `signature`.
package struct SigV4Signer: Sendable {
    /// A request to sign. `path` and `query` are *decoded* (the signer percent-encodes them);
    /// headers keep their order (duplicates are joined with "," in that order).
    package struct Request: Sendable {
        package var method: String
        package var path: String
        package var query: [(name: String, value: String)]
        package var headers: [(name: String, value: String)]

        package init(method: String, path: String, query: [(name: String, value: String)] = [], headers: [(name: String, value: String)] = []) {
            self.method = method
            self.path = path
            self.query = query
            self.headers = headers
        }
    }

    package var credentials: AWSCredentials
    package var region: String
    package var service: String
    /// Remove `.`/`..` segments and repeated slashes from the path (every service but S3).
    package var normalizePath: Bool
    /// Add the session token after signing instead of signing it (some services want this).
    package var omitSessionToken: Bool

    package init(credentials: AWSCredentials, region: String, service: String = "s3", normalizePath: Bool = false, omitSessionToken: Bool = false) {
        self.credentials = credentials
        self.region = region
        self.service = service
        self.normalizePath = normalizePath
        self.omitSessionToken = omitSessionToken
    }

    package static let algorithm = "AWS4-HMAC-SHA256"
    /// SHA-256 of the empty string: the payload hash of a request without a body.
    package static let emptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    package static let unsignedPayload = "UNSIGNED-PAYLOAD"

    // MARK: - Signing

    /// Signs with the `Authorization` header: returns `request`'s headers plus `X-Amz-Date`,
    /// `X-Amz-Content-SHA256` (when `addContentHashHeader`), `X-Amz-Security-Token` and `Authorization`.
    package func signedHeaders(_ request: Request, payloadHash: String, date: SigningTime, addContentHashHeader: Bool = true) -> [(name: String, value: String)] {
        let stamp = AMZDate(date)
        var headers = request.headers
        headers.append((name: "X-Amz-Date", value: stamp.dateTime))
        if addContentHashHeader { headers.append((name: "X-Amz-Content-SHA256", value: payloadHash)) }
        if let token = credentials.sessionToken, !omitSessionToken { headers.append((name: "X-Amz-Security-Token", value: token)) }
        var signing = request
        signing.headers = headers
        let canonical = canonicalRequest(signing, payloadHash: payloadHash)
        let signature = self.signature(stringToSign: stringToSign(canonicalRequest: canonical.text, date: date), date: date)
        if let token = credentials.sessionToken, omitSessionToken { headers.append((name: "X-Amz-Security-Token", value: token)) }
        headers.append((name: "Authorization", value: "\(Self.algorithm) Credential=\(credentials.accessKeyID)/\(scope(stamp)), SignedHeaders=\(canonical.signedHeaders), Signature=\(signature)"))
        return headers
    }

    /// The query parameters that presign `request` (URL signing), including `X-Amz-Signature`.
    package func presignedQuery(_ request: Request, payloadHash: String, date: SigningTime, expires: Int) -> [(name: String, value: String)] {
        let signing = presigningRequest(request, date: date, expires: expires)
        let canonical = canonicalRequest(signing, payloadHash: payloadHash)
        let signature = self.signature(stringToSign: stringToSign(canonicalRequest: canonical.text, date: date), date: date)
        var query = signing.query
        if let token = credentials.sessionToken, omitSessionToken { query.append((name: "X-Amz-Security-Token", value: token)) }
        query.append((name: "X-Amz-Signature", value: signature))
        return query
    }

    /// `request` with the presigning parameters added to its query (what gets canonicalized).
    package func presigningRequest(_ request: Request, date: SigningTime, expires: Int) -> Request {
        let stamp = AMZDate(date)
        var r = request
        r.query.append((name: "X-Amz-Algorithm", value: Self.algorithm))
        r.query.append((name: "X-Amz-Credential", value: "\(credentials.accessKeyID)/\(scope(stamp))"))
        r.query.append((name: "X-Amz-Date", value: stamp.dateTime))
        r.query.append((name: "X-Amz-Expires", value: String(expires)))
        if let token = credentials.sessionToken, !omitSessionToken { r.query.append((name: "X-Amz-Security-Token", value: token)) }
        r.query.append((name: "X-Amz-SignedHeaders", value: Self.canonicalHeaders(request.headers).signed))
        return r
    }

    // MARK: - The three stages

    /// Stage 1: the canonical request, and the `SignedHeaders` list it implies.
    package func canonicalRequest(_ request: Request, payloadHash: String) -> (text: String, signedHeaders: String) {
        let headers = Self.canonicalHeaders(request.headers)
        let path = normalizePath ? Self.normalized(request.path) : request.path
        let query = request.query
            .map { (Self.uriEncode($0.name), Self.uriEncode($0.value)) }
            .sorted { a, b in a.0 == b.0 ? a.1.utf8.lexicographicallyPrecedes(b.1.utf8) : a.0.utf8.lexicographicallyPrecedes(b.0.utf8) }
            .map { $0.0 + "=" + $0.1 }
            .joined(separator: "&")
        let text = [request.method, Self.uriEncode(path, keepSlash: true), query, headers.canonical, headers.signed, payloadHash].joined(separator: "\n")
        return (text, headers.signed)
    }

    /// Stage 2: the string to sign.
    package func stringToSign(canonicalRequest: String, date: SigningTime) -> String {
        let stamp = AMZDate(date)
        return [Self.algorithm, stamp.dateTime, scope(stamp), SHA256Hasher.hex(canonicalRequest)].joined(separator: "\n")
    }

    /// Stage 3: the hex signature (the key derived from the secret, the day, region and service).
    package func signature(stringToSign: String, date: SigningTime) -> String {
        let stamp = AMZDate(date)
        var key = HMACSHA256.mac(key: Array(("AWS4" + credentials.secretAccessKey).utf8), message: Array(stamp.day.utf8))
        for part in [region, service, "aws4_request"] { key = HMACSHA256.mac(key: key, message: Array(part.utf8)) }
        return Hex.encode(HMACSHA256.mac(key: key, message: Array(stringToSign.utf8)))
    }

    func scope(_ stamp: AMZDate) -> String { "\(stamp.day)/\(region)/\(service)/aws4_request" }

    // MARK: - Canonical forms

    /// Lower-cased names, sorted; values trimmed with inner runs of white space collapsed to one
    /// space; repeated names joined with "," in the order given.
    static func canonicalHeaders(_ headers: [(name: String, value: String)]) -> (canonical: String, signed: String) {
        var byName: [String: [String]] = [:]
        for h in headers {
            byName[h.name.lowercased(), default: []].append(collapseWhitespace(h.value))
        }
        let names = byName.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        let canonical = names.map { $0 + ":" + byName[$0]!.joined(separator: ",") + "\n" }.joined()
        return (canonical, names.joined(separator: ";"))
    }

    static func collapseWhitespace(_ s: String) -> String {
        var out: [UInt8] = []
        var pendingSpace = false
        for c in s.utf8 {
            if c == 32 || c == 9 || c == 10 || c == 13 {
                pendingSpace = !out.isEmpty
            } else {
                if pendingSpace { out.append(32); pendingSpace = false }
                out.append(c)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// RFC 3986 encoding of everything but the unreserved characters `A-Z a-z 0-9 - . _ ~`
    /// (and `/` in a path), upper-case hex, UTF-8 bytes.
    package static func uriEncode(_ s: String, keepSlash: Bool = false) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(s.utf8.count)
        for c in s.utf8 {
            switch c {
            case 65...90, 97...122, 48...57, 45, 46, 95, 126: out.append(c)
            case 47 where keepSlash: out.append(c)
            default:
                out.append(37)
                out.append(hex[Int(c >> 4)])
                out.append(hex[Int(c & 15)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// `//a/./b/../c/` → `/a/c/`.
    static func normalized(_ path: String) -> String {
        var parts: [Substring] = []
        for seg in path.split(separator: "/", omittingEmptySubsequences: true) {
            if seg == "." { continue }
            if seg == ".." { _ = parts.popLast(); continue }
            parts.append(seg)
        }
        var out = "/" + parts.joined(separator: "/")
        if path.hasSuffix("/") && !parts.isEmpty { out += "/" }
        return out
    }
}

/// The two renderings of a signing time: `20150830T123600Z` and `20150830`.
struct AMZDate {
    var dateTime: String
    var day: String

    init(_ date: SigningTime) {
        var t = time_t(date.secondsSince1970.rounded(.down))
        var tm = Glibc.tm()
        gmtime_r(&t, &tm)
        func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
        day = "\(tm.tm_year + 1900)" + two(tm.tm_mon + 1) + two(tm.tm_mday)
        dateTime = day + "T" + two(tm.tm_hour) + two(tm.tm_min) + two(tm.tm_sec) + "Z"
    }
}

/// A point in time as seconds since 1970 (no Foundation in the signer's API).
package struct SigningTime: Sendable, Equatable {
    package var secondsSince1970: Double
    package init(secondsSince1970: Double) { self.secondsSince1970 = secondsSince1970 }

    /// The current wall-clock time.
    package static func now() -> SigningTime {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return SigningTime(secondsSince1970: Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9)
    }
}
