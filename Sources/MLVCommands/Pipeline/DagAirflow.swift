import ArgumentParser
import MLVKit
import MLVSupport

/// `mlv dag --airflow`'s options: the DAG file's settings, where it goes, and `--check`.
struct AirflowOptions: ParsableArguments {
    @Flag(help: "Write an Apache Airflow 3 DAG file: one task per stage (each foreach/matrix item its own), the pipeline's edges as dependencies, each task running the stage with `mlv repro --pull` in a checkout of its own and pushing its results with `mlv push --run-cache`, a last task collecting pipeline.lock.")
    var airflow = false

    @Option(name: .shortAndLong, help: "With --airflow: the file to write (default: standard output).")
    var output: String?

    @Option(help: "With --airflow: the DAG id (default: the output file's name, else mlv_pipeline).")
    var dagId: String?

    @Option(help: "With --airflow: a cron expression or preset (@daily) to run it on (default: triggered runs only).")
    var schedule: String?

    @Option(help: "With --airflow: the branch whose head a run uses when no commit is given (default: main).")
    var branch: String?

    @Option(help: "With --airflow: commit the collected pipeline.lock and push it to this branch, only if the branch has not moved.")
    var commitBranch: String?

    @Flag(help: "With --airflow: runs use the commit the file is generated from unless the run's conf gives {\"commit\": …}, instead of the branch head.")
    var pin = false

    @Option(help: "With --airflow: the image each task's pod runs (KubernetesExecutor's pod_override).")
    var image: String?

    @Option(help: ArgumentHelp("With --airflow: the Celery queue a stage's task goes to, over its `orchestrate: {queue: …}`; repeatable.", valueName: "STAGE=QUEUE"))
    var queue: [String] = []

    @Option(help: ArgumentHelp("With --airflow: the Airflow pool a stage's task draws from; repeatable.", valueName: "STAGE=POOL"))
    var pool: [String] = []

    @Option(help: ArgumentHelp("Say whether a DAG file `mlv dag --airflow` wrote is stale against the pipeline files (exit 1 when it is).", valueName: "FILE"))
    var check: String?

    var used: Bool { airflow || check != nil }

    /// An option of the DAG file given without --airflow.
    var strayOption: String? {
        [("-o", output != nil), ("--dag-id", dagId != nil), ("--schedule", schedule != nil), ("--branch", branch != nil),
         ("--commit-branch", commitBranch != nil), ("--pin", pin), ("--image", image != nil), ("--queue", !queue.isEmpty), ("--pool", !pool.isEmpty)]
            .first { $0.1 }?.0
    }

