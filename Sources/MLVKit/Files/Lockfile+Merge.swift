import MLVGit
import MLVSupport

extension Lockfile {
    /// A three-way merge of two locks, stage by stage: a stage only one side changed (or added,
    /// or removed) takes that side; the same change on both sides is kept once. Returns the
    /// merged text and whether stages conflicted; a conflicting stage is written with git's
    /// conflict markers around both versions, so the file reads like any other conflict.
    package static func merge(base: Lockfile, ours: Lockfile, theirs: Lockfile) throws -> (text: String, conflicts: [String]) {
        var names: [String] = ours.stages.map(\.name)
        for s in theirs.stages where !names.contains(s.name) { names.append(s.name) }
        var text = header
        var conflicts: [String] = []
        var any = false
        for name in names {
            let b = base[name], o = ours[name], t = theirs[name]
            let pick: StageLock??
            if o == t { pick = .some(o) } else if o == b { pick = .some(t) } else if t == b { pick = .some(o) } else { pick = nil }
            switch pick {
            case .some(let chosen?):
                text += try block(chosen)
                any = true
            case .some(nil):
                continue  // removed on one side, unchanged on the other
            case nil:
                conflicts.append(name)
                any = true
                text += "<<<<<<< ours\n" + (try o.map(block) ?? "") + "=======\n" + (try t.map(block) ?? "") + ">>>>>>> theirs\n"
            }
        }
        return (any ? text : "schema: '1'\nstages: {}\n", conflicts)
    }
}

/// `mlv lock merge BASE OURS THEIRS`: git's merge driver entry (the result replaces OURS).
package enum LockMerge {
    /// Merges and writes OURS; the names of conflicting stages (empty: merged cleanly).
    package static func run(base: String, ours: String, theirs: String) throws -> [String] {
        func load(_ path: String, _ shown: String) throws -> Lockfile {
            // git gives every side as a file (an empty one for a side without the lock); a
            // side that is missing or not a file is a mistake, not an empty lock.
            guard let st = try FS.status(path) else { throw PipelineError.missingMergeSide(path: path, side: shown) }
            guard st.kind == .file else { throw PipelineError.notARegularFile(path: path) }
            guard st.size > 0 else { return Lockfile() }
            return try Lockfile.parse(try PipelineError.readText(path, shown: path), file: shown)
        }
        let merged = try Lockfile.merge(base: try load(base, "pipeline.lock (base)"), ours: try load(ours, "pipeline.lock (ours)"),
                                        theirs: try load(theirs, "pipeline.lock (theirs)"))
        try AtomicFile.write(merged.text, to: ours)
        return merged.conflicts
    }
}

extension LockMerge {
    static let driver = "mlv-lock"

    /// Registers `mlv lock merge` as git's merge driver for pipeline.lock: `.gitattributes`
    /// (committed, staged here) names it, `.git/config` (local) says how to run it.
    package static func register(in ws: Workspace) throws {
        guard let git = try ws.git() else { return }
        try git.setLocalConfig("merge.\(driver).name", "mlv pipeline.lock merge driver")
        try git.setLocalConfig("merge.\(driver).driver", "mlv lock merge %O %A %B")
        let rel = ".gitattributes"
        let path = ws.absolute(rel)
        let line = "\(Lockfile.fileName) merge=\(driver)"   // every folder: each pipeline file has its lock beside it
        var text = FS.exists(path) ? try PipelineError.readText(path, shown: rel) : ""
        if text.split(separator: "\n").contains(where: { $0 == line }) { return }
        if !text.isEmpty && !text.hasSuffix("\n") { text += "\n" }
        try AtomicFile.write(text + line + "\n", to: path)
        _ = try ws.stageAndCommit([rel], message: nil)
    }
}
