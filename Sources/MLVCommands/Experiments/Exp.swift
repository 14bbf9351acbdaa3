import ArgumentParser
import Foundation
import MLVKit
import MLVSupport
#if canImport(Glibc)
import Glibc
#endif

/// `mlv exp …`: experiments as git commits under refs/exps/, run in scratch copies.
struct Exp: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "exp",
        abstract: "Run, compare and keep experiments: each a git commit under refs/exps/ with its params, locks and metrics.",
        discussion: "An experiment runs `mlv repro` in a scratch copy of the workspace (its tracked files as they are now, -S params applied), sharing the cache and run-cache: your working tree, index and HEAD are never touched.",
        subcommands: [ExpRun.self, ExpShow.self, ExpDiff.self, ExpApply.self, ExpBranch.self, ExpRemove.self, ExpLogs.self, ExpPush.self, ExpPull.self, ExpExport.self])
}

struct ExpRun: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "run", abstract: "Run an experiment (or queue one per combination of -S values).")

    @Option(name: .customShort("S"), parsing: .unconditionalSingleValue,
            help: "Set a param: KEY=VALUE (params.yaml) or FILE:KEY=VALUE; VALUE,VALUE,… is a grid (one experiment per combination, with --queue).")
    var set: [String] = []

    @Option(help: "The experiment's name (default: exp- and 5 hex digits).") var name: String?
    @Flag(help: "Only queue it; `mlv exp run --run-all` runs the queue.") var queue = false
    @Flag(help: "Run every queued experiment (what -S adds is queued first).") var runAll = false
    @Option(name: .shortAndLong, help: "Experiments to run at the same time with --run-all.") var jobs = 1

    func validate() throws {
        guard (1...64).contains(jobs) else { throw ValidationError("--jobs must be between 1 and 64") }
    }

    func run() throws {
        let exps = Experiments(try WorkspaceCommand.open())
        let overrides = try set.map(ParamOverride.parse)
        let combos = ParamOverride.grid(overrides).count
        if combos > 1 && !queue && !runAll {
            throw ValidationError("the -S grid makes \(combos) experiments: add --queue (then `mlv exp run --run-all`) or --run-all")
        }
        let queuedNow = (queue || runAll) && set.isEmpty && name == nil ? [] : try exps.enqueue(overrides, name: name)
        if queue {
            for q in queuedNow { Console.now("queued \(q.name): \(q.params.map(\.description).joined(separator: " "))") }
            return
        }
        if runAll {
            let r = try exps.runAll(jobs: jobs) { event in
                switch event {
                case .started(let n): Console.now("running \(n)")
                case .output(let n, let line): if jobs == 1 { Console.now(line) } else { Console.now("[\(n)] \(line)") }
                case .finished(let e): Console.now("experiment \(e.name) done: \(e.commit.prefix(12))")
                case .failed(_, let error): Console.now("mlv: error: \(error)")
                }
            }
            Console.now("\(r.done.count) experiment\(r.done.count == 1 ? "" : "s") done, \(r.failed.count) failed\(r.failed.isEmpty ? "" : ": " + r.failed.joined(separator: ", "))")
            if !r.failed.isEmpty { throw ExitCode(1) }
            return
        }
        let e = try exps.run(queuedNow[0]) { Console.now($0) }
        Console.now("experiment \(e.name) done: \(e.commit.prefix(12)) (`mlv exp apply \(e.name)` takes it into the workspace)")
    }
}

