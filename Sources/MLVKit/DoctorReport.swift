import MLVGit
import MLVSupport

/// What `mlv doctor` finds about the place it runs in.
public struct DoctorReport: Sendable {
    public var workspaceRoot: String?
    public var gitRoot: String?
    public var probeDirectory: String
    public var reflink: Bool
    public var hardlink: Bool
    public var symlink: Bool

    public static func collect(cwd: String = FS.currentDirectory()) -> DoctorReport {
        let root = Workspace.findRoot(from: cwd)
        let probe = root.map { Path.join($0, ".mlv/tmp") } ?? cwd
        let dir = FS.isDirectory(probe) ? probe : cwd
        return DoctorReport(
            workspaceRoot: root,
            gitRoot: (try? GitRepository.discover(from: cwd))??.workdir,
            probeDirectory: dir,
            reflink: FS.supportsReflink(in: dir),
            hardlink: FS.supportsHardlink(in: dir),
            symlink: FS.supportsSymlink(in: dir))
    }
}
