import CBLAS
import Dispatch
#if canImport(Glibc)
import Glibc
#endif

/// Process-wide set-up that makes the engine's arithmetic reproducible: one OpenBLAS kernel family
/// on every x86-64 CPU with AVX2, and a fixed number of threads.
///
/// Debian's OpenBLAS is built DYNAMIC_ARCH: when the library is loaded it picks the kernels for
/// the CPU it finds (Haswell, SkylakeX, Cooperlake, Zen…), reading `OPENBLAS_CORETYPE` only at that
/// moment. Different kernels sum in different orders, so the same training run gives different
/// bits on different CPUs. mlv loads OpenBLAS itself, on first use (`OpenBLAS`), so
/// `pinKernels()` sets `OPENBLAS_CORETYPE=Haswell` — a kernel family every AVX2 CPU (Intel since
/// 2013, every AMD Zen) runs — just before the library loads.
public enum EngineRuntime {
    /// The kernel family the engine pins OpenBLAS to.
    public static let pinnedCore = "Haswell"
    static let pinVariable = "OPENBLAS_CORETYPE"
    static let guardVariable = "MLV_ENGINE_REEXEC"

    /// Loads OpenBLAS with the pinned kernels. If something loaded it earlier with other kernels,
    /// `execv`s `/proc/self/exe` once with the same arguments and `OPENBLAS_CORETYPE` set. Without
    /// AVX2 the CPU's own kernels are used (the run is then reproducible on that machine only).
    public static func pinKernels(arguments: [String] = CommandLine.arguments) {
        let reexecuted = getenv(guardVariable) != nil
        unsetenv(guardVariable) // not inherited by anything this process starts
        guard cpuHasAVX2 else { return }
        if !OpenBLAS.isLoaded {
            setenv(pinVariable, pinnedCore, 1)
            _ = OpenBLAS.api
            return
        }
        if kernelsArePinned || reexecuted { return } // re-executed once already: never loop
        setenv(pinVariable, pinnedCore, 1)
        setenv(guardVariable, "1", 1)
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) }
        argv.append(nil)
        execv("/proc/self/exe", &argv)
        // execv only returns on failure: carry on with the kernels this process has.
        for p in argv { free(p) }
    }

    /// True when OpenBLAS runs the pinned kernel family.
    public static var kernelsArePinned: Bool {
        String(cString: openblas_get_corename()).lowercased() == pinnedCore.lowercased()
    }

    public static var kernelName: String { String(cString: openblas_get_corename()) }

    /// AVX2 and FMA, as the `flags` line of /proc/cpuinfo reports them: every CPU that has both
    /// can run the Haswell kernels.
    public static var cpuHasAVX2: Bool {
        guard let f = fopen("/proc/cpuinfo", "r") else { return false }
        defer { fclose(f) }
        var line = [CChar](repeating: 0, count: 8192)
        while fgets(&line, Int32(line.count), f) != nil {
            let text = String(cString: line)
            if text.hasPrefix("flags") {
                let flags = Set(text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }))
                return flags.contains("avx2") && flags.contains("fma")
            }
        }
        return false
    }

    /// The number of CPUs this process may run on.
    public static var availableCores: Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }

    /// Pins OpenBLAS's thread pool to `threads` (the engine's own loops take the same number).
    public static func setThreads(_ threads: Int) {
        openblas_set_num_threads(Int32(threads))
    }
}

/// Runs `body(i)` for every i in 0..<count on up to `threads` threads. Each index writes only its
/// own part of the output, so the result never depends on the thread count or on scheduling.
@inline(__always)
func parallelFor(_ count: Int, threads: Int, _ body: (Int) -> Void) {
    if threads <= 1 || count <= 1 {
        for i in 0..<count { body(i) }
        return
    }
    let chunks = min(threads, count)
    DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
        let start = count * chunk / chunks
        let end = count * (chunk + 1) / chunks
        for i in start..<end { body(i) }
    }
}
