internal import CGit2
import MLVSupport
#if canImport(Glibc)
import Glibc
#endif

extension GitRepository {
    /// Stages `paths` (relative to the working tree, or absolute inside it), like `git add -A -- paths`:
    /// an existing file is added (even when ignored), a missing one is removed from the index, and a
    /// directory is staged recursively (its ignored files left out). The index is written once.
    package func stage(_ paths: [String]) throws {
        let index = try self.index()
        for path in paths {
            let relative = try relativePath(path).trimmingTrailingSlashes
            let status = try FS.status(Path.join(workdir, relative))
            switch status?.kind {
            case .directory?:
                try withStrings([relative]) { pathspec in
                    try check("git_index_add_all", git_index_add_all(index.pointer, pathspec, 0, nil, nil))
                    try check("git_index_update_all", git_index_update_all(index.pointer, pathspec, nil, nil))
                }
            case nil:
                try check("git_index_remove_bypath", git_index_remove_bypath(index.pointer, relative))
                try check("git_index_remove_directory", git_index_remove_directory(index.pointer, relative, 0))
            default:
                try check("git_index_add_bypath", git_index_add_bypath(index.pointer, relative))
            }
        }
        try check("git_index_write", git_index_write(index.pointer))
    }

    /// The first path git tracks at `path` or below it (a file, or any file in a folder), if any.
    package func trackedPath(at path: String) throws -> String? {
        let index = try self.index()
        let relative = try relativePath(path).trimmingTrailingSlashes
        if git_index_get_bypath(index.pointer, relative, 0) != nil { return relative }
        var position = 0
        guard git_index_find_prefix(&position, index.pointer, relative + "/") == 0,
              let entry = git_index_get_byindex(index.pointer, position) else { return nil }
        return String(cString: entry.pointee.path)
    }

    /// For each of `paths` (absolute inside the working tree, or relative to it) that git tracks,
    /// in the index or in HEAD's tree, at the path or below it: the path and the first tracked
    /// file found there. The index and HEAD are read once for all paths.
    package func trackedPaths(_ paths: [String]) throws -> [(path: String, tracked: String)] {
        guard !paths.isEmpty else { return [] }
        let index = try self.index()
        let commit = try headCommit()
        let tree = try commit.map { try self.tree(of: $0) }
        var found: [(path: String, tracked: String)] = []
        for path in paths {
            let relative = try relativePath(path).trimmingTrailingSlashes
            if git_index_get_bypath(index.pointer, relative, 0) != nil { found.append((path, relative)); continue }
            var position = 0
            if git_index_find_prefix(&position, index.pointer, relative + "/") == 0,
               let entry = git_index_get_byindex(index.pointer, position) {
                found.append((path, String(cString: entry.pointee.path)))
                continue
            }
            guard let tree else { continue }
            var entry: OpaquePointer?
            if git_tree_entry_bypath(&entry, tree.pointer, relative) == 0 {
                git_tree_entry_free(entry)
                found.append((path, relative))
            }
        }
        return withExtendedLifetime((index, commit, tree)) { found }
    }

    /// True when the index differs from HEAD's tree (on an unborn HEAD: when the index has entries).
    package func hasStagedChanges() throws -> Bool {
        let index = try self.index()
        let tree = try headCommit().map { try self.tree(of: $0) }
        var options = git_diff_options()
        try check("git_diff_options_init", git_diff_options_init(&options, UInt32(GIT_DIFF_OPTIONS_VERSION)))
        let diff = try Handle.make("git_diff_tree_to_index", free: git_diff_free) {
            git_diff_tree_to_index(&$0, pointer, tree?.pointer, index.pointer, &options)
        }
        return withExtendedLifetime((tree, index)) { git_diff_num_deltas(diff.pointer) > 0 }
    }