struct ExpShow: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "A table of experiments: the params that differ and the metrics, the workspace and HEAD first.")
    @Flag(help: "Print JSON.") var json = false
    @Flag(help: "Print a Markdown table.") var md = false
    @Flag(help: "Print CSV.") var csv = false
    @Option(help: "Sort the experiments by a metric or param (e.g. acc, metrics.acc, params.train.lr).") var sortBy: String?
    @Option(help: "asc or desc.") var sortOrder = "asc"
    @Option(help: "Keep only the experiments matching, e.g. 'metrics.acc > 0.9 and params.train.batch_size == 32'.") var filter: String?
    @Option(help: "Significant digits of numbers in the table.") var precision = 5
    @Option(help: "Write a page comparing the experiments (scatter plots, parallel coordinates) to this HTML file.") var html: String?

    func validate() throws {
        guard ["asc", "desc"].contains(sortOrder) else { throw ValidationError("--sort-order is asc or desc") }
        guard (1...17).contains(precision) else { throw ValidationError("--precision takes 1 to 17 digits") }
    }

    func run() throws {
        let ws = try WorkspaceCommand.open()
        var table = try ExperimentTable.build(ws, experiments: try Experiments(ws).list())
        if let filter { table = try table.filtered(filter) }
        if let sortBy { table = try table.sorted(by: sortBy, descending: sortOrder == "desc") }
        if let html { return try ExpShowHTML.write(table, to: html) }
        try ExpShow.print(table, json: json, md: md, csv: csv, precision: precision)
    }

    static func print(_ t: ExperimentTable, json: Bool, md: Bool, csv: Bool, precision: Int) throws {
        if json {
            let rows: [[String: Any]] = t.rows.map { r in
                var params: [String: [String: Any]] = [:], metrics: [String: [String: Any]] = [:]
                for (c, v) in zip(t.columns, r.values) {
                    let value: Any = v.map(ValueTableOutput.json) ?? NSNull()
                    if c.kind == "params" { params[c.file, default: [:]][c.key] = value } else { metrics[c.file, default: [:]][c.key] = value }
                }
                var o: [String: Any] = ["name": r.name, "rev": r.commit.isEmpty ? "workspace" : r.commit, "baseline": r.baseline,
                                        "params": params, "metrics": metrics]
                o["created"] = r.created.map { ISO8601.format($0) } ?? NSNull()
                return o
            }
            return try Console.json(rows)
        }
        let header = ["Experiment", "Created"] + t.columns.map(\.title)
        let lines = [header] + t.rows.map { r in
            [r.name, r.created.map { ISO8601.format($0) } ?? "-"] + r.values.map { $0.map { ValueTableOutput.text($0, precision: precision) } ?? "-" }
        }
        let visible = lines.map { $0.map { TerminalText.visible($0) } }
        if csv {
            func cell(_ s: String) -> String { s.contains(where: { ",\"\n".contains($0) }) ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s }
            for l in visible { Console.line(l.map(cell).joined(separator: ",")) }
        } else if md {
            func cell(_ s: String) -> String { s.replacingOccurrences(of: "|", with: "\\|") }
            Console.line("| " + visible[0].map(cell).joined(separator: " | ") + " |")
            Console.line("|" + visible[0].map { _ in "---|" }.joined())
            for l in visible.dropFirst() { Console.line("| " + l.map(cell).joined(separator: " | ") + " |") }
        } else {
            let widths = header.indices.map { i in visible.map { $0[i].count }.max() ?? 0 }
            for l in visible {
                Console.line(l.enumerated().map { i, s in i == l.count - 1 ? s : s.padding(toLength: widths[i], withPad: " ", startingAt: 0) }.joined(separator: "  "))
            }
        }
    }
}

struct ExpDiff: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "diff", abstract: "The params and metrics that differ between two experiments (or an experiment and HEAD).")
    @Argument(help: "Experiments or revisions.") var a: String
    @Argument(help: "(default: the first one's baseline)") var b: String?
    @OptionGroup var format: TableFormatOptions

    func run() throws {
        let ws = try WorkspaceCommand.open()
        let exps = Experiments(ws)
        func rev(_ name: String) throws -> String { (try? exps.named(name).commit) ?? name }
        let first = try rev(a)
        let second = try b.map(rev) ?? (try exps.named(a).baseline)
        let view = PipelineView(ws)
        var table = try view.paramsTable([second, first], all: false)
        let metrics = try view.metricsTable([second, first], onlyChanged: true)
        table.rows += metrics.rows
        table.columns = [b ?? "baseline", a]
        try ValueTableOutput.print(table, keyTitle: "Key", format: format, change: true, empty: "No params or metrics differ.")
    }
}

