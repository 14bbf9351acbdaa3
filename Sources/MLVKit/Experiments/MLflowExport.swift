import MLVSupport

/// `mlv exp export --mlflow`: each experiment logged as one MLflow run. Git stays the record,
/// MLflow is a view of it: a run carries the experiment's params (every key of its params
/// files), its metrics (a metric with a history in a plots table is logged with its steps, the
/// others as one value at step 0) and tags naming the commit, the baseline, the SHA-256 of the
/// commit's `pipeline.lock`, the model's hash (the `artifacts:` entry of type model, else the
/// first) and the mlv version. Every timestamp is the commit's time, so exporting again sends
/// the same records: a run already exported (found by its `mlv.commit` tag) is updated, never
/// duplicated.
package struct MLflowExport {
    package let ws: Workspace
    package let client: MLflowClient

    package init(_ ws: Workspace, client: MLflowClient) {
        self.ws = ws
        self.client = client
    }

    /// What one experiment becomes in MLflow.
    package struct Run: Sendable {
        package var name: String
        package var commit: String
        /// Milliseconds since 1970: the commit's time.
        package var time: Int64
        package var params: [(key: String, value: String)] = []
        package var metrics: [(key: String, value: Double, step: Int64)] = []
        package var tags: [(key: String, value: String)] = []
    }

    package struct Exported: Sendable {
        package var name: String
        package var runID: String
        package var created: Bool
    }

    /// MLflow's limits for one log-batch request, and for one param value.
    static let batchParams = 100, batchTotal = 1000, maxParamValue = 6000, maxKey = 250

    /// One log-batch request: at most 100 params and 100 tags, 1000 entries in all.
    struct Batch {
        var params: [(key: String, value: String)] = []
        var metrics: [(key: String, value: Double, step: Int64)] = []
        var tags: [(key: String, value: String)] = []
        var total: Int { params.count + metrics.count + tags.count }
    }

    /// The runs the experiments become (nothing sent).
    package func runs(_ experiments: [Experiments.Experiment], version: String) throws -> [Run] {
        guard !experiments.isEmpty else { return [] }
        let view = PipelineView(ws)
        let revisions = experiments.map { Optional($0.commit) }
        let params = try view.paramsTable(revisions, all: true)
        let metrics = try view.metricsTable(revisions)
        let plots = try view.plotsData(revisions).filter { !$0.spec.isImage && $0.spec.template != .confusion }
        let artifacts = try view.artifacts()
        let model = artifacts.first { $0.type == "model" } ?? artifacts.first
        var reader = try RevisionReader(ws)
        func keyed(_ rows: [ValueTable.Row]) -> [(key: String, values: [ParamValue?])] {
            let count = Dictionary(rows.map { ($0.key, 1) }, uniquingKeysWith: +)
            return rows.map { (Self.key(count[$0.key]! > 1 ? "\($0.file):\($0.key)" : $0.key), $0.values) }
        }
        let paramRows = keyed(params.rows), metricRows = keyed(metrics.rows)
        var out: [Run] = []
        for (i, e) in experiments.enumerated() {
            var run = Run(name: e.name, commit: e.commit, time: e.time * 1000)
            // Names that meet once made MLflow-safe (`a<b`, `a>b`): the first one is logged.
            var seenParams = Set<String>()
            for (key, values) in paramRows {
                guard let v = values[i], seenParams.insert(key).inserted else { continue }
                run.params.append((key, String(v.description.prefix(Self.maxParamValue))))
            }
            // Histories first: a key with one is logged with its steps, not as one value.
            var seen = Set<String>()
            for p in plots {
                for s in p.series where s.revision == e.commit {
                    let key = Self.key(s.label.replacingOccurrences(of: ": ", with: "/"))
                    guard seen.insert(key).inserted else { continue }
                    for pt in s.points { run.metrics.append((key, pt.y, Int64(pt.x.rounded()))) }
                }
            }
            for (key, values) in metricRows {
                guard let v = values[i].flatMap(ExperimentFilter.number), v.isFinite, seen.insert(key).inserted else { continue }
                run.metrics.append((key, v, 0))
            }
            run.tags = [("mlv.experiment", e.name), ("mlv.commit", e.commit), ("mlv.baseline", e.baseline),
                        ("mlflow.source.git.commit", e.commit), ("mlv.version", version)]
            if let lock = try reader.read(Lockfile.fileName, at: e.commit) {
                run.tags.append(("mlv.lock", "sha256:" + SHA256Hasher.hex(lock)))
            }
            if let model, let out = try reader.lock(at: e.commit).stages.flatMap(\.outs).first(where: { $0.path == model.path }) {
                run.tags += [("mlv.model", "sha256:" + out.hash.description), ("mlv.model.path", model.path)]
            }
            out.append(run)
        }
        return out
    }

    /// Logs `runs` into the MLflow experiment `experiment` (created when missing), calling
    /// `progress` after each. A failure after some runs went names both lists.
    package func export(_ runs: [Run], experiment: String, progress: (Exported) -> Void) throws -> (experimentID: String, runs: [Exported]) {
        let id = try experimentID(experiment)
        var done: [Exported] = []
        for run in runs {
            do {
                let exported = try log(run, experimentID: id)
                done.append(exported)
                progress(exported)
            } catch let e as UserFacingError where !done.isEmpty {
                throw MLflowError.partial(exported: done.map(\.name), notExported: runs.dropFirst(done.count).map(\.name), cause: e.message)
            }
        }
        return (id, done)
    }

    /// The experiment's id, creating it when MLflow has none of that name.
    func experimentID(_ name: String) throws -> String {
        let found = try client.call("experiments/get-by-name", query: [("experiment_name", name)], notFound: [:])
        if let e = found["experiment"] as? [String: Any] {
            guard let id = e["experiment_id"] as? String else { throw MLflowError.notMLflow(client.shown, endpoint: "experiments/get-by-name") }
            if e["lifecycle_stage"] as? String == "deleted" { throw MLflowError.deletedExperiment(client.shown, name: TerminalText.visible(name)) }
            return id
        }
        let created = try client.call("experiments/create", body: JSONText.object([("name", JSONText.string(name))]))
        guard let id = created["experiment_id"] as? String else { throw MLflowError.notMLflow(client.shown, endpoint: "experiments/create") }
        return id
    }

    /// One run: found by its commit tag (else created), its params, metrics and tags logged,
    /// then marked finished.
    func log(_ run: Run, experimentID id: String) throws -> Exported {
        let s = JSONText.string
        let filter = "tags.`mlv.commit` = '\(run.commit)'"
        let search = try client.call("runs/search", body: JSONText.object([("experiment_ids", JSONText.array([s(id)])), ("filter", s(filter)), ("max_results", "1")]))
        var runID = ((search["runs"] as? [[String: Any]])?.first?["info"] as? [String: Any])?["run_id"] as? String
        let created = runID == nil
        if runID == nil {
            let body = JSONText.object([("experiment_id", s(id)), ("run_name", s(run.name)), ("start_time", "\(run.time)"), ("tags", Self.pairs(run.tags))])
            let answer = try client.call("runs/create", body: body, idempotent: false)
            runID = ((answer["run"] as? [String: Any])?["info"] as? [String: Any])?["run_id"] as? String
            guard runID != nil else { throw MLflowError.notMLflow(client.shown, endpoint: "runs/create") }
        }
        let rid = runID!
        // As few log-batch requests as MLflow's limits allow (one for most runs).
        var batches: [Batch] = [Batch(tags: run.tags)]
        for p in run.params {
            if batches[batches.count - 1].params.count == Self.batchParams || batches[batches.count - 1].total == Self.batchTotal { batches.append(Batch()) }
            batches[batches.count - 1].params.append(p)
        }
        for m in run.metrics {
            if batches[batches.count - 1].total == Self.batchTotal { batches.append(Batch()) }
            batches[batches.count - 1].metrics.append(m)
        }
        for b in batches {
            let metrics = b.metrics.map { m in
                JSONText.object([("key", s(m.key)), ("value", JSONText.number(m.value)), ("timestamp", "\(run.time)"), ("step", "\(m.step)")])
            }
            _ = try client.call("runs/log-batch", body: JSONText.object([("run_id", s(rid)), ("params", Self.pairs(b.params)),
                                                                         ("metrics", JSONText.array(metrics)), ("tags", Self.pairs(b.tags))]))
        }
        _ = try client.call("runs/update", body: JSONText.object([("run_id", s(rid)), ("status", s("FINISHED")), ("end_time", "\(run.time)"), ("run_name", s(run.name))]))
        return Exported(name: run.name, runID: rid, created: created)
    }

    static func pairs(_ items: [(key: String, value: String)]) -> String {
        JSONText.array(items.map { JSONText.object([("key", JSONText.string($0.key)), ("value", JSONText.string($0.value))]) })
    }

    /// A param or metric name MLflow accepts: letters, digits, `_ - . / : ` and space, ≤ 250
    /// characters; anything else becomes `_`.
    static func key(_ raw: String) -> String {
        let kept = raw.unicodeScalars.map { u -> Character in
            u.isASCII && (u.properties.isAlphabetic || ("0"..."9").contains(u) || "_-./: ".unicodeScalars.contains(u)) ? Character(u) : "_"
        }
        return String(String(kept).prefix(maxKey))
    }
}
