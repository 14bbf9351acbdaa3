import ArgumentParser
import MLVKit
import MLVSupport
#if canImport(Glibc)
import Glibc
#endif

struct Repro: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "repro",
        abstract: "Run the stale stages of pipeline.yaml in dependency order and record them in pipeline.lock.",
        discussion: """
            A stage is stale when its command, a dependency's content, a param's value or an output differs from pipeline.lock, or an output is missing.
            Every pipeline.yaml of the workspace (in any folder, each with its pipeline.lock beside it) is one pipeline; a stage of a file below the root is named FILE:STAGE, or by its name alone where only one file defines it.
            """)

    @Argument(help: "Stages to reproduce, with the stages they depend on (default: all): STAGE, FILE:STAGE, or a pipeline file for all its stages.")
    var targets: [String] = []

    @Flag(name: [.customShort("P"), .customLong("all-pipelines")], help: "Every pipeline file's stages: what repro does without targets (DVC's -P).")
    var allPipelines = false

    @Flag(help: "Show what would run, and why; run nothing.")
    var dry = false

    @Flag(name: .shortAndLong, help: "Run the stages even if nothing changed.")
    var force = false

    @Flag(name: .shortAndLong, help: "Only the named stages, not those they depend on.")
    var singleItem = false

    @Flag(help: "The named stages and every stage depending on them.")
    var downstream = false

    @Flag(name: .shortAndLong, help: "After a failing stage, go on with the stages that do not depend on it.")
    var keepGoing = false

    @Flag(help: "Exit with status 1, listing stale stages and why, when anything would run (for CI); run nothing.")
    var check = false

    @Option(name: .shortAndLong, help: "Stages to run at the same time (independent ones only).")
    var jobs = 1

    @Flag(help: "Run no command: restore stale stages from the run-cache (with --pull, the remote's too), and fail naming the first that cannot be.")
    var restoreOnly = false

    @Flag(help: "Always run stale stages, never restore their outputs from an earlier identical run.")
    var noRunCache = false

    @Option(name: .shortAndLong, help: "Also make a git commit of pipeline.lock and .gitignore files with this message.")
    var message: String?

    func validate() throws {
        guard jobs >= 1 && jobs <= 64 else { throw ValidationError("--jobs must be between 1 and 64") }
        guard !(restoreOnly && (noRunCache || force)) else { throw ValidationError("--restore-only restores from the run-cache: it cannot go with --no-run-cache or --force") }
    }

    @Flag(help: "Rerun every stage in a scratch copy (the workspace is not touched) and report, per stage, whether its outputs came out byte-identical to pipeline.lock; exit 1 when any differs.")
    var verify = false

    @Flag(help: "First fetch the outputs pipeline.lock records from the default remote and restore the missing ones, so only what is still stale runs.")
    var pull = false

    func run() throws {
        let ws = try WorkspaceCommand.open()
        if verify { return try Self.verify(ws) }
        var o = ReproOptions()
        o.targets = try StageTargets.resolve(targets, in: ws)
        o.folder = StageTargets.folder(of: FS.currentDirectory(), in: ws)
        o.dry = dry
        o.force = force
        o.singleItem = singleItem
        o.downstream = downstream
        o.keepGoing = keepGoing
        o.check = check
        o.jobs = jobs
        o.runCache = !noRunCache
        o.restoreOnly = restoreOnly
        o.pull = pull && !noRunCache
        // Fetch, restore and fetch run-cache entries first, under the lock the run then holds.
        o.pullFirst = pull && !check && !dry
        o.message = message
        let r = try ws.reproduce(o, events: { Self.show($0, dry: dry) })
        if check || dry {
            if r.stale.isEmpty { Console.now("Pipelines are up to date.") }
            if check && r.failsCheck { throw ExitCode(1) }
            return
        }
        if r.ran.isEmpty && r.restored.isEmpty { Console.now("Data and pipelines are up to date.") }
        if let c = r.commit { Console.now("committed \(c.prefix(12))") }
    }

    static func verify(_ ws: Workspace) throws {
        Console.now("Rerunning every stage in a scratch copy:")
        let executable = FS.realPath("/proc/self/exe") ?? CommandLine.arguments[0]
        let report = try ReproVerifier(ws).run(executable: executable)
        Console.now("")
        for v in report {
            if v.identical {
                Console.now("\(v.stage): identical (\(v.outputs.joined(separator: ", ")))")
            } else {
                for d in v.differences {
                    Console.now("\(v.stage): DIFFERS \(d.path): lock \(d.locked.short)…, rerun \(d.rerun.map { $0.short + "…" } ?? "not produced")")
                }
            }
        }
        let bad = report.filter { !$0.identical }
        if bad.isEmpty {
            Console.now("Every output of \(report.count) stage\(report.count == 1 ? "" : "s") came out byte-identical.")
        } else {
            throw MessageError("\(bad.count) of \(report.count) stages did not reproduce: \(bad.map(\.stage).joined(separator: ", "))",
                               hint: "a stage whose command depends on the clock, the host or unseeded randomness cannot reproduce", exitCode: 1)
        }
    }

    static func show(_ e: ReproEvent, dry: Bool) {
        switch e {
        case .unchanged(let s): Console.now("Stage '\(s)' didn't change, skipping")
        case .frozen(let s): Console.now("Stage '\(s)' is frozen, skipping")
        case .running(let s): Console.now("Running stage '\(s)':")
        case .command(_, let c): Console.now("> \(c)")
        case .output(let s, let line): Console.now("[\(s)] \(line)", escaping: false)
        case .restored(let s): Console.now("Stage '\(s)' is cached: outputs restored from the run-cache, command not run")
        case .stale(let s, let reasons): Console.now(dry ? "Would run stage '\(s)': \(reasons.joined(separator: "; "))" : "\(s): \(reasons.joined(separator: "; "))")
        case .failed(let s, let error): Console.now("Stage '\(s)' failed: \(error)")
        case .blocked(let s, let by): Console.now("Stage '\(s)' not run: it depends on failed stage '\(by)'")
        case .pulled(let r): Console.now(TransferOptions.summary(r, verb: "fetched"))
        // Objects the remote lacks are recomputed by the stages that make them.
        case .missingOnRemote(let message): Console.now("mlv: warning: \(message); the stages that make them will run")
        case .restoredOutput(let path): Console.now("restored pipeline output \(path)")
        case .fetchedRunEntries(let kept, let refused):
            // Stage results recorded elsewhere: a stale stage with a matching entry is restored, its objects fetched then.
            if kept > 0 { Console.now("fetched \(TransferOptions.runEntries(kept))") }
            if refused > 0 { Console.now("mlv: warning: \(TransferOptions.runEntries(refused)) from the remote refused (not an entry mlv writes, or a path leaving the workspace)") }
        }
    }
}
