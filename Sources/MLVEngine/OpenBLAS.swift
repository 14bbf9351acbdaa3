internal import CBLAS
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

    /// The library file: Debian's alternatives link to the pthread build. `MLV_OPENBLAS` names
    /// another one (a path or a soname), to try another OpenBLAS build.
    static func libraryName(environment: (String) -> String? = Environment.get) -> String {
        if let p = environment("MLV_OPENBLAS"), !p.isEmpty { return p }
        return "libopenblas.so.0"
    }

    static let installHint = "install OpenBLAS: `apt-get install libopenblas0-pthread` (Debian/Ubuntu; `make deps` installs it)"

    nonisolated(unsafe) private static var loaded: API?
    private static let lock = Lock()

    static var isLoaded: Bool {
        lock.lock()
        defer { lock.unlock() }
        return loaded != nil
    }

    /// Loads the library (once) and returns its entry points; a missing library or symbol is an
    /// `EngineError` with the install hint.
    @discardableResult
    static func load() throws -> API {
        lock.lock()
        defer { lock.unlock() }
        if let loaded { return loaded }
        let name = libraryName()
        // No OpenBLAS thread pool at all: the engine never gives OpenBLAS more than one thread,
        // and idle pool threads spin on sched_yield, taking CPU from the engine's threads.
        setenv("OPENBLAS_NUM_THREADS", "1", 1)
        guard let handle = dlopen(name, RTLD_NOW | RTLD_LOCAL) else {
            let why = dlerror().map { String(cString: $0) } ?? "unknown error"
            throw EngineError("cannot load OpenBLAS (\(why))", hint: installHint)
        }
        func symbol<T>(_ symbolName: String, as _: T.Type) throws -> T {
            guard let p = dlsym(handle, symbolName) else {
                dlclose(handle)
                throw EngineError("\(name) is not a usable OpenBLAS: it has no symbol \(symbolName)", hint: installHint)
            }
            return unsafeBitCast(p, to: T.self)
        }
        let api = API(
            sgemm: try symbol("cblas_sgemm", as: Sgemm.self),
            setNumThreads: try symbol("openblas_set_num_threads", as: (@convention(c) (Int32) -> Void).self),
            getNumThreads: try symbol("openblas_get_num_threads", as: (@convention(c) () -> Int32).self),
            getConfig: try symbol("openblas_get_config", as: (@convention(c) () -> UnsafeMutablePointer<CChar>?).self),
            getCorename: try symbol("openblas_get_corename", as: (@convention(c) () -> UnsafeMutablePointer<CChar>?).self))
        // One OpenBLAS thread, always: its own thread partitioning changes the bits with the
        // thread count and between versions. The engine spreads fixed tiles over its own threads.
        api.setNumThreads(1)
        loaded = api
        return api
    }

    /// The loaded library's entry points. Commands load it up front (`EngineRuntime.pinKernels`),
    /// which reports a missing library as an error; here a failure is a programming error.
    static var api: API {
        do { return try load() } catch { preconditionFailure("OpenBLAS used before EngineRuntime.pinKernels(): \(error)") }
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

func openblas_get_num_threads() -> Int32 { OpenBLAS.api.getNumThreads() }
func openblas_get_config() -> UnsafeMutablePointer<CChar> { OpenBLAS.api.getConfig()! }
func openblas_get_corename() -> UnsafeMutablePointer<CChar> { OpenBLAS.api.getCorename()! }
