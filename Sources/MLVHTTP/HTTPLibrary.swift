internal import CCurl
#if canImport(Glibc)
import Glibc
#endif
import MLVSupport

/// libcurl, loaded on first use (see the note in Sources/CCurl/shim.h). Every curl function
/// MLVHTTP calls is looked up here once; a missing library is a clear error, not a crash.
package enum HTTPLibrary {
    package struct Unavailable: UserFacingError {
        package var message: String
        package var hint: String? { "install libcurl: `apt-get install libcurl4`" }
    }

    struct API {
        let globalInit: @convention(c) (Int) -> CURLcode
        let version: @convention(c) () -> UnsafeMutablePointer<CChar>?
        let easyInit: @convention(c) () -> OpaquePointer?
        let easyCleanup: @convention(c) (OpaquePointer?) -> Void
        let easyPerform: @convention(c) (OpaquePointer?) -> CURLcode
        let easyReset: @convention(c) (OpaquePointer?) -> Void
        let easyStrerror: @convention(c) (CURLcode) -> UnsafePointer<CChar>?
        let slistAppend: @convention(c) (UnsafeMutablePointer<curl_slist>?, UnsafePointer<CChar>?) -> UnsafeMutablePointer<curl_slist>?
        let slistFreeAll: @convention(c) (UnsafeMutablePointer<curl_slist>?) -> Void
        /// The variadic entry points, called through the shim's typed wrappers.
        let easySetopt: UnsafeMutableRawPointer
        let easyGetinfo: UnsafeMutableRawPointer
    }

    nonisolated(unsafe) private static var loaded: Result<API, Unavailable>?
    private static let lock = Lock()

    static func api() throws -> API {
        lock.lock()
        defer { lock.unlock() }
        if let loaded { return try loaded.get() }
        let result = load()
        loaded = result
        return try result.get()
    }

    private static func load() -> Result<API, Unavailable> {
        guard let handle = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL) else {
            let why = dlerror().map { String(cString: $0) } ?? "unknown error"
            return .failure(Unavailable(message: "cannot load libcurl: \(why)"))
        }
        func symbol(_ name: String) throws -> UnsafeMutableRawPointer {
            guard let p = dlsym(handle, name) else { throw Unavailable(message: "libcurl has no symbol '\(name)'") }
            return p
        }
        do {
            let api = API(
                globalInit: unsafeBitCast(try symbol("curl_global_init"), to: (@convention(c) (Int) -> CURLcode).self),
                version: unsafeBitCast(try symbol("curl_version"), to: (@convention(c) () -> UnsafeMutablePointer<CChar>?).self),
                easyInit: unsafeBitCast(try symbol("curl_easy_init"), to: (@convention(c) () -> OpaquePointer?).self),
                easyCleanup: unsafeBitCast(try symbol("curl_easy_cleanup"), to: (@convention(c) (OpaquePointer?) -> Void).self),
                easyPerform: unsafeBitCast(try symbol("curl_easy_perform"), to: (@convention(c) (OpaquePointer?) -> CURLcode).self),
                easyReset: unsafeBitCast(try symbol("curl_easy_reset"), to: (@convention(c) (OpaquePointer?) -> Void).self),
                easyStrerror: unsafeBitCast(try symbol("curl_easy_strerror"), to: (@convention(c) (CURLcode) -> UnsafePointer<CChar>?).self),
                slistAppend: unsafeBitCast(try symbol("curl_slist_append"),
                                           to: (@convention(c) (UnsafeMutablePointer<curl_slist>?, UnsafePointer<CChar>?) -> UnsafeMutablePointer<curl_slist>?).self),
                slistFreeAll: unsafeBitCast(try symbol("curl_slist_free_all"), to: (@convention(c) (UnsafeMutablePointer<curl_slist>?) -> Void).self),
                easySetopt: try symbol("curl_easy_setopt"),
                easyGetinfo: try symbol("curl_easy_getinfo"))
            _ = api.globalInit(Int(CURL_GLOBAL_DEFAULT))
            return .success(api)
        } catch let e as Unavailable {
            return .failure(e)
        } catch {
            return .failure(Unavailable(message: "\(error)"))
        }
    }

    /// e.g. "libcurl/7.88.1 OpenSSL/3.0.x zlib/1.2.13 …".
    package static var version: String {
        guard let api = try? api(), let v = api.version() else { return "not available" }
        return String(cString: v)
    }
}