struct ExpApply: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "apply", abstract: "Write an experiment's params, locks and metrics into the workspace and check out its outputs.")
    @Argument(help: "The experiment.") var name: String
    @Flag(help: "Overwrite uncommitted changes to tracked files.") var force = false

    func run() throws {
        let written = try Experiments(try WorkspaceCommand.open()).apply(name, force: force)
        Console.now("applied \(name): \(written.joined(separator: ", "))")
    }
}

struct ExpBranch: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "branch", abstract: "Make a git branch of an experiment's commit.")
    @Argument(help: "The experiment.") var name: String
    @Argument(help: "The new branch.") var branch: String

    func run() throws {
        let commit = try Experiments(try WorkspaceCommand.open()).branch(name, branch)
        Console.now("branch \(branch) is at \(commit.prefix(12)) (\(name))")
    }
}

struct ExpRemove: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "remove", abstract: "Remove experiments (their refs and logs) or queued ones.")
    @Argument(help: "Experiments.") var names: [String] = []
    @Flag(name: [.customShort("A"), .long], help: "Every experiment.") var all = false
    @Flag(help: "Every queued experiment.") var queue = false

    func run() throws {
        guard !names.isEmpty || all || queue else { throw ValidationError("name experiments, or give --all or --queue") }
        let removed = try Experiments(try WorkspaceCommand.open()).remove(names, all: all, queue: queue)
        Console.now(removed.isEmpty ? "nothing to remove" : "removed \(removed.joined(separator: ", "))")
    }
}

struct ExpLogs: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "logs", abstract: "The output of an experiment's run (failed ones too).")
    @Argument(help: "The experiment.") var name: String

    func run() throws {
        Console.line(try Experiments(try WorkspaceCommand.open()).log(name), terminator: "")
    }
}

struct ExpPush: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "push", abstract: "Push experiments to a git remote, and their outputs to the mlv remote.")
    @Argument(help: "A git remote (name, URL or path).") var gitRemote: String
    @Argument(help: "Experiments (default: all).") var names: [String] = []
    @Option(name: .shortAndLong, help: "The mlv remote for the data (default: the default remote).") var remote: String?
    @Flag(help: "Push the refs only.") var noData = false

    func run() throws {
        let r = try Experiments(try WorkspaceCommand.open()).push(to: gitRemote, names: names, remote: remote, noData: noData, jobs: nil)
        Console.now("pushed \(r.refs) experiment\(r.refs == 1 ? "" : "s")" + (r.data.map { ", \($0.transferred) file\($0.transferred == 1 ? "" : "s") of data" } ?? ""))
    }
}

struct ExpPull: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "pull", abstract: "Fetch experiments from a git remote, and their outputs from the mlv remote.")
    @Argument(help: "A git remote (name, URL or path).") var gitRemote: String
    @Argument(help: "Experiments (default: all).") var names: [String] = []
    @Option(name: .shortAndLong, help: "The mlv remote for the data (default: the default remote).") var remote: String?
    @Flag(help: "Fetch the refs only.") var noData = false

    func run() throws {
        let r = try Experiments(try WorkspaceCommand.open()).pull(from: gitRemote, names: names, remote: remote, noData: noData, jobs: nil)
        Console.now(r.refs.isEmpty ? "no new experiments" : "pulled \(r.refs.joined(separator: ", "))" + (r.data.map { " (\($0.transferred) file\($0.transferred == 1 ? "" : "s") of data)" } ?? ""))
    }
}

/// `2026-12-03 01:44:55` (UTC), without a DateFormatter (one per row cost ICU milliseconds).
enum ISO8601 {
    static func format(_ seconds: Int64) -> String {
        var t = time_t(seconds)
        var parts = tm()
        gmtime_r(&t, &parts)
        func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday)) \(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))"
    }
}
