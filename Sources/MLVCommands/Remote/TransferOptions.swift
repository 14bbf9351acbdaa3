import ArgumentParser
import MLVKit

/// The options push, fetch and pull share.
struct TransferOptions: ParsableArguments {
    @Argument(help: "Tracked paths (default: all).", completion: .file())
    var targets: [String] = []

    @Option(name: .shortAndLong, help: "The remote (default: core.remote).")
    var remote: String?

    @Option(name: .shortAndLong, help: "Parallel transfers (default: the remote's jobs, else 4 × cores).")
    var jobs: Int?

    func validate() throws {
        if let jobs, !(1...1024).contains(jobs) { throw ValidationError("-j must be from 1 to 1024") }
    }

    /// `12,345 files pushed, 1.2 GiB, 0 failed`.
    static func summary(_ r: TransferResult, verb: String) -> String {
        "\(grouped(r.transferred)) file\(r.transferred == 1 ? "" : "s") \(verb), \(Format.bytes(r.bytes)), \(r.failed) failed"
            + (r.skipped > 0 ? " (\(grouped(r.skipped)) already there)" : "")
    }

    static func grouped(_ n: Int) -> String {
        var s = String(n)
        var i = s.count - 3
        while i > 0 { s.insert(",", at: s.index(s.startIndex, offsetBy: i)); i -= 3 }
        return s
    }
}
