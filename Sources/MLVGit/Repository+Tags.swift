internal import CGit2
import MLVSupport

extension GitRepository {
    /// An annotated tag: its name, the commit it points to, its message and when it was made.
    package struct Tag: Sendable, Equatable {
        package var name: String
        package var commit: String
        package var message: String
        /// Seconds since 1970 (the tagger's time; 0 for a lightweight tag).
        package var time: Int64
    }

    /// Creates the annotated tag `name` on `commit` with `message`, as your git identity.
    /// An existing tag of that name is an error.
    package func createTag(_ name: String, at commit: String, message: String) throws {
        let (user, email) = try identity()
        let signature = try GitHandle<UnsafeMutablePointer<git_signature>>.make("git_signature_now", free: git_signature_free) {
            git_signature_now(&$0, user, email)
        }
        let target = try object(commit)
        var id = git_oid()
        let code = withExtendedLifetime(target) { git_tag_create(&id, pointer, name, target.pointer, signature.pointer, message, 0) }
        if code == GIT_EEXISTS.rawValue { throw GitError("tag '\(name)' already exists") }
        try check("git_tag_create", code)
    }

    /// The tags matching `glob` (fnmatch over the name, as `git tag -l`), with their commits
    /// and messages: one pass over the references, each peeled once.
    package func tags(matching glob: String) throws -> [Tag] {
        let iterator = try Handle.make("git_reference_iterator_glob_new", free: git_reference_iterator_free) {
            git_reference_iterator_glob_new(&$0, pointer, "refs/tags/" + glob)
        }
        var out: [Tag] = []
        while true {
            var ref: OpaquePointer?
            let code = git_reference_next(&ref, iterator.pointer)
            if code == GIT_ITEROVER.rawValue { break }
            try check("git_reference_next", code)
            guard let ref else { continue }
            defer { git_reference_free(ref) }
            let name = String(String(cString: git_reference_name(ref)).dropFirst("refs/tags/".count))
            var commitObject: OpaquePointer?
            guard git_reference_peel(&commitObject, ref, GIT_OBJECT_COMMIT) == 0, let commitObject else { continue }
            let commit = hex(git_object_id(commitObject).pointee)
            git_object_free(commitObject)
            var message = "", time: Int64 = 0
            var tagObject: OpaquePointer?
            if git_reference_peel(&tagObject, ref, GIT_OBJECT_TAG) == 0, let tagObject {
                message = git_tag_message(tagObject).map { String(cString: $0) } ?? ""
                time = git_tag_tagger(tagObject).map { Int64($0.pointee.when.time) } ?? 0
                git_object_free(tagObject)
            }
            out.append(Tag(name: name, commit: commit, message: message, time: time))
        }
        return out.sorted { $0.name < $1.name }
    }
}
