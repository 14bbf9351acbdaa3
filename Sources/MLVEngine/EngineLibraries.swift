import CBLAS
import CPNG

/// Versions and configuration of the engine's C libraries, for `mlv doctor`.
public enum EngineLibraries {
    /// OpenBLAS's build configuration, e.g. "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Haswell MAX_THREADS=64".
    public static var blasConfig: String { String(cString: openblas_get_config()) }
    /// The kernel family OpenBLAS picked for this CPU at load time (or from OPENBLAS_CORETYPE).
    public static var blasCore: String { String(cString: openblas_get_corename()) }
    public static var blasThreads: Int { Int(openblas_get_num_threads()) }
    public static var pngVersion: String { String(cString: png_get_libpng_ver(nil)) }
}
