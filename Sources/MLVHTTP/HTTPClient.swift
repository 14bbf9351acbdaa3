internal import CCurl
#if canImport(Glibc)
import Glibc
#endif
import MLVSupport

package struct HTTPRequest: Sendable {
    package enum Body: Sendable {
        case none
        case bytes([UInt8])
        /// `length` bytes of the file at `path` from `offset`, streamed (never whole in memory).
        case file(path: String, offset: Int64, length: Int64)
    }

    package var method: String
    package var url: String
    package var headers: [(name: String, value: String)]
    package var body: Body

    package init(method: String, url: String, headers: [(name: String, value: String)] = [], body: Body = .none) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
    }

    var bodyLength: Int64? {
        switch body {
        case .none: return nil
        case .bytes(let b): return Int64(b.count)
        case .file(_, _, let length): return length
        }
    }
}

/// Where a successful response's body goes. An error response's body (status ≥ 300) always
/// goes to memory (at most 64 KiB), so its XML can be read.
package enum ResponseSink: Sendable {
    /// In memory, refusing bodies over `limit` bytes.
    case memory(limit: Int)
    /// Appended to an open file, hashed with SHA-256 on the way.
    case file(descriptor: Int32, path: String, limit: Int64?)
    /// Written with pwrite from `offset` of an open file (one range of a ranged download; not
    /// hashed here), refusing more than `limit` bytes (nil: no limit).
    case range(descriptor: Int32, path: String, offset: Int64, limit: Int64?)
}

package struct HTTPResponse: Sendable {
    package var status: Int
    /// Names lower-cased, in the order received.
    package var headers: [(name: String, value: String)]
    package var body: [UInt8]
    /// With a file sink: bytes written and their SHA-256.
    package var bytesWritten: Int64 = 0
    package var sha256: [UInt8]?

    package func header(_ name: String) -> String? { headers.last { $0.name == name }?.value }
}

/// HTTP/1.1 over a pool of libcurl easy handles: each request borrows a handle (and with it a
/// kept-alive connection), so `jobs` threads reuse `jobs` connections. One attempt per `send`;
/// retrying is the caller's (see RetryPolicy), since a signed request must be re-signed.
package final class HTTPClient: @unchecked Sendable {
    package var connectTimeout: Double
    package var readTimeout: Double
    private var idle: [CurlEasy] = []
    private let lock = Lock()

    /// The slowest average transfer a request may keep up for `readTimeout` seconds (bytes/s).
    static let minimumRate = 512
    /// The rate a request's total deadline assumes for its bytes: 64 KiB/s, far below any link
    /// mlv is used on, so only a server that is not really sending trips it.
    static let deadlineRate = 65_536.0

    /// The most seconds one request may take in all: the connect and read timeouts, twice over,
    /// plus its bytes (the body it sends, or the most its answer may hold) at `deadlineRate`.
    func deadline(_ request: HTTPRequest, _ sink: ResponseSink) -> Double {
        var bytes = Double(request.bodyLength ?? 0)
        switch sink {
        case .memory(let limit): bytes += Double(limit)
        case .file(_, _, let limit?), .range(_, _, _, let limit?): bytes += Double(limit)
        case .file, .range: bytes += 64 * 1024 * 1024 * 1024  // no size known: 64 GiB
        }
        return 2 * (connectTimeout + readTimeout) + bytes / Self.deadlineRate
    }

    package init(connectTimeout: Double = 10, readTimeout: Double = 60) {
        self.connectTimeout = connectTimeout
        self.readTimeout = readTimeout
    }

    private func borrow() throws -> CurlEasy {
        lock.lock()
        if let h = idle.popLast() { lock.unlock(); return h }
        lock.unlock()
        return try CurlEasy()
    }

    private func giveBack(_ h: CurlEasy) {
        lock.lock()
        idle.append(h)
        lock.unlock()
    }

    package func send(_ request: HTTPRequest, sink: ResponseSink = .memory(limit: 16 << 20)) throws -> HTTPResponse {
        let easy = try borrow()
        var healthy = false
        defer { if healthy { giveBack(easy) } }
        let context = try TransferContext(request: request, sink: sink)
        defer { context.close() }
        let box = Unmanaged.passRetained(context)
        defer { box.release() }
        easy.reset()
        try easy.configureCommon(connectTimeout: connectTimeout, readTimeout: readTimeout, deadline: deadline(request, sink))
        try easy.configureMethod(request.method, bodyLength: request.bodyLength)
        // "Expect:" stops curl waiting a round trip for "100 Continue" before large bodies.
        let lines = request.headers.map { "\($0.name): \($0.value)" } + ["Expect:"]
        let list = easy.headerList(lines)
        defer { easy.free(list) }
        try easy.configure(url: request.url, headers: list)
        try easy.configure(read: request.bodyLength == nil ? nil : TransferContext.read,
                           write: TransferContext.write, header: TransferContext.header, context: box.toOpaque())
        do {
            try easy.perform(url: request.url)
        } catch var e as TransportError {
            if let why = context.localError { e.message = why; e.retryable = false }
            throw e
        }
        healthy = true
        var response = HTTPResponse(status: easy.responseCode, headers: context.headers, body: context.memory)
        if response.status < 300 {
            switch sink {
            case .file:
                response.bytesWritten = context.written
                response.sha256 = context.hasher?.finalizeBytes()
            case .range:
                response.bytesWritten = context.written
            case .memory:
                break
            }
        }
        return response
    }
}

/// The state one transfer's callbacks share (passed to libcurl as an opaque pointer).
final class TransferContext {
    let request: HTTPRequest
    let sink: ResponseSink
    var bodyFD: Int32 = -1
    var bodyOffset: Int64 = 0
    var bodySent: Int64 = 0
    var status = 0
    var headers: [(name: String, value: String)] = []
    var memory: [UInt8] = []
    var written: Int64 = 0
    var hasher: SHA256Hasher?
    /// A local failure (disk full, body too large) that made a callback stop the transfer.
    var localError: String?

