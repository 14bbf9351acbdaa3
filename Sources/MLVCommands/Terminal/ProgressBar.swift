import MLVSupport

/// Renders progress on stderr when it is a terminal:
/// `push [=====>    ] 1200/20000 files  45.1 MiB/633.0 MiB  210.3 MiB/s  ETA 0:03`.
enum ProgressBar {
    /// A renderer for MLVKit's progress callbacks, or nil when stderr is not a terminal
    /// (then only the final summary line is printed).
    static func renderer() -> ((ProgressCounter.Snapshot) -> Void)? {
        guard Terminal.stderrIsTerminal else { return nil }
        return { s in
            let fraction = s.totalBytes > 0 ? Double(s.bytes) / Double(s.totalBytes) : (s.totalFiles > 0 ? Double(s.files) / Double(s.totalFiles) : 1)
            let width = 24
            let filled = min(width, Int(fraction * Double(width)))
            let bar = String(repeating: "=", count: filled) + (filled < width ? ">" : "") + String(repeating: " ", count: max(0, width - filled - 1))
            let rate = s.totalBytes > 0 ? "\(Format.bytes(Int64(s.rate)))/s" : "\(Int(s.rate)) files/s"
            Terminal.writeError("\r\u{1B}[2K\(s.label) [\(bar)] \(s.files)/\(s.totalFiles) files  \(Format.bytes(s.bytes))/\(Format.bytes(s.totalBytes))  \(rate)  \(s.etaText)")
            Terminal.progressVisible = true
        }
    }

    static func finish() { Terminal.clearProgressLine() }
}

enum Format {
    static func bytes(_ n: Int64) -> String { ByteCount.text(n) }

    static func seconds(_ s: Double) -> String {
        s < 1 ? "\(Int((s * 1000).rounded())) ms" : String(format2: s) + " s"
    }

    static func plural(_ n: Int, _ word: String) -> String { "\(n) \(word)\(n == 1 ? "" : "s")" }
}

extension String {
    init(format2 v: Double) {
        let cents = Int((v * 100).rounded())
        let frac = cents % 100
        self = "\(cents / 100).\(frac < 10 ? "0" : "")\(frac)"
    }
}
