/// Checks for paths that come from files (pointers, manifests, pipeline files) and must stay
/// inside the workspace.
public enum WorkspacePath {
    /// A non-empty relative path with no empty, "." or ".." components and no NUL byte.
    public static func isSafeRelative(_ path: String) -> Bool {
        var path = path
        return path.withUTF8 { b in
            if b.isEmpty || b[0] == 47 { return false }
            var start = 0
            for i in 0...b.count {
                if i < b.count && b[i] == 0 { return false }
                guard i == b.count || b[i] == 47 else { continue }
                let length = i - start
                if length == 0 { return false }                                           // "//" or trailing "/"
                if length == 1 && b[start] == 46 { return false }                         // "."
                if length == 2 && b[start] == 46 && b[start + 1] == 46 { return false }   // ".."
                start = i + 1
            }
            return true
        }
    }
}
