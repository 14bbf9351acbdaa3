import MLVGit
import MLVSupport

/// What `mlv doctor` finds about the place it runs in.
package struct DoctorReport: Sendable {
    package var workspaceRoot: String?
    package var gitRoot: String?
    package var probeDirectory: String
    package var reflink: Bool
    package var hardlink: Bool
    package var symlink: Bool

    package static func collect(cwd: String = FS.currentDirectory()) -> DoctorReport {
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
