internal import CCurl
#if canImport(Glibc)
import Glibc
#endif
import MLVSupport

/// A failure below HTTP: connection refused, reset, timed out, a body cut short. `code` is the
/// CURLcode; `retryable` says whether trying again may help.
package struct TransportError: Error, Sendable, CustomStringConvertible {
    package var code: Int32
    package var message: String
    package var retryable: Bool
    /// libcurl's words for the code alone ("Couldn't connect to server"), without the details
    /// (ports, milliseconds) that `message` has.
    package var reason: String = ""
    package var description: String { message }

    /// The endpoint could not be reached (resolve, connect, timeout, TLS, reset), as opposed
    /// to a local failure such as a full disk.
    package var isNetwork: Bool {
        [CURLE_COULDNT_RESOLVE_PROXY, CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_CONNECT, CURLE_OPERATION_TIMEDOUT,
         CURLE_SSL_CONNECT_ERROR, CURLE_GOT_NOTHING, CURLE_SEND_ERROR, CURLE_RECV_ERROR].map { Int32($0.rawValue) }.contains(code)
    }
}

/// One libcurl easy handle (freed in `deinit`). Reused for request after request, it keeps its
/// connection to the server alive (curl_easy_reset keeps live connections).
final class CurlEasy {
    private let api: HTTPLibrary.API
    private let handle: OpaquePointer
    private var errorBuffer = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)

    init() throws {
        api = try HTTPLibrary.api()
        guard let h = api.easyInit() else { throw HTTPLibrary.Unavailable(message: "curl_easy_init failed") }
        handle = h
    }

    deinit { api.easyCleanup(handle) }

    func reset() { api.easyReset(handle) }

    // The one funnel every option goes through (a failed setopt is a bug or an old libcurl).
    private func check(_ code: CURLcode, _ what: String) throws {
        guard code == CURLE_OK else {
            throw TransportError(code: Int32(code.rawValue), message: "libcurl refused option \(what): \(strerror(code))", retryable: false)
        }
    }

    func set(_ option: CURLoption, _ value: Int) throws {
        try check(mlv_curl_easy_setopt_long(api.easySetopt, UnsafeMutableRawPointer(handle), option, value), "\(option.rawValue)")
    }

    func set(_ option: CURLoption, offset value: Int64) throws {
        try check(mlv_curl_easy_setopt_off(api.easySetopt, UnsafeMutableRawPointer(handle), option, curl_off_t(value)), "\(option.rawValue)")
    }

    /// A string option: libcurl copies strings set through setopt (since 7.17), so `value` need not outlive the call.
    func set(_ option: CURLoption, _ value: String) throws {
        try value.withCString { p in
            try check(mlv_curl_easy_setopt_ptr(api.easySetopt, UnsafeMutableRawPointer(handle), option, p), "\(option.rawValue)")
        }
    }

    func set(_ option: CURLoption, pointer: UnsafeRawPointer?) throws {
        try check(mlv_curl_easy_setopt_ptr(api.easySetopt, UnsafeMutableRawPointer(handle), option, pointer), "\(option.rawValue)")
    }

    typealias Callback = @convention(c) (UnsafeMutablePointer<CChar>?, Int, Int, UnsafeMutableRawPointer?) -> Int

    func set(_ option: CURLoption, callback: Callback) throws {
        try check(mlv_curl_easy_setopt_callback(api.easySetopt, UnsafeMutableRawPointer(handle), option, callback), "\(option.rawValue)")
    }

    func headerList(_ lines: [String]) -> UnsafeMutablePointer<curl_slist>? {
        var list: UnsafeMutablePointer<curl_slist>?
        for l in lines { list = api.slistAppend(list, l) }
        return list
    }

    func free(_ list: UnsafeMutablePointer<curl_slist>?) { api.slistFreeAll(list) }

    /// Runs the transfer; a CURLcode other than OK becomes a TransportError.
    func perform(url: String) throws {
        errorBuffer.withUnsafeMutableBufferPointer { buf in
            buf[0] = 0
            _ = mlv_curl_easy_setopt_ptr(api.easySetopt, UnsafeMutableRawPointer(handle), CURLOPT_ERRORBUFFER, buf.baseAddress)
        }
        let code = api.easyPerform(handle)
        _ = mlv_curl_easy_setopt_ptr(api.easySetopt, UnsafeMutableRawPointer(handle), CURLOPT_ERRORBUFFER, nil)
        guard code == CURLE_OK else {
            let detail = errorBuffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            let text = detail.isEmpty ? strerror(code) : detail
            throw TransportError(code: Int32(code.rawValue), message: "\(text) (\(url))", retryable: Self.isRetryable(code), reason: strerror(code))
        }
    }

    var responseCode: Int {
        var code = 0
        _ = mlv_curl_easy_getinfo_long(api.easyGetinfo, UnsafeMutableRawPointer(handle), CURLINFO_RESPONSE_CODE, &code)
        return code
    }

    private func strerror(_ code: CURLcode) -> String {
        api.easyStrerror(code).map { String(cString: $0) } ?? "libcurl error \(code.rawValue)"
    }

    /// Connection refused, reset, timed out, cut short: the network, not the request.
    static func isRetryable(_ code: CURLcode) -> Bool {
        switch code {
        case CURLE_COULDNT_CONNECT, CURLE_OPERATION_TIMEDOUT, CURLE_SEND_ERROR, CURLE_RECV_ERROR, CURLE_GOT_NOTHING,
             CURLE_PARTIAL_FILE, CURLE_COULDNT_RESOLVE_HOST, CURLE_SSL_CONNECT_ERROR, CURLE_HTTP2, CURLE_HTTP2_STREAM,
             CURLE_WEIRD_SERVER_REPLY, CURLE_SEND_FAIL_REWIND:
            return true
        default:
            return false
        }
    }
}

