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
            let rate = s.totalBytes > 0 ? "\(ByteCount.text(Int64(s.rate)))/s" : "\(Int(s.rate)) files/s"
            draw(s.label, fraction: fraction, detail: "\(s.files)/\(s.totalFiles) files  \(ByteCount.text(s.bytes))/\(ByteCount.text(s.totalBytes))  \(rate)  \(s.etaText)")
        }
    }

    /// The one bar mlv draws (transfers, checkout, training): `label [=====>    ] detail`,
    /// over the previous one, on stderr when it is a terminal.
    static func draw(_ label: String, fraction: Double, detail: String) {
        guard Terminal.stderrIsTerminal else { return }
        let width = 24
        let filled = max(0, min(width, Int((fraction.isFinite ? fraction : 0) * Double(width))))
        let bar = String(repeating: "=", count: filled) + (filled < width ? ">" : "") + String(repeating: " ", count: max(0, width - filled - 1))
        Terminal.writeError("\r\u{1B}[2K\(TerminalText.visible(label)) [\(bar)] \(detail)")
        Terminal.progressVisible = true
    }

    static func finish() { Terminal.clearProgressLine() }
}

enum Format {
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
