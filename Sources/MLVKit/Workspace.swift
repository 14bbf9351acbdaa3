import MLVSupport

public struct Workspace {
    /// The nearest ancestor of `start` (inclusive) holding a `.mlv` directory.
    public static func findRoot(from start: String) -> String? {
        var dir = Path.absolute(start)
        while true {
            if FS.isDirectory(Path.join(dir, ".mlv")) { return dir }
            let parent = Path.parent(dir)
            if parent == dir { return nil }
            dir = parent
        }
    }
}
