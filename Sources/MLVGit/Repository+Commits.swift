internal import CGit2
import MLVSupport
#if canImport(Glibc)
import Glibc
#endif

/// Commits and references made without touching the working tree, the index or HEAD: what
/// experiments are recorded as (`refs/exps/…`), and how they travel between repositories.
extension GitRepository {
    /// One file of a tree to write: its bytes, or nil to remove it.
    package struct FileChange: Sendable {
        package var path: String
        package var bytes: [UInt8]?
        package var executable: Bool
        package init(path: String, bytes: [UInt8]?, executable: Bool = false) {
            self.path = path
            self.bytes = bytes
            self.executable = executable
        }
    }

    /// The paths the index tracks, with whether each is executable (symlinks and submodules left out).
    package func trackedFiles() throws -> [(path: String, executable: Bool)] {
        let index = try self.index()
        var out: [(String, Bool)] = []
        for i in 0..<git_index_entrycount(index.pointer) {
            guard let e = git_index_get_byindex(index.pointer, i) else { continue }
            let mode = e.pointee.mode
            guard mode == GIT_FILEMODE_BLOB.rawValue || mode == GIT_FILEMODE_BLOB_EXECUTABLE.rawValue else { continue }
            out.append((String(cString: e.pointee.path), mode == GIT_FILEMODE_BLOB_EXECUTABLE.rawValue))
        }
        return out
    }

    /// The id of the tree of `revision` (a commit or a tree), nil for an empty base.
    package func treeID(_ revision: String) throws -> String {
        let tree = try peel(object(revision), to: GIT_OBJECT_TREE, revision: revision)
        return hex(git_object_id(tree.pointer).pointee)
    }

    /// A new tree: `base`'s (a revision; nil: empty) with `changes` applied. Returns its id.
    package func tree(from base: String?, changing changes: [FileChange]) throws -> String {
        let index = try Handle.make("git_index_new", free: git_index_free) { git_index_new(&$0) }
        if let base {
            let tree = try peel(object(base), to: GIT_OBJECT_TREE, revision: base)
            try withExtendedLifetime(tree) { _ = try check("git_index_read_tree", git_index_read_tree(index.pointer, tree.pointer)) }
        }
        for c in changes {
            if let bytes = c.bytes {
                // An in-memory index has no repository: the blob is written first, then named.
                var blob = git_oid()
                _ = try bytes.withUnsafeBytes { buf in
                    try check("git_blob_create_from_buffer", git_blob_create_from_buffer(&blob, pointer, buf.baseAddress, buf.count))
                }
                var entry = git_index_entry()
                entry.mode = c.executable ? GIT_FILEMODE_BLOB_EXECUTABLE.rawValue : GIT_FILEMODE_BLOB.rawValue
                entry.id = blob
                entry.file_size = UInt32(truncatingIfNeeded: bytes.count)
                try c.path.withCString { path in
                    entry.path = path
                    _ = try check("git_index_add", git_index_add(index.pointer, &entry))
                }
            } else if git_index_get_bypath(index.pointer, c.path, 0) != nil {
                _ = try check("git_index_remove_bypath", git_index_remove_bypath(index.pointer, c.path))
            }
        }
        var id = git_oid()
        _ = try check("git_index_write_tree_to", git_index_write_tree_to(&id, index.pointer, pointer))
        return hex(id)
    }

    /// A commit of `tree` with `parents`, as your git identity; no reference moves.
    package func createCommit(tree: String, parents: [String], message: String) throws -> String {
        let (name, email) = try identity()
        let signature = try GitHandle<UnsafeMutablePointer<git_signature>>.make("git_signature_now", free: git_signature_free) {
            git_signature_now(&$0, name, email)
        }
        var treeOID = try oid(tree)
        let treeHandle = try Handle.make("git_tree_lookup", free: git_tree_free) { git_tree_lookup(&$0, pointer, &treeOID) }
        let parentHandles = try parents.map { p in
            var id = try oid(p)
            return try Handle.make("git_commit_lookup", free: git_commit_free) { git_commit_lookup(&$0, pointer, &id) }
        }
        var raw: [OpaquePointer?] = parentHandles.map(\.pointer)
        var id = git_oid()
        try withExtendedLifetime((treeHandle, parentHandles, signature)) {
            _ = try check("git_commit_create", git_commit_create(&id, pointer, nil, signature.pointer, signature.pointer,
                                                                 nil, message, treeHandle.pointer, raw.count, &raw))
        }
        return hex(id)
    }

    /// A commit's time (seconds since 1970), message and parents.
    package func commitInfo(_ commit: String) throws -> (time: Int64, message: String, parents: [String]) {
        var id = try oid(commit)
        let c = try Handle.make("git_commit_lookup", free: git_commit_free) { git_commit_lookup(&$0, pointer, &id) }
        return withExtendedLifetime(c) {
            let parents = (0..<git_commit_parentcount(c.pointer)).compactMap { git_commit_parent_id(c.pointer, $0).map { hex($0.pointee) } }
            return (Int64(git_commit_time(c.pointer)), git_commit_message(c.pointer).map { String(cString: $0) } ?? "", parents)
        }
    }

