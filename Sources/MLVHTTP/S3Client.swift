import Foundation
import MLVSupport
#if canImport(Glibc)
import Glibc
#endif

/// An S3 error response (or a bodiless one, such as HEAD's): the HTTP status, S3's error code
/// (`SignatureDoesNotMatch`, `NoSuchBucket`, `SlowDown`…) and the key it was about. Never holds
/// a credential.
package struct S3Error: RetryableError, Sendable, CustomStringConvertible {
    package var status: Int
    package var code: String
    package var serverMessage: String
    package var bucket: String
    package var key: String?

    package var isRetryable: Bool {
        status >= 500 || status == 429 || ["SlowDown", "RequestTimeout", "InternalError", "ServiceUnavailable", "Throttling"].contains(code)
    }

    package var description: String {
        "\(code) (HTTP \(status)) for \(key.map { "'\($0)'" } ?? "bucket '\(bucket)'")" + (serverMessage.isEmpty ? "" : ": \(serverMessage)")
    }

    /// From an error response: the XML `<Error><Code>…` when there is one, else the status.
    init(response: HTTPResponse, bucket: String, key: String?) {
        status = response.status
        self.bucket = bucket
        self.key = key
        let xml = XMLTree.parse(response.body)
        let fallback: String
        switch response.status {
        case 403: fallback = "AccessDenied"
        case 404: fallback = key == nil ? "NoSuchBucket" : "NoSuchKey"
        case 429: fallback = "SlowDown"
        case 503: fallback = "ServiceUnavailable"
        default: fallback = "HTTP\(response.status)"
        }
        code = xml?.name == "Error" ? (xml?["Code"] ?? fallback) : fallback
        serverMessage = xml?.name == "Error" ? (xml?["Message"] ?? "") : ""
    }
}

/// Where the bucket lives and how to address it.
package struct S3Location: Sendable, Equatable {
    package enum Addressing: String, Sendable { case path, virtual }
    /// `http(s)://host[:port]`, no trailing slash.
    package var endpoint: String
    package var bucket: String
    package var region: String
    package var addressing: Addressing

    package init(endpoint: String, bucket: String, region: String, addressing: Addressing) {
        var e = endpoint
        while e.hasSuffix("/") { e.removeLast() }
        self.endpoint = e
        self.bucket = bucket
        self.region = region
        self.addressing = addressing
    }

    var scheme: String { endpoint.hasPrefix("https://") ? "https" : "http" }
    var authority: String { String(endpoint.dropFirst(scheme.count + 3)) }
    var host: String { addressing == .virtual ? "\(bucket).\(authority)" : authority }

    /// The decoded request path for `key` (nil: the bucket itself).
    func path(_ key: String?) -> String {
        switch addressing {
        case .path: return "/" + bucket + (key.map { "/" + $0 } ?? "")
        case .virtual: return "/" + (key ?? "")
        }
    }
}

