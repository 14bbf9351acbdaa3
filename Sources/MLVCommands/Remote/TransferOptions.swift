import MLVSupport
import ArgumentParser
import MLVKit

/// The options push, fetch and pull share.
struct TransferOptions: ParsableArguments {
    @Argument(help: "Tracked paths (default: all).", completion: .file())
    var targets: [String] = []

    @Option(name: .shortAndLong, help: "The remote (default: core.remote).")
    var remote: String?

    @Option(name: .shortAndLong, help: "Parallel transfers (default: the remote's jobs, else 16 × cores; a large object's parts or ranges at most 4 × cores).")
    var jobs: Int?

    @Flag(help: "Also transfer the run-cache: recorded stage results and their outputs, so `repro` elsewhere restores them instead of running.")
    var runCache = false

    /// The outputs these options (and, for push and fetch, `revisions`) select.
    func selection(_ revisions: RevisionOptions?) -> OutputSelection {
        OutputSelection(targets, revisions: revisions?.selection ?? .workspace, runCache: runCache)
    }

    func validate() throws {
        if let jobs, !(1...1024).contains(jobs) { throw ValidationError("-j must be from 1 to 1024") }
    }

    /// `12,345 files pushed, 1.2 GiB, 0 failed`.
    static func summary(_ r: TransferResult, verb: String) -> String {
        "\(grouped(r.transferred)) file\(r.transferred == 1 ? "" : "s") \(verb), \(ByteCount.text(r.bytes)), \(r.failed) failed"
            + (r.skipped > 0 ? " (\(grouped(r.skipped)) already there)" : "")
            + (r.runEntries > 0 ? ", \(runEntries(r.runEntries)) \(verb)" : "")
    }

    /// A warning line for run-cache entries from the remote that were not kept, or nil.
    static func refusedRunEntries(_ r: TransferResult) -> String? {
        r.refusedRunEntries == 0 ? nil
            : "mlv: warning: \(runEntries(r.refusedRunEntries)) from remote '\(r.remote)' refused (not an entry mlv writes, or a path leaving the workspace)"
    }

    static func runEntries(_ n: Int) -> String { "\(grouped(n)) run-cache entr\(n == 1 ? "y" : "ies")" }

    static func grouped(_ n: Int) -> String {
        var s = String(n)
        var i = s.count - 3
        while i > 0 { s.insert(",", at: s.index(s.startIndex, offsetBy: i)); i -= 3 }
        return s
    }
}
