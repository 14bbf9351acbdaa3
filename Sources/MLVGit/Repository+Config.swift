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
}
