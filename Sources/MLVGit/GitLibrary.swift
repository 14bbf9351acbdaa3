import CGit2

/// libgit2 is initialised once per process, before the first call.
public enum GitLibrary {
    private static let initialized: Bool = {
        git_libgit2_init()
        return true
    }()

    public static func ensureInitialized() { _ = initialized }

    /// e.g. "1.5.1".
    public static var version: String {
        var major: Int32 = 0, minor: Int32 = 0, rev: Int32 = 0
        git_libgit2_version(&major, &minor, &rev)
        return "\(major).\(minor).\(rev)"
    }
}
