internal import CGit2
import MLVSupport

extension GitRepository {
    /// Clones `url` (anything libgit2 fetches from: a path, `file://`, `https://`, `ssh://`) into
    /// `directory`, writing no file of the working tree: the repository is only read, at commits.
    package static func clone(_ url: String, into directory: String) throws -> GitRepository {
        GitLibrary.ensureInitialized()
        var options = git_clone_options()
        try check("git_clone_options_init", git_clone_options_init(&options, 1))
        options.checkout_opts.checkout_strategy = GIT_CHECKOUT_NONE.rawValue
        var out: OpaquePointer?
        git_error_clear()
        let code = git_clone(&out, url, directory, &options)
        if code < 0 {
            let why = git_error_last()?.pointee.message.map { String(cString: $0) } ?? "error \(code)"
            throw GitError("cannot read the git repository at '\(url)': \(why)",
                           hint: "give a local path or a URL git can clone (file://, https://, ssh://)", call: "git_clone")
        }
        guard let out else { throw GitError("git_clone returned no repository", call: "git_clone") }
        git_repository_free(out)
        return try open(directory)
    }

    /// One entry of a tree at a commit.
    package struct TreeEntry: Sendable, Equatable {
        /// Relative to the folder listed.
        package var path: String
        package var isDirectory: Bool
        package var isExecutable: Bool
    }

    /// The entries of the folder `path` ("" or ".": the root) in the tree of `revision`, sorted
    /// by path; every file below it with `recursive` (folders then not listed). Nil when the
    /// tree has no folder there. At most `limit` entries (an error past it).
    package func treeEntries(at revision: String, under path: String, recursive: Bool, limit: Int = 10_000_000) throws -> [TreeEntry]? {
        let root = try peel(object(revision), to: GIT_OBJECT_TREE, revision: revision)
        var tree = root
        let folder = Path.normalize(path)
        if folder != "." && !folder.isEmpty {
            var raw: OpaquePointer?
            let code = git_tree_entry_bypath(&raw, root.pointer, folder)
            if isNotFound(code) { return nil }
            try check("git_tree_entry_bypath", code)
            guard let raw else { return nil }
            let entry = Handle(raw, free: git_tree_entry_free)
            guard git_tree_entry_type(entry.pointer) == GIT_OBJECT_TREE else { return nil }
            tree = try Handle.make("git_tree_lookup", free: git_tree_free) { git_tree_lookup(&$0, pointer, git_tree_entry_id(entry.pointer)) }
        }
        var out: [TreeEntry] = []
        func walk(_ tree: Handle, _ prefix: String) throws {
            try withExtendedLifetime(tree) {
                for i in 0..<git_tree_entrycount(tree.pointer) {
                    guard let entry = git_tree_entry_byindex(tree.pointer, i) else { continue }
                    let name = String(cString: git_tree_entry_name(entry))
                    let type = git_tree_entry_type(entry)
                    guard out.count < limit else { throw GitError("more than \(limit) files below '\(path)'", call: "git_tree_walk") }
                    if type == GIT_OBJECT_TREE {
                        if recursive {
                            let sub = try Handle.make("git_tree_lookup", free: git_tree_free) { git_tree_lookup(&$0, pointer, git_tree_entry_id(entry)) }
                            try walk(sub, prefix + name + "/")
                        } else {
                            out.append(TreeEntry(path: prefix + name, isDirectory: true, isExecutable: false))
                        }
                    } else if type == GIT_OBJECT_BLOB {
                        out.append(TreeEntry(path: prefix + name, isDirectory: false, isExecutable: git_tree_entry_filemode(entry) == GIT_FILEMODE_BLOB_EXECUTABLE))
                    }
                }
            }
        }
        try walk(tree, "")
        return out.sorted { $0.path < $1.path }
    }
}
