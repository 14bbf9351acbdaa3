/// Checks for paths that come from files (pointers, manifests, pipeline files, locks, remote
/// listings) and must stay inside the workspace, away from the folders mlv and git manage.
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

    /// A safe relative path (see `isSafeRelative`) none of whose components is a protected name
    /// (see `protectedComponent`): the rule for every output path another person wrote.
    public static func isSafeOutput(_ path: String) -> Bool {
        isSafeRelative(path) && protectedComponent(in: path) == nil
    }

    /// The first component of `path` that names `.git` or `.mlv` in any spelling a file system
    /// may map to them: any letter case (case-insensitive mounts), trailing dots or spaces
    /// (NTFS, SMB) and the 8.3 short names `GIT~1` / `MLV~1`. Nil when there is none.
    public static func protectedComponent(in path: String) -> String? {
        // Walks the bytes without splitting: this runs for every file of every tracked folder.
        let utf8 = path.utf8
        var start = utf8.startIndex
        while start < utf8.endIndex {
            let end = utf8[start...].firstIndex(of: 47) ?? utf8.endIndex
            if end > start {
                let part = Substring(utf8[start..<end])
                if isProtected(part) { return String(part) }
            }
            start = end == utf8.endIndex ? end : utf8.index(after: end)
        }
        return nil
    }

    /// True when one path component reaches `.git` or `.mlv` (see `protectedComponent`).
    public static func isProtected<S: StringProtocol>(_ component: S) -> Bool {
        let utf8 = component.utf8
        guard utf8.count >= 4, let first = utf8.first, first == 46 || first | 32 == 103 || first | 32 == 109 else { return false }
        var bytes = Array(utf8)
        while let last = bytes.last, last == 46 || last == 32 { bytes.removeLast() }   // "x. " → "x"
        let lower = bytes.map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 }
        switch lower {
        case Array(".git".utf8), Array(".mlv".utf8), Array("git~1".utf8), Array("mlv~1".utf8): return true
        default: return false
        }
    }
}
