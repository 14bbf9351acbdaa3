#if canImport(Glibc)
import Glibc
#endif

/// Output helpers: stdout for results, stderr for progress and errors.
enum Terminal {
    static let stdoutIsTerminal = isatty(1) == 1
    static let stderrIsTerminal = isatty(2) == 1
    nonisolated(unsafe) static var progressVisible = false

    static func writeError(_ text: String) {
        var t = text
        t.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
    }

    static func clearProgressLine() {
        if progressVisible {
            writeError("\r\u{1B}[2K")
            progressVisible = false
        }
    }
}