/// The S3 calls mlv makes, each signed with SigV4 and retried per `retry` (re-signed each time).
package final class S3Client: @unchecked Sendable {
    package let location: S3Location
    private let signer: SigV4Signer
    private let http: HTTPClient
    package let retry: RetryPolicy
    private let now: @Sendable () -> SigningTime

    package init(location: S3Location, credentials: AWSCredentials, retry: RetryPolicy = RetryPolicy(),
                connectTimeout: Double = 10, readTimeout: Double = 60, now: @escaping @Sendable () -> SigningTime = { .now() }) {
        self.location = location
        signer = SigV4Signer(credentials: credentials, region: location.region)
        http = HTTPClient(connectTimeout: connectTimeout, readTimeout: readTimeout)
        self.retry = retry
        self.now = now
    }

    /// One signed request, retried. `prepare` runs before each attempt (to rewind a download file).
    func send(_ method: String, key: String?, query: [(name: String, value: String)] = [], headers: [(name: String, value: String)] = [],
              body: HTTPRequest.Body = .none, payloadHash: String = SigV4Signer.emptyPayloadHash,
              sink: ResponseSink = .memory(limit: 16 << 20), prepare: () throws -> Void = {}) throws -> HTTPResponse {
        let path = location.path(key)
        var url = location.scheme + "://" + location.host + SigV4Signer.uriEncode(path, keepSlash: true)
        if !query.isEmpty {
            url += "?" + query.map { SigV4Signer.uriEncode($0.name) + "=" + SigV4Signer.uriEncode($0.value) }.joined(separator: "&")
        }
        return try retry.run { _ in
            try prepare()
            var request = SigV4Signer.Request(method: method, path: path, query: query, headers: [(name: "Host", value: location.host)] + headers)
            if case .none = body {} else { request.headers.append((name: "Content-Length", value: String(bodyLength(body)))) }
            let signed = signer.signedHeaders(request, payloadHash: payloadHash, date: now())
            let response = try http.send(HTTPRequest(method: method, url: url, headers: signed, body: body), sink: sink)
            if response.status >= 300 { throw S3Error(response: response, bucket: location.bucket, key: key) }
            return response
        }
    }

    private func bodyLength(_ body: HTTPRequest.Body) -> Int64 {
        switch body {
        case .none: return 0
        case .bytes(let b): return Int64(b.count)
        case .file(_, _, let n): return n
        }
    }

    // MARK: - Multipart upload

    /// Starts a multipart upload and returns its upload id.
    package func createMultipartUpload(key: String) throws -> String {
        let r = try send("POST", key: key, query: [(name: "uploads", value: "")])
        guard let xml = XMLTree.parse(r.body), xml.name == "InitiateMultipartUploadResult", let id = xml["UploadId"], !id.isEmpty else {
            throw S3Error(status: r.status, code: "MalformedResponse", serverMessage: "no UploadId in the answer to CreateMultipartUpload", bucket: location.bucket, key: key)
        }
        return id
    }

    /// Uploads `length` bytes of `file` from `offset` as part `number` (1-based); returns its ETag.
    package func uploadPart(key: String, uploadID: String, number: Int, file: String, offset: Int64, length: Int64, sha256Hex: String) throws -> String {
        let r = try send("PUT", key: key, query: [(name: "partNumber", value: String(number)), (name: "uploadId", value: uploadID)],
                         body: .file(path: file, offset: offset, length: length), payloadHash: sha256Hex)
        guard let etag = r.header("etag"), !etag.isEmpty else {
            throw S3Error(status: r.status, code: "MalformedResponse", serverMessage: "no ETag for part \(number)", bucket: location.bucket, key: key)
        }
        return etag
    }

    package func completeMultipartUpload(key: String, uploadID: String, etags: [String]) throws {
        var xml = "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
        for (i, etag) in etags.enumerated() {
            xml += "<Part><PartNumber>\(i + 1)</PartNumber><ETag>\(MarkupText.escape(etag))</ETag></Part>"
        }
        xml += "</CompleteMultipartUpload>"
        let body = Array(xml.utf8)
        let r = try send("POST", key: key, query: [(name: "uploadId", value: uploadID)], headers: [(name: "Content-Type", value: "application/xml")],
                         body: .bytes(body), payloadHash: SHA256Hasher.hex(body))
        // CompleteMultipartUpload can fail with status 200 and an <Error> body.
        if let answer = XMLTree.parse(r.body), answer.name == "Error" {
            throw S3Error(status: 200, code: answer["Code"] ?? "InternalError", serverMessage: answer["Message"] ?? "", bucket: location.bucket, key: key)
        }
    }

    package func abortMultipartUpload(key: String, uploadID: String) throws {
        _ = try send("DELETE", key: key, query: [(name: "uploadId", value: uploadID)])
    }

    /// A multipart upload that was started and neither completed nor aborted.
    package struct OpenUpload: Sendable, Equatable {
        package var key: String
        package var uploadID: String
        /// When it was started, as seconds since 1970 (nil when missing or unreadable).
        package var initiated: Double?
    }

    /// ListMultipartUploads below `prefix`, every page (at most `maxPages`).
    package func listMultipartUploads(prefix: String, maxUploads: Int = 1000, maxPages: Int = 100) throws -> [OpenUpload] {
        var out: [OpenUpload] = []
        var keyMarker: String?
        var idMarker: String?
        var pages = 0
        repeat {
            var query: [(name: String, value: String)] = [(name: "uploads", value: ""), (name: "prefix", value: prefix)]
            if maxUploads != 1000 { query.append((name: "max-uploads", value: String(maxUploads))) }
            if let keyMarker { query.append((name: "key-marker", value: keyMarker)) }
            if let idMarker { query.append((name: "upload-id-marker", value: idMarker)) }
            let r = try send("GET", key: nil, query: query)
            guard let xml = XMLTree.parse(r.body), xml.name == "ListMultipartUploadsResult" else {
                throw S3Error(status: r.status, code: "MalformedResponse", serverMessage: "the answer to ListMultipartUploads is not a ListMultipartUploadsResult document",
                              bucket: location.bucket, key: nil)
            }
            for u in xml.all("Upload") {
                guard let key = u["Key"], let id = u["UploadId"], !id.isEmpty else { continue }
                out.append(OpenUpload(key: key, uploadID: id, initiated: u["Initiated"].flatMap(Self.parseTimestamp)))
            }
            pages += 1
            let nextKey = xml["NextKeyMarker"], nextID = xml["NextUploadIdMarker"]
            // Only a marker that moves on continues (a server repeating itself must not loop us).
            guard xml["IsTruncated"] == "true", let nextKey, !nextKey.isEmpty, nextKey != keyMarker || nextID != idMarker else { break }
            keyMarker = nextKey
            idMarker = nextID?.isEmpty == false ? nextID : nil
        } while pages < maxPages
        return out
    }

    /// A part already uploaded: its number, ETag (quotes included, as sent) and size.
    package struct UploadedPart: Sendable, Equatable {
        package var number: Int
        package var etag: String
        package var size: Int64
    }

    /// ListParts of an open upload, every page (S3 allows at most 10,000 parts).
    package func listParts(key: String, uploadID: String, maxParts: Int = 1000) throws -> [UploadedPart] {
        var out: [UploadedPart] = []
        var marker = 0
        for _ in 0..<10_001 {
            var query: [(name: String, value: String)] = [(name: "uploadId", value: uploadID)]
            if maxParts != 1000 { query.append((name: "max-parts", value: String(maxParts))) }
            if marker > 0 { query.append((name: "part-number-marker", value: String(marker))) }
            let r = try send("GET", key: key, query: query)
            // S3 names the root ListPartsResult; moto's server says ListPartsResponse.
            guard let xml = XMLTree.parse(r.body), xml.name == "ListPartsResult" || xml.name == "ListPartsResponse" else {
                throw S3Error(status: r.status, code: "MalformedResponse", serverMessage: "the answer to ListParts is not a ListPartsResult document",
                              bucket: location.bucket, key: key)
            }
            for p in xml.all("Part") {
                // Untrusted: only well-formed entries in S3's range count.
                guard let n = p["PartNumber"].flatMap({ Int($0) }), (1...10_000).contains(n), let etag = p["ETag"], !etag.isEmpty,
                      let size = p["Size"].flatMap({ Int64($0) }), size >= 0 else { continue }
                out.append(UploadedPart(number: n, etag: etag, size: size))
            }
            guard xml["IsTruncated"] == "true", let next = xml["NextPartNumberMarker"].flatMap({ Int($0) }), next > marker, next < 10_000 else { break }
            marker = next
        }
        return out
    }

    // MARK: - Objects

    /// Uploads a file (streamed), signed over its SHA-256 (`sha256Hex`, which the cache knows).
    package func putObject(key: String, file: String, size: Int64, sha256Hex: String) throws {
        _ = try send("PUT", key: key, body: .file(path: file, offset: 0, length: size), payloadHash: sha256Hex)
    }

    package func putObject(key: String, bytes: [UInt8]) throws {
        _ = try send("PUT", key: key, body: .bytes(bytes), payloadHash: SHA256Hasher.hex(bytes))
    }

    /// Downloads `key` into the open file `fd` (truncated before each attempt); returns the
    /// byte count and SHA-256 of what arrived. More than `limit` bytes is an error.
    package func getObject(key: String, to fd: Int32, path: String, limit: Int64? = nil) throws -> (bytes: Int64, sha256: [UInt8]) {
        let r = try send("GET", key: key, sink: .file(descriptor: fd, path: path, limit: limit), prepare: { try FS.rewind(fd, path: path) })
        return (r.bytesWritten, r.sha256 ?? [])
    }

    /// What one ranged GET wrote.
    package struct RangeAnswer: Sendable {
        /// 206: the range asked for; 200: the server sent the whole object (from offset 0).
        package var status: Int
        package var bytesWritten: Int64
        /// The object's size, from `Content-Range: bytes a-b/SIZE` (nil for a 200).
        package var objectSize: Int64?
    }

    /// GETs bytes `offset..<offset+length` of `key` (a `Range:` request) and writes them with
    /// pwrite at the same offset of `fd`, streamed; each attempt writes the range afresh.
    /// `acceptWhole`: a server that ignores Range may answer 200 with the whole object (only
    /// sensible for the first range, at offset 0); otherwise only a 206 for exactly this range is taken.
    /// `limit`: the most bytes a whole-object answer may hold.
    package func getRange(key: String, offset: Int64, length: Int64, to fd: Int32, path: String, acceptWhole: Bool = false,
                         limit: Int64? = nil) throws -> RangeAnswer {
        precondition(offset >= 0 && length > 0)
        let r = try send("GET", key: key, headers: [(name: "Range", value: "bytes=\(offset)-\(offset + length - 1)")],
                         sink: .range(descriptor: fd, path: path, offset: offset, limit: acceptWhole && offset == 0 ? limit : length))
        func malformed(_ why: String) -> S3Error {
            S3Error(status: r.status, code: "MalformedResponse", serverMessage: why, bucket: location.bucket, key: key)
        }
        if r.status == 200 {
            guard acceptWhole && offset == 0 else { throw malformed("the server answered a ranged GET with the whole object") }
            return RangeAnswer(status: 200, bytesWritten: r.bytesWritten, objectSize: nil)
        }
        guard r.status == 206, let range = r.header("content-range").flatMap(Self.parseContentRange),
              range.first == offset, range.last >= range.first, range.size > range.last,
              range.last == min(offset + length, range.size) - 1, r.bytesWritten - 1 == range.last - range.first else {
            throw malformed("the answer to a ranged GET does not hold bytes \(offset)-\(offset + length - 1)")
        }
        return RangeAnswer(status: 206, bytesWritten: r.bytesWritten, objectSize: range.size)
    }

    /// "bytes 0-99/1234" → (0, 99, 1234).
    static func parseContentRange(_ s: String) -> (first: Int64, last: Int64, size: Int64)? {
        guard s.hasPrefix("bytes ") else { return nil }
        let rest = s.dropFirst(6)
        let slash = rest.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard slash.count == 2 else { return nil }
        let dash = slash[0].split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        guard dash.count == 2, let a = Int64(dash[0]), let b = Int64(dash[1]), let n = Int64(slash[1]), a >= 0, b >= 0, n >= 0 else { return nil }
        return (a, b, n)
    }

    /// What the server says of `key` now: size, ETag and Last-Modified; nil when there is no such object.
    package func objectVersion(key: String) throws -> (size: Int64, etag: String?, lastModified: String?)? {
        do {
            let r = try send("HEAD", key: key)
            return (r.header("content-length").flatMap { Int64($0) } ?? 0, r.header("etag"), r.header("last-modified"))
        } catch let e as S3Error where e.status == 404 {
            return nil
        }
    }

    /// `getObject`, with the ETag the answer carried.
    package func getObjectWithTag(key: String, to fd: Int32, path: String, limit: Int64? = nil) throws -> (bytes: Int64, sha256: [UInt8], etag: String?) {
        let r = try send("GET", key: key, sink: .file(descriptor: fd, path: path, limit: limit), prepare: { try FS.rewind(fd, path: path) })
        return (r.bytesWritten, r.sha256 ?? [], r.header("etag"))
    }

    /// A small object, whole (at most `limit` bytes).
    package func getObject(key: String, limit: Int) throws -> [UInt8] {
        try send("GET", key: key, sink: .memory(limit: limit)).body
    }

    /// The object's size, or nil when there is none.
    package func headObject(key: String) throws -> Int64? {
        do {
            let r = try send("HEAD", key: key)
            return r.header("content-length").flatMap { Int64($0) } ?? 0
        } catch let e as S3Error where e.status == 404 {
            return nil
        }
    }

    /// Checks that the bucket exists and the credentials work.
    package func headBucket() throws {
        _ = try send("HEAD", key: nil)
    }

    package func deleteObject(key: String) throws {
        _ = try send("DELETE", key: key)
    }

    package struct ListedObject: Sendable {
        package var key: String
        package var size: Int64
        /// LastModified, as seconds since 1970 (nil when missing or unreadable).
        package var modified: Double?
    }

    package struct Listing: Sendable {
        package var objects: [ListedObject]
        package var nextToken: String?
    }

    /// One page of ListObjectsV2 (up to 1,000 keys) below `prefix`.
    package func listObjects(prefix: String, continuationToken: String? = nil, maxKeys: Int = 1000) throws -> Listing {
        var query: [(name: String, value: String)] = [(name: "list-type", value: "2"), (name: "prefix", value: prefix)]
        if maxKeys != 1000 { query.append((name: "max-keys", value: String(maxKeys))) }
        if let continuationToken { query.append((name: "continuation-token", value: continuationToken)) }
        let r = try send("GET", key: nil, query: query)
        guard let xml = XMLTree.parse(r.body), xml.name == "ListBucketResult" else {
            throw S3Error(status: r.status, code: "MalformedListing", serverMessage: "the listing is not a ListBucketResult document", bucket: location.bucket, key: nil)
        }
        var objects: [ListedObject] = []
        for c in xml.all("Contents") {
            guard let key = c["Key"] else { continue }
            objects.append(ListedObject(key: key, size: c["Size"].flatMap { Int64($0) } ?? 0, modified: c["LastModified"].flatMap(Self.parseTimestamp)))
        }
        let truncated = xml["IsTruncated"] == "true"
        let next = xml["NextContinuationToken"]
        return Listing(objects: objects, nextToken: truncated && next?.isEmpty == false ? next : nil)
    }

    /// Every key below `prefix` (all pages).
    package func listAll(prefix: String, maxKeys: Int = 1000) throws -> [ListedObject] {
        var out: [ListedObject] = []
        try forEachPage(prefix: prefix, maxKeys: maxKeys) { page in
            out += page.objects
            return true
        }
        return out
    }

    /// Passes the pages of the listing below `prefix` to `body` until it returns false or the
    /// listing ends. A listing that cannot end is an `EndlessListing` error, not a loop: a
    /// continuation token that comes back, keys that do not ascend from page to page (S3 lists
    /// in UTF-8 order, so an honest listing never repeats itself), 32 empty truncated pages in
    /// a row, or more than `maxPages` pages.
    package func forEachPage(prefix: String, maxKeys: Int = 1000, maxPages: Int = 1_000_000,
                            _ body: (Listing) throws -> Bool) throws {
        var token: String?
        var tokens = Set<String>()
        var lastKey: String?
        var emptyRun = 0
        func endless(_ why: String) -> S3Error {
            S3Error(status: 200, code: "EndlessListing", serverMessage: why, bucket: location.bucket, key: nil)
        }
        for _ in 0..<maxPages {
            let page = try listObjects(prefix: prefix, continuationToken: token, maxKeys: maxKeys)
            for o in page.objects {
                if let lastKey, !lastKey.utf8.lexicographicallyPrecedes(o.key.utf8) { throw endless("key '\(o.key)' came after '\(lastKey)'") }
                lastKey = o.key
            }
            guard try body(page), let next = page.nextToken else { return }
            emptyRun = page.objects.isEmpty ? emptyRun + 1 : 0
            if emptyRun >= 32 { throw endless("\(emptyRun) empty pages in a row, each saying more follow") }
            guard tokens.insert(next).inserted else { throw endless("the continuation token '\(next.prefix(64))' came back") }
            token = next
        }
        throw endless("more than \(maxPages) pages")
    }
}

