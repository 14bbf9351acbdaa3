import CBLAS
import MLVSupport
#if canImport(Glibc)
import Glibc
#endif

/// OpenBLAS, loaded with `dlopen` the first time the engine needs it, not linked.
///
/// Two reasons. Linking it made every mlv command pay for loading it and for the thread pool it
/// starts at load time (its idle threads spin on `sched_yield`): about 2 ms and a busy second core
/// for a no-op `mlv status`. And Debian's OpenBLAS picks its kernels per CPU at load time, reading
/// `OPENBLAS_CORETYPE` only then: loading it ourselves lets `EngineRuntime.pinKernels()` set that
/// variable first, in this process, instead of re-executing it.
///
/// The functions below shadow CBLAS's declarations of the same names inside MLVEngine, so the
/// layers call `cblas_sgemm` as usual; the CBLAS module provides only the header's types.
enum OpenBLAS {
    typealias Sgemm = @convention(c) (CBLAS_ORDER, CBLAS_TRANSPOSE, CBLAS_TRANSPOSE, blasint, blasint, blasint,
                                      Float, UnsafePointer<Float>?, blasint, UnsafePointer<Float>?, blasint,
                                      Float, UnsafeMutablePointer<Float>?, blasint) -> Void

    struct API {
        let sgemm: Sgemm
        let setNumThreads: @convention(c) (Int32) -> Void
        let getNumThreads: @convention(c) () -> Int32
        let getConfig: @convention(c) () -> UnsafeMutablePointer<CChar>?
        let getCorename: @convention(c) () -> UnsafeMutablePointer<CChar>?
    }

    /// The library file: Debian's alternatives link to the pthread build.
    static let libraryName = "libopenblas.so.0"

    nonisolated(unsafe) private static var loaded: API?
    private static let lock = Lock()

    static var isLoaded: Bool {
        lock.lock()
        defer { lock.unlock() }
        return loaded != nil
    }

    /// The library's entry points, loading it on first use. A missing library is a fatal
    /// installation error (the Makefile installs libopenblas-dev).
    static var api: API {
        lock.lock()
        defer { lock.unlock() }
        if let loaded { return loaded }
        guard let handle = dlopen(libraryName, RTLD_NOW | RTLD_LOCAL) else {
            let why = dlerror().map { String(cString: $0) } ?? "unknown error"
            fatalError("mlv: cannot load OpenBLAS (\(why)); install it with `apt-get install libopenblas0-pthread`")
        }
        func symbol<T>(_ name: String, as _: T.Type) -> T {
            guard let p = dlsym(handle, name) else { fatalError("mlv: OpenBLAS has no symbol \(name)") }
            return unsafeBitCast(p, to: T.self)
        }
        let api = API(
            sgemm: symbol("cblas_sgemm", as: Sgemm.self),
            setNumThreads: symbol("openblas_set_num_threads", as: (@convention(c) (Int32) -> Void).self),
            getNumThreads: symbol("openblas_get_num_threads", as: (@convention(c) () -> Int32).self),
            getConfig: symbol("openblas_get_config", as: (@convention(c) () -> UnsafeMutablePointer<CChar>?).self),
            getCorename: symbol("openblas_get_corename", as: (@convention(c) () -> UnsafeMutablePointer<CChar>?).self))
        loaded = api
        return api
    }
}

// MARK: - The CBLAS entry points the engine uses, through the loaded library.

@inline(__always)
func cblas_sgemm(_ order: CBLAS_ORDER, _ transA: CBLAS_TRANSPOSE, _ transB: CBLAS_TRANSPOSE,
                 _ m: blasint, _ n: blasint, _ k: blasint, _ alpha: Float,
                 _ a: UnsafePointer<Float>?, _ lda: blasint, _ b: UnsafePointer<Float>?, _ ldb: blasint,
                 _ beta: Float, _ c: UnsafeMutablePointer<Float>?, _ ldc: blasint) {
    OpenBLAS.api.sgemm(order, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

func openblas_set_num_threads(_ n: Int32) { OpenBLAS.api.setNumThreads(n) }
func openblas_get_num_threads() -> Int32 { OpenBLAS.api.getNumThreads() }
func openblas_get_config() -> UnsafeMutablePointer<CChar> { OpenBLAS.api.getConfig()! }
func openblas_get_corename() -> UnsafeMutablePointer<CChar> { OpenBLAS.api.getCorename()! }