    /// The references matching `glob` (fnmatch over the full name) and the commits they point to.
    package func references(matching glob: String) throws -> [(name: String, commit: String)] {
        let iterator = try Handle.make("git_reference_iterator_glob_new", free: git_reference_iterator_free) {
            git_reference_iterator_glob_new(&$0, pointer, glob)
        }
        var out: [(String, String)] = []
        while true {
            var ref: OpaquePointer?
            let code = git_reference_next(&ref, iterator.pointer)
            if code == GIT_ITEROVER.rawValue { break }
            _ = try check("git_reference_next", code)
            guard let ref else { continue }
            defer { git_reference_free(ref) }
            var object: OpaquePointer?
            guard git_reference_peel(&object, ref, GIT_OBJECT_COMMIT) == 0, let object else { continue }
            out.append((String(cString: git_reference_name(ref)), hex(git_object_id(object).pointee)))
            git_object_free(object)
        }
        return out.sorted { $0.0 < $1.0 }
    }

    /// Points reference `name` at `commit`; an existing one is an error unless `force`.
    package func setReference(_ name: String, to commit: String, force: Bool, log: String) throws {
        var id = try oid(commit)
        var ref: OpaquePointer?
        let code = git_reference_create(&ref, pointer, name, &id, force ? 1 : 0, log)
        if code == GIT_EEXISTS.rawValue { throw GitError("'\(name)' already exists") }
        _ = try check("git_reference_create", code)
        git_reference_free(ref)
    }

    /// Deletes reference `name` (a missing one is not an error).
    package func deleteReference(_ name: String) throws {
        var ref: OpaquePointer?
        let code = git_reference_lookup(&ref, pointer, name)
        if isNotFound(code) { return }
        _ = try check("git_reference_lookup", code)
        defer { git_reference_free(ref) }
        _ = try check("git_reference_delete", git_reference_delete(ref))
    }

    /// The paths that differ between two revisions' trees (added, changed or removed files).
    package func changedFiles(from a: String, to b: String) throws -> [String] {
        let ta = try peel(object(a), to: GIT_OBJECT_TREE, revision: a)
        let tb = try peel(object(b), to: GIT_OBJECT_TREE, revision: b)
        let diff = try withExtendedLifetime((ta, tb)) {
            try Handle.make("git_diff_tree_to_tree", free: git_diff_free) { git_diff_tree_to_tree(&$0, pointer, ta.pointer, tb.pointer, nil) }
        }
        var out: [String] = []
        for i in 0..<git_diff_num_deltas(diff.pointer) {
            guard let d = git_diff_get_delta(diff.pointer, i) else { continue }
            if let p = d.pointee.new_file.path { out.append(String(cString: p)) }
            if let p = d.pointee.old_file.path, !out.contains(String(cString: p)) { out.append(String(cString: p)) }
        }
        return out.sorted()
    }

    /// Pushes `refspecs` to `remote` (a configured remote's name, a URL or a path).
    package func push(to remote: String, refspecs: [String]) throws {
        let r = try openRemote(remote)
        var options = git_push_options()
        _ = try check("git_push_options_init", git_push_options_init(&options, 1))
        try withStrings(refspecs) { specs in
            _ = try check("git_remote_push", git_remote_push(r.pointer, &specs, &options))
        }
    }

    /// Fetches `refspecs` from `remote` (a configured remote's name, a URL or a path).
    package func fetch(from remote: String, refspecs: [String]) throws {
        let r = try openRemote(remote)
        var options = git_fetch_options()
        _ = try check("git_fetch_options_init", git_fetch_options_init(&options, 1))
        try withStrings(refspecs) { specs in
            _ = try check("git_remote_fetch", git_remote_fetch(r.pointer, &specs, &options, nil))
        }
    }

    private func openRemote(_ remote: String) throws -> Handle {
        var out: OpaquePointer?
        if git_remote_lookup(&out, pointer, remote) == 0, let out { return Handle(out, free: git_remote_free) }
        return try Handle.make("git_remote_create_anonymous", free: git_remote_free) { git_remote_create_anonymous(&$0, pointer, remote) }
    }

    private func withStrings(_ strings: [String], _ body: (inout git_strarray) throws -> Void) throws {
        var cStrings = strings.map { strdup($0) }
        defer { for p in cStrings { free(p) } }
        try cStrings.withUnsafeMutableBufferPointer { buf in
            var array = git_strarray(strings: buf.baseAddress, count: buf.count)
            try body(&array)
        }
    }

    func oid(_ hexID: String) throws -> git_oid {
        var id = git_oid()
        guard git_oid_fromstr(&id, hexID) == 0 else { throw GitError("'\(hexID)' is not an object id") }
        return id
    }
}

extension GitRepository {
    /// Tracked files whose working-tree content differs from HEAD (staged or not), sorted.
    package func changedTrackedFiles() throws -> [String] {
        let index = try self.index()
        let tree = try headCommit().map { try self.tree(of: $0) }
        var options = git_diff_options()
        _ = try check("git_diff_options_init", git_diff_options_init(&options, UInt32(GIT_DIFF_OPTIONS_VERSION)))
        let diff = try Handle.make("git_diff_tree_to_workdir_with_index", free: git_diff_free) {
            git_diff_tree_to_workdir_with_index(&$0, pointer, tree?.pointer, &options)
        }
        var out = Set<String>()
        withExtendedLifetime((tree, index)) {
            for i in 0..<git_diff_num_deltas(diff.pointer) {
                guard let d = git_diff_get_delta(diff.pointer, i), d.pointee.status != GIT_DELTA_UNTRACKED else { continue }
                if let p = d.pointee.new_file.path { out.insert(String(cString: p)) }
            }
        }
        return out.sorted()
    }
}