extension S3Client {
    /// "2026-11-27T14:03:12.000Z" → seconds since 1970 (UTC).
    static func parseTimestamp(_ s: String) -> Double? {
        let u = Array(s.utf8)
        guard u.count >= 19, u[4] == 45, u[7] == 45, u[10] == 84, u[13] == 58, u[16] == 58 else { return nil }
        func num(_ r: Range<Int>) -> Int? { Int(String(decoding: u[r], as: UTF8.self)) }
        guard let y = num(0..<4), let mo = num(5..<7), let d = num(8..<10), let h = num(11..<13), let mi = num(14..<16), let sec = num(17..<19),
              (1...12).contains(mo), (1...31).contains(d), h < 24, mi < 60, sec < 61 else { return nil }
        // Days from civil (Howard Hinnant's algorithm).
        let yy = mo <= 2 ? y - 1 : y
        let era = (yy >= 0 ? yy : yy - 399) / 400
        let yoe = yy - era * 400
        let doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146_097 + doe - 719_468
        return Double(days * 86_400 + h * 3600 + mi * 60 + sec)
    }

    /// DeleteObjects for up to 1,000 keys; returns the keys the server could not delete, with its code.
    package func deleteObjects(keys: [String]) throws -> [(key: String, code: String)] {
        precondition(keys.count <= 1000)
        if keys.isEmpty { return [] }
        var xml = "<Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Quiet>true</Quiet>"
        for k in keys { xml += "<Object><Key>\(MarkupText.escape(k))</Key></Object>" }
        xml += "</Delete>"
        let body = Array(xml.utf8)
        let sha = SHA256Hasher()
        sha.update(body)
        let digest = sha.finalizeBytes()
        // S3 wants an integrity header on DeleteObjects: the SHA-256 checksum (in place of Content-MD5).
        let r = try send("POST", key: nil, query: [(name: "delete", value: "")],
                         headers: [(name: "Content-Type", value: "application/xml"),
                                   (name: "x-amz-checksum-sha256", value: Data(digest).base64EncodedString()),
                                   (name: "x-amz-sdk-checksum-algorithm", value: "SHA256")],
                         body: .bytes(body), payloadHash: Hex.encode(digest))
        guard let answer = XMLTree.parse(r.body), answer.name == "DeleteResult" else { return [] }
        return answer.all("Error").map { (key: $0["Key"] ?? "", code: $0["Code"] ?? "InternalError") }
    }
}

extension S3Error {
    init(status: Int, code: String, serverMessage: String, bucket: String, key: String?) {
        self.status = status
        self.code = code
        self.serverMessage = serverMessage
        self.bucket = bucket
        self.key = key
    }
}