    init(request: HTTPRequest, sink: ResponseSink) throws {
        self.request = request
        self.sink = sink
        if case .file(let path, let offset, _) = request.body {
            bodyFD = open(path, O_RDONLY | O_CLOEXEC)
            guard bodyFD >= 0 else { throw FileSystemError.posix("read", path, errno: errno) }
            bodyOffset = offset
        }
        if case .file = sink { hasher = SHA256Hasher() }
    }

    func close() { if bodyFD >= 0 { Glibc.close(bodyFD); bodyFD = -1 } }

    static func from(_ p: UnsafeMutableRawPointer?) -> TransferContext { Unmanaged<TransferContext>.fromOpaque(p!).takeUnretainedValue() }

    static let read: CurlEasy.Callback = { buffer, size, count, userdata in
        let c = TransferContext.from(userdata)
        let room = size * count
        guard let buffer, room > 0 else { return 0 }
        switch c.request.body {
        case .none:
            return 0
        case .bytes(let bytes):
            let n = min(room, bytes.count - Int(c.bodySent))
            if n > 0 {
                bytes.withUnsafeBytes { src in
                    UnsafeMutableRawPointer(buffer).copyMemory(from: src.baseAddress! + Int(c.bodySent), byteCount: n)
                }
            }
            c.bodySent += Int64(n)
            return n
        case .file(let path, _, let length):
            let want = min(Int64(room), length - c.bodySent)
            if want <= 0 { return 0 }
            while true {
                let n = pread(c.bodyFD, buffer, Int(want), off_t(c.bodyOffset + c.bodySent))
                if n < 0 && errno == EINTR { continue }
                if n <= 0 {
                    c.localError = n < 0 ? FileSystemError.posix("read", path, errno: errno).message : "'\(path)' became shorter while being sent"
                    return Int(CURL_READFUNC_ABORT)
                }
                c.bodySent += Int64(n)
                return n
            }
        }
    }

    /// CURLOPT_SEEKFUNCTION: rewind the body (curl only ever asks for SEEK_SET).
    static let seek: @convention(c) (UnsafeMutableRawPointer?, curl_off_t, Int32) -> Int32 = { userdata, offset, origin in
        let c = TransferContext.from(userdata)
        guard origin == SEEK_SET, offset >= 0, offset <= (c.request.bodyLength ?? 0) else { return Int32(CURL_SEEKFUNC_CANTSEEK) }
        c.bodySent = Int64(offset)
        return Int32(CURL_SEEKFUNC_OK)
    }

    static let write: CurlEasy.Callback = { buffer, size, count, userdata in
        let c = TransferContext.from(userdata)
        let n = size * count
        guard let buffer, n > 0 else { return n }
        let bytes = UnsafeRawBufferPointer(start: buffer, count: n)
        if c.status >= 300 {
            if c.memory.count < 64 << 10 { c.memory.append(contentsOf: bytes.prefix(64 << 10 - c.memory.count)) }
            return n
        }
        switch c.sink {
        case .memory(let limit):
            guard c.memory.count + n <= limit else {
                c.localError = "the response from \(c.request.url) is larger than \(limit) bytes"
                return 0
            }
            c.memory.append(contentsOf: bytes)
        case .file(let fd, let path, let limit):
            if let limit, c.written + Int64(n) > limit {
                c.localError = "the answer from \(c.request.url) holds more than the \(limit) bytes recorded for it"
                return 0
            }
            do { try FS.writeAll(fd, bytes, path: path) } catch {
                c.localError = (error as? FileSystemError)?.message ?? "\(error)"
                return 0
            }
            c.hasher?.update(bytes)
            c.written += Int64(n)
        case .range(let fd, let path, let offset, let limit):
            if let limit, c.written + Int64(n) > limit {
                c.localError = "the answer from \(c.request.url) holds more bytes than the \(limit) asked for"
                return 0
            }
            do { try FS.writeAll(fd, bytes, at: offset + c.written, path: path) } catch {
                c.localError = (error as? FileSystemError)?.message ?? "\(error)"
                return 0
            }
            c.written += Int64(n)
        }
        return n
    }

    static let header: CurlEasy.Callback = { buffer, size, count, userdata in
        let c = TransferContext.from(userdata)
        let n = size * count
        guard let buffer else { return n }
        // Bytes, not Characters: this runs for every header line of every response (a tenth of
        // a small-file pull's user time when it went through String's grapheme-aware trimming).
        let line = UnsafeRawBufferPointer(start: buffer, count: n)
        if line.starts(with: "HTTP/".utf8) {
            // A new status line (after "100 Continue" or a redirect): start over.
            let parts = String(decoding: line, as: UTF8.self).split(separator: " ")
            c.status = parts.count > 1 ? Int(parts[1]) ?? 0 : 0
            c.headers = []
        } else if let colon = line.firstIndex(of: UInt8(ascii: ":")) {
            let blank: (UInt8) -> Bool = { $0 == 32 || $0 == 9 || $0 == 13 || $0 == 10 }
            var lo = colon + 1, hi = n
            while lo < hi, blank(line[lo]) { lo += 1 }
            while hi > lo, blank(line[hi - 1]) { hi -= 1 }
            let name = String(decoding: line[..<colon].map { (65...90).contains($0) ? $0 + 32 : $0 }, as: UTF8.self)
            c.headers.append((name: name, value: String(decoding: UnsafeRawBufferPointer(rebasing: line[lo..<hi]), as: UTF8.self)))
        }
        return n
    }
}
