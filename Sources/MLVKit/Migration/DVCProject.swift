import MLVSupport
import Yams

/// A DVC repository as it lies on disk, read (never written) for `mlv migrate`: its config, its
/// `.dvc` files, its `dvc.yaml`/`dvc.lock` pairs, `.dvcignore` and where its cache is. Every
/// file is read bounded, as untrusted input; paths in them are resolved to the workspace.
struct DVCProject {
    /// One folder's `dvc.yaml`, and its `dvc.lock` when there is one.
    struct Pipeline {
        /// Workspace-relative folder ("." for the root).
        var folder: String
        var text: String
        var lock: DVCLock?
        /// What mlv's parser says of the text, when it refuses it (written to pipeline.yaml anyway).
        var problem: String?
        /// Outs declared `cache: false` (workspace-relative): recorded, but not git-ignored.
        var uncached: Set<String> = []
        /// The stage names the text declares (foreach/matrix expanded); nil when mlv's parser refused it.
        var stageNames: Set<String>?
        var file: String { folder == "." ? "dvc.yaml" : folder + "/dvc.yaml" }
        var lockFile: String { folder == "." ? "dvc.lock" : folder + "/dvc.lock" }
    }

    let root: String
    var dvcDir: String { Path.join(root, ".dvc") }
    var config = DVCConfig()
    var localConfig = DVCConfig()
    var pointers: [DVCPointer] = []
    var pipelines: [Pipeline] = []
    /// `.dvcignore` at the root (DVC reads only that one), as text.
    var ignoreText: String?
    /// The absolute DVC cache folder (`cache.dir`, else `.dvc/cache`).
    var cacheDir: String { config.merged(with: localConfig).value("cache", "dir").map { Path.normalize(Path.absolute($0, relativeTo: dvcDir)) } ?? Path.join(dvcDir, "cache") }

    /// The nearest folder from `cwd` up holding a `.dvc` folder (DVC's own rule).
    static func findRoot(from cwd: String) -> String? { FS.nearestAncestor(of: cwd, holding: ".dvc") }

    static func load(root: String) throws -> DVCProject {
        var project = DVCProject(root: root)
        func text(_ rel: String, what: String) throws -> String? {
            let abs = Path.join(root, rel)
            guard (try FS.status(abs)) != nil else { return nil }
            return try UntrustedFile.readText(abs, shownAs: rel, what: what)
        }
        if let t = try text(".dvc/config", what: "DVC's config") { project.config = try DVCConfig.parse(t, file: ".dvc/config") }
        if let t = try text(".dvc/config.local", what: "DVC's config") { project.localConfig = try DVCConfig.parse(t, file: ".dvc/config.local") }
        project.ignoreText = try text(".dvcignore", what: "a .dvcignore file")
        var pointerFiles: [String] = [], pipelineFolders: [String] = []
        try walk(root: root, ".") { rel, name in
            if name == "dvc.yaml" { pipelineFolders.append(Path.parent(rel)) } else if name.hasSuffix(DVCPointer.suffix) && name.count > 4 { pointerFiles.append(rel) }
        }
        for file in pointerFiles {
            project.pointers.append(try DVCPointer.parse(try text(file, what: "a .dvc file")!, file: file))
        }
        for folder in pipelineFolders {
            project.pipelines.append(try loadPipeline(folder, root: root, read: text))
        }
        return project
    }

    /// Every regular file below `dir` (workspace-relative), skipping the folders mlv's pointer
    /// search skips (hidden ones, `node_modules`, `__pycache__`) and symbolic links.
    static func walk(root: String, _ dir: String, _ visit: (_ rel: String, _ name: String) throws -> Void) throws {
        for e in try FS.list(Path.join(root, dir)).sorted(by: { $0.name < $1.name }) {
            let rel = dir == "." ? e.name : dir + "/" + e.name
            switch e.kind {
            case .directory?:
                if e.name.hasPrefix(".") || Workspace.skippedFolders.contains(e.name) { continue }
                try walk(root: root, rel, visit)
            case .file?: try visit(rel, e.name)
            default: continue
            }
        }
    }

    /// Every regular file below `abs`/`dir` (relative to `abs`), hidden ones included, as DVC
    /// lists a folder it tracks; symbolic links are not followed.
    static func walkAll(_ abs: String, _ dir: String, _ visit: (String) throws -> Void) throws {
        for e in try FS.list(Path.join(abs, dir)) {
            let rel = dir == "." ? e.name : dir + "/" + e.name
            switch e.kind {
            case .directory?: try walkAll(abs, rel, visit)
            case .file?: try visit(rel)
            default: continue
            }
        }
    }

    static func loadPipeline(_ folder: String, root: String, read: (String, String) throws -> String?) throws -> Pipeline {
        let file = folder == "." ? "dvc.yaml" : folder + "/dvc.yaml"
        let text = try read(file, "dvc.yaml")!
        var pipeline = Pipeline(folder: folder, text: text)
        // mlv's parser, reading the text as the pipeline.yaml it becomes, checks it and expands
        // foreach/matrix stages, whose names and (workspace-relative) `wdir`s the lock needs.
        var wdirs: [String: String] = [:]
        let yamlFile = folder == "." ? PipelineFile.fileName : folder + "/" + PipelineFile.fileName
        do {
            let stages = try PipelineFile.parse(text, root: root, file: yamlFile).stages
            pipeline.stageNames = Set(stages.map(\.shortName))
            for s in stages {
                wdirs[s.shortName] = s.wdir
                for o in s.outs where !o.cache { pipeline.uncached.insert(o.path) }
            }
        } catch let e as UserFacingError {
            pipeline.problem = e.message
            for (name, wdir) in (try? rawWdirs(text, file: file)) ?? [:] { wdirs[name] = Path.normalize(Path.join(folder, wdir)) }
        }
        if let lockText = try read(pipeline.lockFile, "dvc.lock") {
            pipeline.lock = try DVCLock.parse(lockText, file: pipeline.lockFile) { name in
                wdirs[name] ?? wdirs[String(name.split(separator: "@").first ?? "")] ?? folder
            }
        }
        return pipeline
    }

    /// Stage name → `wdir` as written (for a dvc.yaml mlv's parser refused).
    static func rawWdirs(_ text: String, file: String) throws -> [String: String] {
        guard let doc = try YAMLNode.parse(text, file: file),
              let stages = try doc.mapping("dvc.yaml").first(where: { $0.key == "stages" })?.value else { return [:] }
        var out: [String: String] = [:]
        for (name, _, body) in try stages.mapping("'stages'") {
            let fields = try body.mapping("a stage")
            let inner = try fields.first { $0.key == "do" }?.value.mapping("'do'") ?? fields
            if let w = inner.first(where: { $0.key == "wdir" })?.value { out[name] = try w.string("'wdir'") }
        }
        return out
    }
}
