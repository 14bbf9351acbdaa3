import MLVSupport

/// Where an orchestrator runs a stage, from its `orchestrate:` block in pipeline.yaml (read by
/// `mlv dag --airflow`; `mlv repro` ignores it):
///
///     train:
///       cmd: mlv train …
///       orchestrate: {queue: gpu, pool: gpus, retries: 2, timeout: 3600}
package struct StageOrchestration: Equatable, Sendable {
    /// The workers' queue (Celery) that takes the stage's task.
    package var queue: String?
    /// The Airflow pool its task draws a slot from.
    package var pool: String?
    /// How often a failed task is retried.
    package var retries: Int?
    /// Seconds a try may run before Airflow ends it (the stage's command is killed, nothing of it
    /// is pushed).
    package var timeout: Int?

    package init(queue: String? = nil, pool: String? = nil, retries: Int? = nil, timeout: Int? = nil) {
        self.queue = queue
        self.pool = pool
        self.retries = retries
        self.timeout = timeout
    }

    static let keys = ["queue", "pool", "retries", "timeout"]

    /// The block of stage `stage`; queue and pool names are Airflow's (`[A-Za-z0-9_.-]`).
    static func parse(_ node: YAMLNode, stage: String) throws -> StageOrchestration {
        let fields = try node.mapping("'orchestrate' of stage '\(stage)'")
        try node.checkKeys(fields, allowed: keys, in: "'orchestrate' of stage '\(stage)'")
        var o = StageOrchestration()
        for (key, _, value) in fields {
            switch key {
            case "queue", "pool":
                let name = try value.string("'\(key)'")
                guard AirflowTaskIDs.isValid(name) else {
                    throw value.error("\(key) '\(TerminalText.visible(name))' is not a valid Airflow name", hint: "use letters, digits, '_', '-' and '.'")
                }
                if key == "queue" { o.queue = name } else { o.pool = name }
            case "retries":
                let n = try value.int("'retries'")
                guard (0...100).contains(n) else { throw value.error("'retries' must be from 0 to 100") }
                o.retries = n
            default:
                let n = try value.int("'timeout'")
                guard (1...31_536_000).contains(n) else { throw value.error("'timeout' must be from 1 to 31536000 seconds") }
                o.timeout = n
            }
        }
        return o
    }
}
