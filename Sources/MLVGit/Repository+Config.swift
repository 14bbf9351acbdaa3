internal import CGit2
import MLVSupport

extension GitRepository {
    /// Sets `key` in the repository's own config (`.git/config`), as `git config key value` does.
    package func setLocalConfig(_ key: String, _ value: String) throws {
        let config = try Handle.make("git_repository_config", free: git_config_free) { git_repository_config(&$0, pointer) }
        let local = try Handle.make("git_config_open_level", free: git_config_free) {
            git_config_open_level(&$0, config.pointer, GIT_CONFIG_LEVEL_LOCAL)
        }
        try check("git_config_set_string", git_config_set_string(local.pointer, key, value))
    }

    /// The folder git runs hooks from: `core.hooksPath` (relative to the working tree) when
    /// set, else the repository's `hooks` folder.
    package func hooksDirectory() throws -> String {
        let config = try Handle.make("git_repository_config_snapshot", free: git_config_free) {
            git_repository_config_snapshot(&$0, pointer)
        }
        var value: UnsafePointer<CChar>?
        let code = git_config_get_string(&value, config.pointer, "core.hooksPath")
        if !isNotFound(code) {
            try check("git_config_get_string", code)
            if let set = withExtendedLifetime(config, { value.map { String(cString: $0) } }), !set.isEmpty {
                return Path.absolute(set, relativeTo: workdir)
            }
        }
        let gitDir = String(cString: git_repository_path(pointer))
        return Path.join(gitDir.hasSuffix("/") ? String(gitDir.dropLast()) : gitDir, "hooks")
    }
}
