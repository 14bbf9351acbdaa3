import MLVSupport

/// A tracked output: a file or folder of the workspace whose content is recorded by hash,
/// either in its `.mlv` pointer file (`mlv add`) or in `pipeline.lock` (a stage's out). The two
/// are records of the same thing: status, checkout, commit and gc take outputs and do not ask
/// where they are recorded, except to report or rewrite the record.
package struct Output: Equatable, Sendable {
    /// Where an output is recorded.
    package enum Record: Equatable, Sendable {
        /// A pointer file (workspace-relative path of the `.mlv` file).
        case pointer(file: String)
        /// A stage's entry in `pipeline.lock`.
        case lock(stage: String)
        /// An out a run-cache entry records (the run is not in the lock).
        case runCache
    }

    /// What is recorded: the workspace-relative path, the content's hash, size and file count.
    package var content: ContentRecord
    package var path: String { get { content.path } set { content.path = newValue } }
    package var hash: ContentHash { get { content.hash } set { content.hash = newValue } }
    package var size: Int64 { get { content.size } set { content.size = newValue } }
    package var fileCount: Int? { get { content.fileCount } set { content.fileCount = newValue } }
    /// False for pipeline outs marked `cache: false` (kept in git; the cache need not hold them).
    package var cache: Bool
    package var record: Record
    /// Imported data: where it came from (`mlv import`, `mlv import-url`; kept in its pointer file).
    package var origin: DataOrigin?
    /// The repository an `mlv import` came from.
    package var source: ImportSource? { if case .repo(let s)? = origin { return s } else { return nil } }

    package init(path: String, hash: ContentHash, size: Int64, fileCount: Int?, cache: Bool = true, record: Record) {
        content = ContentRecord(path: path, hash: hash, size: size, fileCount: fileCount)
        self.cache = cache
        self.record = record
    }

    init(_ e: Lockfile.Entry, stage: String, cache: Bool) {
        self.init(path: e.path, hash: e.hash, size: e.size, fileCount: e.fileCount, cache: cache, record: .lock(stage: stage))
    }

    var isPointer: Bool { if case .pointer = record { return true } else { return false } }

    /// The same content as a lock entry (for the lock and the run-cache).
    var lockEntry: Lockfile.Entry { content }
}

/// Which records `Workspace.outputs` reads.
package struct OutputSources: OptionSet, Sendable {
    package let rawValue: Int
    package init(rawValue: Int) { self.rawValue = rawValue }
    /// `.mlv` pointer files.
    package static let pointers = OutputSources(rawValue: 1)
    /// The outs `pipeline.lock` records.
    package static let lock = OutputSources(rawValue: 2)
    package static let all: OutputSources = [.pointers, .lock]
}

extension Workspace {
    /// Every tracked output: the pointer files' (sorted by path), then the outs `pipeline.lock`
    /// records for the stages and outs `pipeline.yaml` declares (in stage order), each with its
    /// `cache` flag from `pipeline.yaml`. An unreadable pointer or lock is an error.
    /// `lenientPipeline` (gc): every out the lock records, declared or not, and when
    /// `pipeline.yaml` cannot be read every one counts as cached (gc then keeps more, never less).
    func outputs(_ sources: OutputSources = .all, lenientPipeline: Bool = false) throws -> [Output] {
        var out: [Output] = []
        if sources.contains(.pointers) { out = try allPointers() }
        guard sources.contains(.lock) else { return out }
        guard try PipelineFile.hasLock(in: self) else { return out }
        let stages = lenientPipeline ? (((try? PipelineFile.load(in: self)) ?? nil)?.stages ?? []) : (try PipelineFile.load(in: self)?.stages ?? [])
        let lock = lenientPipeline ? try loadRecordedLock().lock : try loadLock(stages: stages)
        let uncached = Set(stages.flatMap { $0.outs.filter { !$0.cache }.map(\.path) })
        for stage in lock.stages {
            for o in stage.outs {
                out.append(Output(o, stage: stage.name, cache: !uncached.contains(o.path)))
            }
        }
        return out
    }

    /// The outputs the user's paths name (all when none): for each path, the outputs that are
    /// it or lie inside it, and the pipeline out that holds it (an out is handled whole). A
    /// path inside pointer-tracked data, or that names nothing, is an error. A path that ends in
    /// `.mlv` names its pointer's data.
    func outputs(for arguments: [String], cwd: String = FS.currentDirectory(), _ sources: OutputSources = .all) throws -> [Output] {
        let all = try outputs(sources)
        if arguments.isEmpty { return all }
        var out: [Output] = []
        for arg in arguments {
            var rel = try relativeTarget(arg, cwd: cwd)
            if rel.hasSuffix(PointerFile.suffix), FS.exists(absolute(rel)) { rel = String(rel.dropLast(PointerFile.suffix.count)) }
            let matches = all.filter { o in
                o.path == rel || o.path.hasPrefix(rel + "/") || (!o.isPointer && rel.hasPrefix(o.path + "/"))
            }
            if matches.isEmpty {
                if let parent = all.first(where: { $0.isPointer && rel.hasPrefix($0.path + "/") }) {
                    throw WorkspaceError.trackedByParent(path: arg, pointer: parent.path)
                }
                throw WorkspaceError.notTracked(path: arg)
            }
            for m in matches where !out.contains(m) { out.append(m) }
        }
        return out
    }

    /// True when a recorded content's objects are all in the cache (a folder: its manifest
    /// and every object it lists; remembered once seen).
    func isCached(_ hash: ContentHash) throws -> Bool {
        hash.isDirectory ? try objectsPresent(hash, manifest: nil) : cache.contains(hash)
    }

    /// True when a `.dir` object and every object it lists are in the cache (remembered once seen).
    func objectsPresent(_ hash: ContentHash, manifest: DirectoryManifest?) throws -> Bool {
        guard cache.contains(hash) else { return false }
        if state.isComplete(hash.description) { return true }
        if let m = manifest {
            guard m.entries.allSatisfy({ cache.contains(ContentHash($0.digest)) }) else { return false }
        } else {
            guard let reader = try cache.manifestReader(hash) else { return false }
            while try reader.next() {
                if !cache.contains(ContentHash(reader.digest)) { return false }
            }
        }
        state.markComplete(hash.description)
        return true
    }
}
