internal import CGit2

/// libgit2 is initialised once per process, before the first call.
package enum GitLibrary {
    private static let initialized: Bool = {
        git_libgit2_init()
        return true
    }()

    package static func ensureInitialized() { _ = initialized }

    /// e.g. "1.5.1".
    package static var version: String {
        var major: Int32 = 0, minor: Int32 = 0, rev: Int32 = 0
        git_libgit2_version(&major, &minor, &rev)
        return "\(major).\(minor).\(rev)"
    }

    /// A level of git configuration whose directory libgit2 searches.
    package enum ConfigLevel: CaseIterable, Sendable {
        /// `~/.gitconfig`.
        case global
        /// `$XDG_CONFIG_HOME/git/config`, else `~/.config/git/config`.
        case xdg
        /// `/etc/gitconfig` (libgit2 ignores `GIT_CONFIG_NOSYSTEM`).
        case system

        var raw: git_config_level_t {
            switch self {
            case .global: return GIT_CONFIG_LEVEL_GLOBAL
            case .xdg: return GIT_CONFIG_LEVEL_XDG
            case .system: return GIT_CONFIG_LEVEL_SYSTEM
            }
        }
    }

    /// The directories libgit2 searches for `level`'s config file.
    ///
    /// libgit2 reads `HOME` and `XDG_CONFIG_HOME` once, in `git_libgit2_init`; changing the
    /// environment afterwards has no effect, so tests isolate the config chain with
    /// `setConfigSearchPath` instead. The setting is process-wide.
    package static func configSearchPath(_ level: ConfigLevel) throws -> String {
        ensureInitialized()
        return try withGitBuffer("git_libgit2_opts(GIT_OPT_GET_SEARCH_PATH)") {
            cgit2_get_search_path(level.raw, $0)
        }
    }

    /// Points `level` at `directory` (nil restores libgit2's default, from the environment).
    /// Repositories opened afterwards see the change; already opened ones keep their config.
    package static func setConfigSearchPath(_ level: ConfigLevel, to directory: String?) throws {
        ensureInitialized()
        try check("git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH)", cgit2_set_search_path(level.raw, directory))
    }
}
