internal import CGit2
import MLVSupport

/// A git repository with a working tree, opened through libgit2.
///
/// The class owns the `git_repository` handle and frees it in `deinit`; everything libgit2 hands
/// out (trees, blobs, the index, config snapshots) is wrapped in a `GitHandle` for the length of one
/// call. Instances are not meant to be shared between threads.
package final class GitRepository {
    let handle: Handle
    /// Absolute path of the working tree, without a trailing slash.
    package let workdir: String

    /// The raw `git_repository *`, valid while `self` is alive.
    var pointer: OpaquePointer { handle.pointer }

    private init(_ handle: Handle) throws {
        guard let dir = git_repository_workdir(handle.pointer) else {
            let path = git_repository_path(handle.pointer).map { String(cString: $0) } ?? "?"
            throw GitError("'\(Self.trimmed(path))' is a bare repository; mlv needs a working tree")
        }
        self.handle = handle
        self.workdir = Self.trimmed(String(cString: dir))
    }

    /// Discovers the repository containing `path`, walking up like `git rev-parse` does (without
    /// crossing file systems); nil when there is none.
    package static func discover(from path: String) throws -> GitRepository? {
        GitLibrary.ensureInitialized()
        var buf = git_buf()
        defer { git_buf_dispose(&buf) }
        let code = git_repository_discover(&buf, Path.absolute(path), 0, nil)
        if isNotFound(code) { return nil }
        try check("git_repository_discover", code)
        return try open(String(cString: buf.ptr))
    }

    /// Opens the repository whose `.git` directory (or working tree) is exactly `path`.
    package static func open(_ path: String) throws -> GitRepository {
        GitLibrary.ensureInitialized()
        var out: OpaquePointer?
        git_error_clear()
        let code = git_repository_open(&out, path)
        // libgit2 1.5.1 reports a failed ownership check as GIT_ENOTFOUND with the stale message
        // "config value 'safe.directory' was not found" rather than GIT_EOWNER; accept both.
        let lastMessage = git_error_last()?.pointee.message.map { String(cString: $0) } ?? ""
        if code == GIT_EOWNER.rawValue || (code < 0 && lastMessage.contains("safe.directory")) {
            var shown = trimmed(path)
            if shown.hasSuffix("/.git") { shown.removeLast(5) }
            throw GitError(
                "the repository at '\(shown)' is owned by another user",
                hint: "if you trust it, run: git config --global --add safe.directory '\(shown)'",
                call: "git_repository_open")
        }
        try check("git_repository_open", code)
        guard let out else { throw GitError("git_repository_open returned no repository", call: "git_repository_open") }
        return try GitRepository(Handle(out, free: git_repository_free))
    }

    /// `git init` at `path` (created when missing); the first branch follows `init.defaultBranch`.
    package static func initialize(at path: String) throws -> GitRepository {
        GitLibrary.ensureInitialized()
        return try GitRepository(Handle.make("git_repository_init", free: git_repository_free) {
            git_repository_init(&$0, Path.absolute(path), 0)
        })
    }

    /// `user.name` and `user.email` from the repository's config chain (local, then the global
    /// `~/.gitconfig`, XDG `~/.config/git/config` and system `/etc/gitconfig`, as libgit2 finds them).
    /// Unlike the git command line, there is no fallback to the login name and host name.
    package func identity() throws -> (name: String, email: String) {
        let config = try Handle.make("git_repository_config_snapshot", free: git_config_free) {
            git_repository_config_snapshot(&$0, pointer)
        }
        let name = try Self.string(config, "user.name")
        let email = try Self.string(config, "user.email")
        if let name, let email { return (name, email) }

        var missing: [String] = []
        var commands: [String] = []
        if name == nil {
            missing.append("user.name")
            commands.append("  git config --global user.name \"Your Name\"")
        }
        if email == nil {
            missing.append("user.email")
            commands.append("  git config --global user.email \"you@example.com\"")
        }
        let verb = missing.count == 1 ? "is" : "are"
        throw GitError(
            "git identity is not configured: \(missing.joined(separator: " and ")) \(verb) not set",
            hint: "mlv commits as your git identity; set it with\n" + commands.joined(separator: "\n")
                + "\n(or without --global, in this repository only)")
    }

    /// True when git ignores `path` (relative to the working tree, or absolute inside it);
    /// a trailing "/" asks about a directory.
    package func isIgnored(_ path: String) throws -> Bool {
        let relative = try relativePath(path)
        var ignored: Int32 = 0
        try check("git_ignore_path_is_ignored", git_ignore_path_is_ignored(&ignored, pointer, relative))
        return ignored != 0
    }

    /// `path` relative to the working tree, normalized; throws when it points outside.
    func relativePath(_ path: String) throws -> String {
        let absolute = Path.absolute(path, relativeTo: workdir)
        guard let relative = Path.relative(absolute, to: workdir), relative != "." else {
            throw GitError("'\(path)' is outside the repository at '\(workdir)'")
        }
        return path.hasSuffix("/") ? relative + "/" : relative
    }

    /// A config string, nil when unset or empty (git refuses empty identities too).
    private static func string(_ config: Handle, _ key: String) throws -> String? {
        var value: UnsafePointer<CChar>?
        let code = git_config_get_string(&value, config.pointer, key)
        if isNotFound(code) { return nil }
        try check("git_config_get_string", code)
        let text = withExtendedLifetime(config) { value.map { String(cString: $0) } }
        guard let text, !text.isEmpty else { return nil }
        return text
    }

    private static func trimmed(_ path: String) -> String {
        path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path
    }
}
