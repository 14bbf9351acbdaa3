internal import CGit2
import MLVSupport

extension GitRepository {
    /// What `git status` lists: paths changed in the index or the working tree, and untracked
    /// paths git does not ignore (an untracked folder once), at most `limit` of them, relative
    /// to the working tree. Submodules are left out. The index is read, never written.
    package func uncommittedPaths(limit: Int = 20) throws -> [String] {
        var options = git_status_options()
        try check("git_status_options_init", git_status_options_init(&options, UInt32(GIT_STATUS_OPTIONS_VERSION)))
        options.show = GIT_STATUS_SHOW_INDEX_AND_WORKDIR
        options.flags = GIT_STATUS_OPT_INCLUDE_UNTRACKED.rawValue | GIT_STATUS_OPT_EXCLUDE_SUBMODULES.rawValue
        var list: OpaquePointer?
        try check("git_status_list_new", git_status_list_new(&list, pointer, &options))
        defer { git_status_list_free(list) }
        var paths: [String] = []
        for i in 0..<git_status_list_entrycount(list) where paths.count < limit {
            guard let entry = git_status_byindex(list, i)?.pointee else { continue }
            let delta = entry.index_to_workdir ?? entry.head_to_index
            if let path = delta?.pointee.new_file.path ?? delta?.pointee.old_file.path { paths.append(String(cString: path)) }
        }
        return paths
    }
}
