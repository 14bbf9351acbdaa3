import MLVGit
import MLVSupport
import Yams
#if canImport(Glibc)
import Glibc
#endif

/// Experiments, kept in git as DVC keeps them: each one a commit (its params, locks and metrics
/// on top of the workspace it started from, its parent the baseline commit) under
/// `refs/exps/XX/YYYY…/NAME` (the baseline's id split as DVC does), its outputs in the cache.
/// An experiment runs in a scratch copy under `.mlv/tmp/exps/run/` (a git repository of its own,
/// sharing this workspace's cache and run-cache): the user's working tree, index and HEAD are
/// never touched. Queued experiments wait in `.mlv/tmp/exps/queue/`, their starting state a
/// commit under `refs/mlv-queue/NAME`; every run's output is kept in `.mlv/tmp/exps/logs/NAME.log`.
package struct Experiments {
    package let ws: Workspace
    package init(_ ws: Workspace) { self.ws = ws }

    static let refPrefix = "refs/exps/"
    static let queueRefPrefix = "refs/mlv-queue/"

    var folder: String { Path.join(ws.cache.tmp, "exps") }
    func logPath(_ name: String) -> String { Path.join(folder, "logs/\(name).log") }

    package struct Experiment: Sendable, Equatable {
        package var name: String
        package var commit: String
        package var baseline: String
        /// Seconds since 1970 (the commit's time).
        package var time: Int64
        package var ref: String { Experiments.ref(name, baseline: baseline) }
    }

    /// One experiment waiting to run: its starting state and the params it sets.
    package struct Queued: Sendable, Equatable {
        package var name: String
        package var baseline: String
        package var snapshot: String
        package var params: [Setting]
        /// Its file in the queue folder (queue order).
        var file: String = ""
    }

    package struct Setting: Sendable, Equatable {
        package var file: String
        package var key: String
        package var value: String
        package var description: String { "\(file == ParamsFile.defaultName ? "" : file + ":")\(key)=\(value)" }
    }

    static func ref(_ name: String, baseline: String) -> String {
        refPrefix + baseline.prefix(2) + "/" + baseline.dropFirst(2) + "/" + name
    }

    /// Letters, digits, '-', '_' and '.' (not first, no '..', not ending in '.lock'), ≤ 100 characters.
    static func isValidName(_ name: String) -> Bool {
        guard !name.isEmpty, name.utf8.count <= 100, !name.hasPrefix("."), !name.hasPrefix("-"), !name.contains(".."), !name.hasSuffix(".lock") else { return false }
        return name.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "-" || $0 == "_" || $0 == ".") }
    }

    func repository() throws -> GitRepository {
        guard let git = try ws.git() else { throw ExperimentError.needsGit }
        return git
    }

    /// The workspace's folder inside the repository ("." at its root).
    func inRepo(_ git: GitRepository) -> String { Path.relative(ws.root, to: git.workdir) ?? "." }

    // MARK: - Listing

    /// Every experiment, oldest first.
    package func list() throws -> [Experiment] {
        let git = try repository()
        return try refs(git).map { e in
            var e = e
            e.time = try git.commitInfo(e.commit).time
            return e
        }.sorted { ($0.time, $0.name) < ($1.time, $1.name) }
    }

    /// The experiments' refs (times not read): `refs/exps/XX/YYYY…/NAME` with a valid name.
    func refs(_ git: GitRepository) throws -> [Experiment] {
        try git.references(matching: Self.refPrefix + "*").compactMap { ref, commit in
            let parts = ref.dropFirst(Self.refPrefix.count).split(separator: "/")
            guard parts.count == 3, parts[0].count == 2, parts[1].count == 38, Self.isValidName(String(parts[2])) else { return nil }
            return Experiment(name: String(parts[2]), commit: commit, baseline: String(parts[0] + parts[1]), time: 0)
        }
    }

    /// The experiment named `name` (or whose commit id starts with it, 7+ hex digits).
    package func named(_ name: String) throws -> Experiment {
        let git = try repository()
        let all = try refs(git)
        let found = all.first(where: { $0.name == name }) ?? (name.count >= 7 ? all.first(where: { $0.commit.hasPrefix(name.lowercased()) }) : nil)
        guard var e = found else { throw ExperimentError.unknown(name, suggestion: Suggestion.closest(to: name, in: all.map(\.name))) }
        e.time = try git.commitInfo(e.commit).time   // only the one found: not a commit lookup per experiment
        return e
    }

    // MARK: - Queueing

    /// Records one queued experiment per combination of `overrides`, each starting from the
    /// workspace as it is now (committed or not: its tracked files) on top of HEAD. Every key
    /// must exist in its params file before anything is recorded.
    package func enqueue(_ overrides: [ParamOverride], name: String?) throws -> [Queued] {
        let git = try repository()
        guard let head = try? git.resolve("HEAD") else { throw ExperimentError.noCommit }
        let combos = ParamOverride.grid(overrides)
        if let name {
            guard Self.isValidName(name) else { throw ExperimentError.badName(name) }
            if combos.count > 1 { throw ExperimentError.badOverride(overrides.map(\.description).joined(separator: " "), why: "--name names one experiment, the grid makes \(combos.count)") }
        }
        // Every override is tried on the current text first (unknown keys, values that are not single).
        for o in overrides {
            let text = try readParams(Path.join(ws.root, o.file), shown: o.file)
            _ = try ParamOverride.apply(key: o.key, value: o.values[0], to: text, file: o.file)
        }
        let taken = Set(try refs(git).map(\.name) + queued().map(\.name))
        if let name, taken.contains(name) { throw ExperimentError.nameTaken(name) }
        let snapshot = try snapshotCommit(git, head: head)
        var out: [Queued] = []
        var seq = (try queued().compactMap { Int($0.file.prefix(6)) }.max() ?? 0) + 1
        for combo in combos {
            let settings = combo.map { Setting(file: $0.file, key: $0.key, value: $0.value) }
            let chosen = name ?? generatedName(head: head, settings: settings, taken: taken.union(out.map(\.name)))
            if taken.contains(chosen) { throw ExperimentError.nameTaken(chosen) }
            var q = Queued(name: chosen, baseline: head, snapshot: snapshot, params: settings)
            q.file = String(format: "%06d-%@", seq, chosen) + ".yaml"
            seq += 1
            out.append(q)
        }
        try FS.makeDirectories(Path.join(folder, "queue"))
        for q in out {
            try git.setReference(Self.queueRefPrefix + q.name, to: q.snapshot, force: true, log: "mlv exp: queued")
            let doc: [String: Any] = ["name": q.name, "baseline": q.baseline, "snapshot": q.snapshot,
                                      "params": q.params.map { [$0.file, $0.key, $0.value] }]
            try AtomicFile.write(try Yams.dump(object: doc, sortKeys: true), to: Path.join(folder, "queue/" + q.file))
        }
        return out
    }

    /// The queue, in order. Entries that cannot be read are skipped (the folder is mlv's own).
    package func queued() throws -> [Queued] {
        let dir = Path.join(folder, "queue")
        guard FS.isDirectory(dir) else { return [] }
        var out: [Queued] = []
        for e in try FS.list(dir).sorted(by: { $0.name < $1.name }) where e.name.hasSuffix(".yaml") {
            guard let text = try? UntrustedFile.readText(Path.join(dir, e.name), shownAs: e.name, what: "a queued experiment", limit: 1 << 20),
                  let doc = try? Yams.load(yaml: text) as? [String: Any],
                  let name = doc["name"] as? String, Self.isValidName(name),
                  let baseline = doc["baseline"] as? String, let snapshot = doc["snapshot"] as? String,
                  let params = doc["params"] as? [[Any]] else { continue }
            let settings = params.compactMap { p -> Setting? in
                guard p.count == 3 else { return nil }
                return Setting(file: "\(p[0])", key: "\(p[1])", value: "\(p[2])")
            }
            var q = Queued(name: name, baseline: baseline, snapshot: snapshot, params: settings)
            q.file = e.name
            out.append(q)
        }
        return out
    }

    func dequeue(_ q: Queued) {
        try? FS.remove(Path.join(folder, "queue/" + q.file))
        if let git = try? repository() { try? git.deleteReference(Self.queueRefPrefix + q.name) }
    }

    /// `exp-` and five hex digits of what makes it unique (its baseline, params and the time).
    func generatedName(head: String, settings: [Setting], taken: Set<String>) -> String {
        var salt = 0
        while true {
            let seed = head + settings.map(\.description).joined(separator: " ") + "\(MonotonicClock.monotonicSeconds())\(salt)"
            let name = "exp-" + SHA256Hasher.hex(seed).prefix(5)
            if !taken.contains(name) { return name }
            salt += 1
        }
    }

    /// A commit (parent HEAD, no reference) of the tracked files as they are in the working tree.
    func snapshotCommit(_ git: GitRepository, head: String) throws -> String {
        var changes: [GitRepository.FileChange] = []
        for (path, executable) in try git.trackedFiles() {
            let abs = Path.join(git.workdir, path)
            guard let st = try FS.status(abs), st.kind == .file else {
                changes.append(.init(path: path, bytes: nil))
                continue
            }
            changes.append(.init(path: path, bytes: try FS.readFile(abs), executable: executable || st.mode & 0o111 != 0))
        }
        let tree = try git.tree(from: head, changing: changes)
        if tree == (try git.treeID(head)) { return head }
        return try git.createCommit(tree: tree, parents: [head], message: "mlv exp: the workspace's tracked files\n")
    }

    func readParams(_ abs: String, shown: String) throws -> String {
        guard FS.exists(abs) else { throw PipelineError.missingParamsFile(path: shown) }
        return try PipelineError.readStrictText(abs, shown: shown)
    }
}
