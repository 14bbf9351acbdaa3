internal import CBLAS
import Dispatch
import MLVSupport
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Process-wide set-up that makes the engine's arithmetic reproducible: one OpenBLAS kernel family
/// on every x86-64 CPU with AVX2, and one OpenBLAS thread per call (the engine's own threads run
/// fixed tiles, see `Tiling`), so the bits depend on neither the CPU nor the thread count.
///
/// Debian's OpenBLAS is built DYNAMIC_ARCH: when the library is loaded it picks the kernels for
/// the CPU it finds (Haswell, SkylakeX, Cooperlake, Zen…), reading `OPENBLAS_CORETYPE` only at that
/// moment. Different kernels sum in different orders, so the same training run gives different
/// bits on different CPUs. mlv loads OpenBLAS itself, on first use (`OpenBLAS`), so
/// `pinKernels()` sets `OPENBLAS_CORETYPE=Haswell` — a kernel family every AVX2 CPU (Intel since
/// 2013, every AMD Zen) runs — just before the library loads.
package enum EngineRuntime {
    /// The kernel family the engine pins OpenBLAS to.
    package static let pinnedCore = "Haswell"
    static let pinVariable = "OPENBLAS_CORETYPE"
    static let guardVariable = "MLV_ENGINE_REEXEC"

    /// Loads OpenBLAS with the pinned kernels. If something loaded it earlier with other kernels,
    /// `execv`s `/proc/self/exe` once with the same arguments and `OPENBLAS_CORETYPE` set. Without
    /// AVX2 the CPU's own kernels are used (the run is then reproducible on that machine only).
    /// A missing or unusable OpenBLAS is an `EngineError` with the install hint.
    package static func pinKernels(arguments: [String] = CommandLine.arguments) throws {
        let reexecuted = getenv(guardVariable) != nil
        unsetenv(guardVariable) // not inherited by anything this process starts
        guard cpuHasAVX2 else {
            try OpenBLAS.load()
            return
        }
        if !OpenBLAS.isLoaded {
            setenv(pinVariable, pinnedCore, 1)
            try OpenBLAS.load()
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
    package static var kernelsArePinned: Bool {
        String(cString: openblas_get_corename()).lowercased() == pinnedCore.lowercased()
    }

    package static var kernelName: String { String(cString: openblas_get_corename()) }

    /// AVX2 and FMA, as the `flags` line of /proc/cpuinfo reports them: every CPU that has both
    /// can run the Haswell kernels.
    package static var cpuHasAVX2: Bool {
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

    /// The number of CPUs this process may run on: its affinity mask (`taskset`, a container's
    /// cpuset), as Foundation reads it.
    package static var availableCores: Int { Parallel.availableCPUs }

    /// OpenBLAS's build configuration, e.g. "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Haswell MAX_THREADS=64".
    package static var blasConfig: String { String(cString: openblas_get_config()) }

    /// The version number in `blasConfig` ("0.3.21"), or the whole text when it has none.
    package static var blasVersion: String {
        let words = blasConfig.split(separator: " ")
        if let i = words.firstIndex(where: { $0.lowercased() == "openblas" }), i + 1 < words.count,
           words[i + 1].first?.isNumber == true {
            return String(words[i + 1])
        }
        return blasConfig
    }

    /// OpenBLAS versions whose single-thread Haswell sgemm kernels were checked to give the bits
    /// of 0.3.21 on the engine's tile shapes (scripts/engine/blas_bits.py).
    package static let checkedBlasVersions = ["0.3.21", "0.3.34"]

    /// The version of the engine's numerics. Raise it with any change that changes the bits of a
    /// trained model for the same data, params and seed (ReproducibilityTests.tinyRunMatchesTheGoldenHashes).
    package static let numericsVersion = 2

    /// What the checkpoint records about how it was computed (`mlv.engine` in its metadata).
    package static var provenance: [(String, String)] {
        [("numerics_version", String(numericsVersion)),
         // A checked version is recorded as the set whose single-thread kernels give the same
         // bits, so machines with 0.3.21 and 0.3.34 write byte-identical checkpoints; any other
         // version is named as it is (its bits may differ).
         ("openblas", checkedBlasVersions.contains(blasVersion) ? "0.3.21 or 0.3.34 (bit-identical single-thread kernels)" : blasVersion),
         ("kernels", kernelName),
         ("threads", "byte-identical for every --threads value: OpenBLAS runs one thread per call on fixed tiles; reductions run in a fixed order")]
    }

    /// A warning for the train output when the OpenBLAS in use was not checked, else nil.
    package static var uncheckedBlasWarning: String? {
        blasWarning(version: blasVersion, kernels: kernelName, avx2: cpuHasAVX2)
    }

    static func blasWarning(version: String, kernels: String, avx2: Bool) -> String? {
        var notes: [String] = []
        if !checkedBlasVersions.contains(version) {
            notes.append("OpenBLAS \(version) was not checked for mlv's bits (checked: \(checkedBlasVersions.joined(separator: ", "))); models trained here may differ in the last bits from other machines'")
        }
        if !avx2 {
            notes.append("this CPU has no AVX2/FMA, so OpenBLAS runs \(kernels) kernels; models trained here are reproducible on this kind of CPU only")
        } else if kernels.lowercased() != pinnedCore.lowercased() {
            notes.append("OpenBLAS runs \(kernels) kernels instead of \(pinnedCore); models trained here may differ in the last bits from other machines'")
        }
        return notes.isEmpty ? nil : notes.joined(separator: "; ")
    }
}

/// Runs `body(i)` for every i in 0..<count on up to `threads` threads. Each index writes only its
/// own part of the output, so the result never depends on the thread count or on scheduling.
/// The indices go out in about 8 contiguous chunks per thread, each thread taking the next
/// unclaimed one: on a busy machine a thread that lost its core holds up one small chunk, not half.
@inline(__always)
func parallelFor(_ count: Int, threads: Int, _ body: (Int) -> Void) {
    if threads <= 1 || count <= 1 {
        for i in 0..<count { body(i) }
        return
    }
    let chunks = min(count, threads * 8)
    parallelTiles(chunks, threads: threads) { chunk in
        for i in (count * chunk / chunks)..<(count * (chunk + 1) / chunks) { body(i) }
    }
}

/// Runs `body(t)` for every tile t in 0..<count on up to `threads` threads, each thread taking
/// the next unclaimed tile (tiles differ in cost, and the machine may be busy). Each tile writes
/// only its own part of the output, and the tiles themselves never depend on `threads`, so the
/// result is the same for every thread count.
func parallelTiles(_ count: Int, threads: Int, _ body: (Int) -> Void) {
    if threads <= 1 || count <= 1 {
        for t in 0..<count { body(t) }
        return
    }
    let next = Atomic<Int>(0)
    DispatchQueue.concurrentPerform(iterations: min(threads, count)) { _ in
        while true {
            let t = next.wrappingAdd(1, ordering: .relaxed).oldValue
            if t >= count { return }
            body(t)
        }
    }
}

/// The fixed tiles of the engine's matrix products. Their sizes depend on the shapes only, never
/// on the thread count: each tile is one single-threaded OpenBLAS call, and a product split into
/// the same tiles gives the same bits however many threads run them.
enum Tiling {
    /// Columns per tile of a product over L columns (the conv layers' L = batch × pixels): about
    /// an eighth of L, so that a few threads share the work evenly even in the small last conv
    /// layers, a multiple of 512 (OpenBLAS's packed panels stay whole) and at most `maximum`
    /// (larger tiles gain nothing). Used for the products whose columns are independent (the conv forward pass, the
    /// input gradient) and for the weight gradient's sum over L, whose tiles' partial products
    /// are then added in tile order.
    static func width(_ L: Int) -> Int {
        let eighth = (L / 8 + 511) / 512 * 512
        return min(max(eighth, minimum), maximum)
    }

    static let minimum = 512
    static let maximum = 16384

    static func count(_ n: Int, _ tile: Int) -> Int { (n + tile - 1) / tile }
}
