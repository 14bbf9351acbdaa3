/// Checks for paths that come from files (pointers, manifests, pipeline files) and must stay
/// inside the workspace.
public enum WorkspacePath {
    /// A non-empty relative path with no empty, "." or ".." components and no NUL byte.
    public static func isSafeRelative(_ path: String) -> Bool {
        if path.isEmpty || path.hasPrefix("/") || path.utf8.contains(0) { return false }
        for part in path.split(separator: "/", omittingEmptySubsequences: false) {
            if part.isEmpty || part == "." || part == ".." { return false }
        }
        return true
    }
}