    /// The file's text for `ws`'s pipeline; `commit`: the one to record instead of HEAD's.
    func dag(in ws: Workspace, commit: String? = nil) throws -> AirflowDAG {
        var o = AirflowDAGOptions()
        o.dagID = dagId ?? output.map { Path.base($0).hasSuffix(".py") ? String(Path.base($0).dropLast(3)) : Path.base($0) } ?? o.dagID
        guard AirflowTaskIDs.isValid(o.dagID) else {
            throw MessageError("DAG id '\(TerminalText.visible(o.dagID))' is not valid in Airflow", hint: "use letters, digits, '_', '-' and '.' (--dag-id)")
        }
        if let schedule {
            guard !schedule.isEmpty, schedule.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value < 0x7F }) else {
                throw MessageError("--schedule '\(TerminalText.visible(schedule))' is not a cron expression or preset", hint: "for example --schedule '0 3 * * *' or --schedule @daily")
            }
            o.schedule = schedule
        }
        for (flag, value) in [("--branch", branch), ("--commit-branch", commitBranch)] {
            guard let value else { continue }
            guard Self.isBranchName(value) else { throw MessageError("\(flag) '\(TerminalText.visible(value))' is not a branch name", hint: "a git branch name, such as main or results/airflow") }
        }
        o.branch = branch ?? o.branch
        o.commitBranch = commitBranch
        if let image {
            guard !image.isEmpty, image.utf8.allSatisfy({ AirflowTaskIDs.isValid(String(UnicodeScalar($0))) || $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: "@") }) else {
                throw MessageError("--image '\(TerminalText.visible(image))' is not an image name", hint: "for example --image registry.example.com/team/mlv:1.2")
            }
            o.image = image
        }
        o.pin = pin
        o.commit = commit
        if pin, commit == nil, try ws.git() == nil { throw MessageError("--pin records the commit the file is generated from, and this workspace is not in a git repository") }
        o.arguments = arguments(dagID: o.dagID)
        let dag = try AirflowDAG.make(in: ws, o, queues: try Self.pairs(queue, flag: "--queue"), pools: try Self.pairs(pool, flag: "--pool"),
                                      folder: StageTargets.folder(of: FS.currentDirectory(), in: ws))
        if pin, dag.options.commit == nil { throw MessageError("--pin records the commit the file is generated from, and this repository has no commit yet") }
        return dag
    }

    /// The options as given, for the file to record (`-o` and `--check` are not part of it).
    func arguments(dagID: String) -> [String] {
        var a = ["--dag-id", dagID]
        if let schedule { a += ["--schedule", schedule] }
        if let branch { a += ["--branch", branch] }
        if let commitBranch { a += ["--commit-branch", commitBranch] }
        if pin { a.append("--pin") }
        if let image { a += ["--image", image] }
        for q in queue { a += ["--queue", q] }
        for p in pool { a += ["--pool", p] }
        return a
    }

    /// `STAGE=NAME` values, NAME a valid Airflow name.
    static func pairs(_ values: [String], flag: String) throws -> [(String, String)] {
        try values.map { v in
            guard let eq = v.firstIndex(of: "="), eq != v.startIndex, AirflowTaskIDs.isValid(v[v.index(after: eq)...]) else {
                throw MessageError("\(flag) '\(TerminalText.visible(v))' is not STAGE=NAME", hint: "for example \(flag) train=\(flag == "--queue" ? "gpu" : "gpus"); names use letters, digits, '_', '-' and '.'")
            }
            return (String(v[..<eq]), String(v[v.index(after: eq)...]))
        }
    }

    /// A name git would take for a branch (the common rules of `git check-ref-format`).
    static func isBranchName(_ s: String) -> Bool {
        !s.isEmpty && !s.hasPrefix("-") && !s.hasPrefix("/") && !s.hasSuffix("/") && !s.hasSuffix(".lock") && !s.hasSuffix(".")
            && !s.contains("..") && !s.contains("//") && !s.contains("@{")
            && s.unicodeScalars.allSatisfy { $0.value > 0x20 && $0.value != 0x7F && !"~^:?*[\\".unicodeScalars.contains($0) }
    }

    /// Writes the file (or prints it); refuses a path inside `.git` or `.mlv`.
    func write(_ dag: AirflowDAG, ws: Workspace) throws {
        guard let output else { return print(dag.text, terminator: "") }
        let path = Path.absolute(output, relativeTo: FS.currentDirectory())
        let real = FS.realPath(Path.parent(path)).map { Path.join($0, Path.base(path)) } ?? path
        for p in [path, real] where Path.normalize(p).split(separator: "/").contains(where: { $0 == ".git" || $0 == ".mlv" }) {
            throw MessageError("'\(TerminalText.visible(output))' is inside .git or .mlv, which are not for DAG files", hint: "write it into your Airflow dags folder, for example -o dags/\(dag.options.dagID).py")
        }
        guard !FS.isDirectory(path) else { throw MessageError("'\(TerminalText.visible(output))' is a folder", hint: "name the file: -o \(output)/\(dag.options.dagID).py") }
        try FS.makeDirectories(Path.parent(path))
        try AtomicFile.write(dag.text, to: path)
        Console.now("Wrote \(output): \(dag.taskIDs.count) stage task\(dag.taskIDs.count == 1 ? "" : "s") of DAG \(dag.options.dagID)")
    }

    /// `--check FILE`: the file generated again with the options it records; exit 1 when it differs.
    func runCheck(_ file: String, ws: Workspace) throws {
        if let stray = strayOption { throw MessageError("--check reads the options from the file: \(stray) cannot go with it", hint: "mlv dag --airflow --check FILE") }
        let path = Path.absolute(file, relativeTo: FS.currentDirectory())
        let text = String(decoding: try UntrustedFile.read(path, shownAs: file, what: "a DAG file", limit: 16 << 20), as: UTF8.self)
        guard let recorded = AirflowDAG.recorded(in: text) else {
            throw MessageError("'\(TerminalText.visible(file))' is not a DAG file `mlv dag --airflow` wrote (it records no options)")
        }
        let regenerate = "mlv dag --airflow -o \(file) " + recorded.arguments.map(Self.shellWord).joined(separator: " ")
        let options: AirflowOptions
        do { options = try AirflowOptions.parse(["--airflow"] + recorded.arguments) } catch {
            throw MessageError("'\(TerminalText.visible(file))' records options this mlv does not take: \(AirflowOptions.message(for: error))", hint: regenerate)
        }
        let fresh = try options.dag(in: ws, commit: recorded.commit.isEmpty ? nil : recorded.commit)
        if fresh.text == text { return Console.now("\(file) is up to date with the pipeline files") }
        let had = AirflowDAG.taskIDs(in: text), has = fresh.taskIDs
        var what: [String] = []
        let added = has.filter { !had.contains($0) }, removed = had.filter { !has.contains($0) }
        if !added.isEmpty { what.append("lacks tasks " + added.joined(separator: ", ")) }
        if !removed.isEmpty { what.append("has tasks of no stage " + removed.joined(separator: ", ")) }
        if what.isEmpty { what.append("differs in its tasks' dependencies or settings") }
        throw MessageError("\(file) is stale against the pipeline files: it \(what.joined(separator: "; "))", hint: "generate it again: \(regenerate)", exitCode: 1)
    }

    static func shellWord(_ s: String) -> String {
        s.unicodeScalars.allSatisfy { AirflowTaskIDs.isValid(String($0)) || "/:=@,+".unicodeScalars.contains($0) } ? s
            : "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