/// Option names MLVHTTP uses, so HTTPClient need not import CCurl's types in its API.
extension CurlEasy {
    /// `deadline`: the most seconds the whole request may take (see HTTPClient.deadline).
    func configureCommon(connectTimeout: Double, readTimeout: Double, deadline: Double) throws {
        try set(CURLOPT_NOSIGNAL, 1)
        try set(CURLOPT_PROTOCOLS_STR, "http,https")
        try set(CURLOPT_HTTP_VERSION, Int(CURL_HTTP_VERSION_1_1))
        try set(CURLOPT_CONNECTTIMEOUT_MS, max(1, Int(connectTimeout * 1000)))
        // Under `HTTPClient.minimumRate` bytes/s on average for `readTimeout` seconds: a
        // stalled or trickling server (1 byte/s used to be enough to hold a command forever).
        try set(CURLOPT_LOW_SPEED_LIMIT, HTTPClient.minimumRate)
        try set(CURLOPT_LOW_SPEED_TIME, max(1, Int(readTimeout.rounded(.up))))
        try set(CURLOPT_TIMEOUT_MS, max(1, Int(min(deadline, 7 * 86_400) * 1000)))
        try set(CURLOPT_TCP_KEEPALIVE, 1)
        // Larger than curl's defaults (16 KiB down, 64 KiB up): fewer callbacks and system calls
        // per large object (measured: bench/remote/large-file.sh); 1.25 MiB per handle.
        try set(CURLOPT_BUFFERSIZE, 256 << 10)
        try set(CURLOPT_UPLOAD_BUFFERSIZE, 1 << 20)
    }

    func configureMethod(_ method: String, bodyLength: Int64?) throws {
        switch method {
        case "HEAD": try set(CURLOPT_NOBODY, 1)
        case "GET": try set(CURLOPT_HTTPGET, 1)
        default:
            if let bodyLength {
                try set(CURLOPT_UPLOAD, 1)
                try set(CURLOPT_INFILESIZE_LARGE, offset: bodyLength)
            }
            try set(CURLOPT_CUSTOMREQUEST, method)
        }
    }

    func configure(url: String, headers: UnsafeMutablePointer<curl_slist>?) throws {
        try set(CURLOPT_URL, url)
        try set(CURLOPT_HTTPHEADER, pointer: headers.map { UnsafeRawPointer($0) })
    }

    func configure(read: Callback?, write: Callback, header: Callback, context: UnsafeMutableRawPointer) throws {
        try set(CURLOPT_WRITEFUNCTION, callback: write)
        try set(CURLOPT_WRITEDATA, pointer: context)
        try set(CURLOPT_HEADERFUNCTION, callback: header)
        try set(CURLOPT_HEADERDATA, pointer: context)
        if let read {
            try set(CURLOPT_READFUNCTION, callback: read)
            try set(CURLOPT_READDATA, pointer: context)
            // curl rewinds the body when it must send it again (a kept-alive connection the
            // server had closed); without this it fails with "necessary data rewind wasn't possible".
            try set(CURLOPT_SEEKFUNCTION, pointer: unsafeBitCast(TransferContext.seek, to: UnsafeRawPointer.self))
            try set(CURLOPT_SEEKDATA, pointer: context)
        }
    }
}
