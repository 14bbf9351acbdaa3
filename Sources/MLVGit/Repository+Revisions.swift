internal import CGit2
import MLVSupport

extension GitRepository {
    /// The full id of the commit `revision` names: anything `git rev-parse` accepts
    /// (`HEAD`, `HEAD~1`, a branch, a tag, a short or full id).
    package func resolve(_ revision: String) throws -> String {
        let commit = try peel(object(revision), to: GIT_OBJECT_COMMIT, revision: revision)
        return withExtendedLifetime(commit) { hex(git_object_id(commit.pointer).pointee) }
    }

    /// The bytes of `path` (relative to the repository root) in the tree of `revision`;
    /// nil when that tree has no file at `path` (or has a directory there).
    package func readFile(_ path: String, at revision: String) throws -> [UInt8]? {
        let tree = try peel(object(revision), to: GIT_OBJECT_TREE, revision: revision)
        var raw: OpaquePointer?
        let code = git_tree_entry_bypath(&raw, tree.pointer, Path.normalize(path))
        if isNotFound(code) { return nil }
        try check("git_tree_entry_bypath", code)
        guard let raw else { return nil }
        let entry = Handle(raw, free: git_tree_entry_free)
        guard git_tree_entry_type(entry.pointer) == GIT_OBJECT_BLOB else { return nil }

        let blob = try Handle.make("git_blob_lookup", free: git_blob_free) {
            git_blob_lookup(&$0, pointer, git_tree_entry_id(entry.pointer))
        }
        return withExtendedLifetime(blob) {
            let size = Int(git_blob_rawsize(blob.pointer))
            guard size > 0, let bytes = git_blob_rawcontent(blob.pointer) else { return [] }
            return Array(UnsafeRawBufferPointer(start: bytes, count: size))
        }
    }

    /// Every file in the tree of `revision` whose name ends with `suffix` (".mlv", or a whole
    /// name such as "pipeline.lock"), as paths relative to the repository root, sorted.
    /// Submodules are not entered.
    package func listFiles(at revision: String, suffix: String) throws -> [String] {
        let tree = try peel(object(revision), to: GIT_OBJECT_TREE, revision: revision)
        var files: [String] = []
        try collectFiles(in: tree, prefix: "", suffix: suffix, into: &files)
        return files.sorted()
    }

    /// The ids of every commit reachable from a branch, a tag or HEAD (HEAD matters when it is
    /// detached), newest first; empty in a repository without commits.
    package func allCommits() throws -> [String] {
        let walk = try Handle.make("git_revwalk_new", free: git_revwalk_free) { git_revwalk_new(&$0, pointer) }
        try check("git_revwalk_sorting",
                  git_revwalk_sorting(walk.pointer, GIT_SORT_TOPOLOGICAL.rawValue | GIT_SORT_TIME.rawValue))
        // Refs that do not point to a commit (a tag of a blob) are skipped by libgit2.
        try check("git_revwalk_push_glob", git_revwalk_push_glob(walk.pointer, "refs/heads/*"))
        try check("git_revwalk_push_glob", git_revwalk_push_glob(walk.pointer, "refs/tags/*"))
        // On an unborn HEAD, git_revwalk_push_head fails with a generic -1 ("reference not found").
        if try check("git_repository_head_unborn", git_repository_head_unborn(pointer)) == 0 {
            try check("git_revwalk_push_head", git_revwalk_push_head(walk.pointer))
        }

        var ids: [String] = []
        var id = git_oid()
        while true {
            let code = git_revwalk_next(&id, walk.pointer)
            if code == GIT_ITEROVER.rawValue { break }
            try check("git_revwalk_next", code)
            ids.append(hex(id))
        }
        return ids
    }

    /// The commits the references matching `glob` point to (`refs/heads/*`: every branch tip,
    /// `refs/tags/*`: every tagged commit), each once, sorted; references to other objects
    /// (a tag of a blob) are skipped.
    package func tipCommits(matching glob: String) throws -> [String] {
        let iterator = try Handle.make("git_reference_iterator_glob_new", free: git_reference_iterator_free) {
            git_reference_iterator_glob_new(&$0, pointer, glob)
        }
        var ids = Set<String>()
        while true {
            var ref: OpaquePointer?
            let code = git_reference_next(&ref, iterator.pointer)
            if code == GIT_ITEROVER.rawValue { break }
            try check("git_reference_next", code)
            defer { git_reference_free(ref) }
            var object: OpaquePointer?
            guard git_reference_peel(&object, ref, GIT_OBJECT_COMMIT) == 0, let object else { continue }
            ids.insert(hex(git_object_id(object).pointee))
            git_object_free(object)
        }
        return ids.sorted()
    }

    /// The object `revision` names; unknown and malformed revisions become "unknown revision 'x'".
    func object(_ revision: String) throws -> Handle {
        var out: OpaquePointer?
        let code = git_revparse_single(&out, pointer, revision)
        if isNotFound(code) || code == GIT_EINVALIDSPEC.rawValue || code == GIT_EUNBORNBRANCH.rawValue {
            let unborn = git_repository_head_unborn(pointer) == 1
            throw GitError.unknownRevision(revision, hint: unborn ? "the repository has no commits yet" : nil)
        }
        if code == GIT_EAMBIGUOUS.rawValue {
            throw GitError("ambiguous revision '\(revision)'", hint: "give more characters of the commit id")
        }
        try check("git_revparse_single", code)
        guard let out else { throw GitError.unknownRevision(revision) }
        return Handle(out, free: git_object_free)
    }

    /// `object` peeled to a commit or a tree (through tags and commits).
    func peel(_ object: Handle, to type: git_object_t, revision: String) throws -> Handle {
        var out: OpaquePointer?
        let code = git_object_peel(&out, object.pointer, type)
        if code == GIT_EINVALIDSPEC.rawValue || code == GIT_EPEEL.rawValue || isNotFound(code) {
            let kind = type == GIT_OBJECT_COMMIT ? "a commit" : "a commit or a tree"
            throw GitError("revision '\(revision)' is not \(kind)")
        }
        try check("git_object_peel", code)
        guard let out else { throw GitError.unknownRevision(revision) }
        return Handle(out, free: git_object_free)
    }

    private func collectFiles(in tree: Handle, prefix: String, suffix: String, into files: inout [String]) throws {
        try withExtendedLifetime(tree) {
            for i in 0..<git_tree_entrycount(tree.pointer) {
                guard let entry = git_tree_entry_byindex(tree.pointer, i) else { continue }
                let name = String(cString: git_tree_entry_name(entry))
                let type = git_tree_entry_type(entry)
                if type == GIT_OBJECT_TREE {
                    let subtree = try Handle.make("git_tree_lookup", free: git_tree_free) {
                        git_tree_lookup(&$0, pointer, git_tree_entry_id(entry))
                    }
                    try collectFiles(in: subtree, prefix: prefix + name + "/", suffix: suffix, into: &files)
                } else if type == GIT_OBJECT_BLOB && name.hasSuffix(suffix) {
                    files.append(prefix + name)
                }
            }
        }
    }
}
