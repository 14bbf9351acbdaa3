/// What a stage's deps, params and outs are now (nil hash: the path does not exist).
struct StageSnapshot {
    var deps: [Lockfile.Entry]
    var missingDeps: [String]
    var params: [(file: String, values: [(key: String, value: ParamValue)])]
    var outs: [Lockfile.Entry]
    var missingOuts: [String]
}

/// Why a stage must run, compared with what the lock recorded: pure, so `--check`, `--dry` and
/// `status` give the same answer that `repro` acts on.
package enum Staleness {
    static func reasons(_ stage: Stage, _ lock: Lockfile.StageLock?, _ now: StageSnapshot) -> [String] {
        var out: [String] = []
        if stage.alwaysChanged { out.append("always changed") }
        guard let lock else { return out + ["never run"] }
        if lock.cmd != stage.cmd { out.append("changed command") }

        let recordedDeps = Dictionary(lock.deps.map { ($0.path, $0) }, uniquingKeysWith: { a, _ in a })
        var changedDeps = now.missingDeps
        for d in now.deps where recordedDeps[d.path]?.hash != d.hash { changedDeps.append(d.path) }
        let declared = Set(stage.deps)
        for d in lock.deps where !declared.contains(d.path) { changedDeps.append(d.path) }
        if !changedDeps.isEmpty { out.append("changed deps: " + sortedList(changedDeps)) }

        var changedParams: [String] = []
        var seen = Set<String>()
        for f in now.params {
            for (k, v) in f.values {
                seen.insert(f.file + "\u{0}" + k)
                let recorded = lock.param(f.file, k)
                guard recorded != v else { continue }
                if case .dict? = recorded, case .dict = v {
                    // A whole section: name the keys inside it that changed.
                    let old = Dictionary(recorded!.flattened(k).map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
                    let new = Dictionary(v.flattened(k).map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
                    changedParams += Set(old.keys).union(new.keys).filter { old[$0] != new[$0] }
                } else {
                    changedParams.append(k)
                }
            }
        }
        for f in lock.params { for (k, _) in f.values where !seen.contains(f.file + "\u{0}" + k) { changedParams.append(k) } }
        if !changedParams.isEmpty { out.append("changed params: " + sortedList(changedParams)) }

        if !now.missingOuts.isEmpty { out.append("deleted outs: " + sortedList(now.missingOuts)) }
        let recordedOuts = Dictionary(lock.outs.map { ($0.path, $0) }, uniquingKeysWith: { a, _ in a })
        var changedOuts: [String] = []
        for o in now.outs where recordedOuts[o.path]?.hash != o.hash { changedOuts.append(o.path) }
        let declaredOuts = Set(stage.outs.map(\.path))
        for o in lock.outs where !declaredOuts.contains(o.path) { changedOuts.append(o.path) }
        if !changedOuts.isEmpty { out.append("changed outs: " + sortedList(changedOuts)) }
        return out
    }

    static func sortedList(_ items: [String]) -> String {
        Array(Set(items)).sorted().joined(separator: ", ")
    }
}
