internal import CBLAS
internal import CPNG

/// Versions and configuration of the engine's C libraries, for `mlv doctor`.
package enum EngineLibraries {
    /// OpenBLAS's build configuration, e.g. "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Haswell MAX_THREADS=64".
    package static var blasConfig: String { EngineRuntime.blasConfig }
    /// The kernel family OpenBLAS picked for this CPU at load time (or from OPENBLAS_CORETYPE).
    package static var blasCore: String { String(cString: openblas_get_corename()) }
    /// OpenBLAS's own threads per call: always 1 (the engine runs fixed tiles on its own threads).
    package static var blasThreads: Int { Int(openblas_get_num_threads()) }
    package static var pngVersion: String { String(cString: png_get_libpng_ver(nil)) }

    /// What `mlv doctor` says about the engine's reproducibility, one line.
    package static var reproducibility: String {
        let checked = EngineRuntime.checkedBlasVersions.contains(EngineRuntime.blasVersion)
        return "numerics v\(EngineRuntime.numericsVersion), byte-identical models for every --threads value"
            + (checked ? "" : "; OpenBLAS \(EngineRuntime.blasVersion) was not checked (checked: \(EngineRuntime.checkedBlasVersions.joined(separator: ", ")))")
            + (EngineRuntime.kernelsArePinned ? "" : "; kernels are not \(EngineRuntime.pinnedCore)")
    }
}