    /// Commits only `paths` (files, relative to the working tree or absolute inside it) as they
    /// are staged in the index, on top of HEAD's tree: whatever else the user staged stays staged
    /// and out of this commit, like `git commit -- paths` but without touching the working tree.
    @discardableResult
    package func commit(message: String, only paths: [String]) throws -> String {
        let index = try self.index()
        let partial = try Handle.make("git_index_new", free: git_index_free) { git_index_new(&$0) }
        if let head = try headCommit() {
            let tree = try self.tree(of: head)
            try check("git_index_read_tree", git_index_read_tree(partial.pointer, tree.pointer))
        }
        for path in paths {
            let relative = try relativePath(path).trimmingTrailingSlashes
            if let entry = git_index_get_bypath(index.pointer, relative, 0) {
                try check("git_index_add", git_index_add(partial.pointer, entry))
            } else if git_index_get_bypath(partial.pointer, relative, 0) != nil {
                try check("git_index_remove_bypath", git_index_remove_bypath(partial.pointer, relative))
            }
        }
        var treeId = git_oid()
        try check("git_index_write_tree_to", git_index_write_tree_to(&treeId, partial.pointer, pointer))
        return try commit(message: message, tree: treeId)
    }

    /// Commits the index exactly as it is, as the user's identity (author and committer), and
    /// moves the branch HEAD points to (creating it on an unborn HEAD). Returns the new commit id.
    @discardableResult
    package func commit(message: String) throws -> String {
        let index = try self.index()
        var treeId = git_oid()
        try check("git_index_write_tree", git_index_write_tree(&treeId, index.pointer))
        return try commit(message: message, tree: treeId)
    }

    private func commit(message: String, tree treeId: git_oid) throws -> String {
        var treeId = treeId
        let (name, email) = try identity()
        let text = try withGitBuffer("git_message_prettify") {
            git_message_prettify($0, message, 0, CChar(UInt8(ascii: "#")))
        }
        guard !text.isEmpty else { throw GitError("cannot commit with an empty message") }

        let signature = try GitHandle<UnsafeMutablePointer<git_signature>>.make(
            "git_signature_now", free: git_signature_free
        ) { git_signature_now(&$0, name, email) }
        let tree = try Handle.make("git_tree_lookup", free: git_tree_free) {
            git_tree_lookup(&$0, pointer, &treeId)
        }
        let parent = try headCommit()
        var parents: [OpaquePointer?] = parent.map { [$0.pointer] } ?? []

        var commitId = git_oid()
        try withExtendedLifetime(parent) {
            _ = try check("git_commit_create", git_commit_create(
                &commitId, pointer, "HEAD", signature.pointer, signature.pointer,
                nil, text, tree.pointer, parents.count, &parents))
        }
        return hex(commitId)
    }

    /// The repository's index, re-read from disk when another process changed it.
    func index() throws -> Handle {
        let index = try Handle.make("git_repository_index", free: git_index_free) {
            git_repository_index(&$0, pointer)
        }
        try check("git_index_read", git_index_read(index.pointer, 0))
        return index
    }

    /// The commit HEAD points to; nil on an unborn HEAD (a repository without commits).
    func headCommit() throws -> Handle? {
        var id = git_oid()
        let code = git_reference_name_to_id(&id, pointer, "HEAD")
        if isNotFound(code) || code == GIT_EUNBORNBRANCH.rawValue { return nil }
        try check("git_reference_name_to_id", code)
        return try Handle.make("git_commit_lookup", free: git_commit_free) {
            git_commit_lookup(&$0, pointer, &id)
        }
    }

    /// The root tree of a commit.
    func tree(of commit: Handle) throws -> Handle {
        try Handle.make("git_commit_tree", free: git_tree_free) { git_commit_tree(&$0, commit.pointer) }
    }
}

/// Runs `body` with `strings` as a `git_strarray` whose C strings live for the call.
func withStrings<R>(_ strings: [String], _ body: (UnsafeMutablePointer<git_strarray>) throws -> R) rethrows -> R {
    var pointers = strings.map { strdup($0) }
    defer { pointers.forEach { free($0) } }
    return try pointers.withUnsafeMutableBufferPointer { buffer in
        var array = git_strarray(strings: buffer.baseAddress, count: buffer.count)
        return try body(&array)
    }
}

extension String {
    var trimmingTrailingSlashes: String {
        var s = self
        while s.count > 1 && s.hasSuffix("/") { s.removeLast() }
        return s
    }
}
