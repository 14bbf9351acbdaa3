import ArgumentParser
import MLVKit
import MLVSupport
#if canImport(Glibc)
import Glibc
#endif

struct Watch: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract: "Watch the workspace's folders (inotify), so `status` reads only what changed (as git's fsmonitor).",
        discussion: """
        `mlv watch start` leaves a watcher running for this workspace; while it runs, `status` asks it \
        what changed in a tracked folder since that folder last matched its record, and reads only \
        those inner folders. Without it, or when it cannot vouch for everything (it restarted, the \
        kernel dropped events, a folder moved), status walks every file as usual.
        """,
        subcommands: [Start.self, Stop.self, Run.self])

    struct Start: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Start a watcher in the background (its output in .mlv/tmp/watch.log).")
        func run() throws {
            let ws = try WorkspaceCommand.open()
            if WatchDaemon.isRunning(root: ws.root) { return print("A watcher already runs for this workspace.") }
            try FS.makeDirectories(ws.cache.tmp)
            let pid = try WatchDaemon.startInBackground(root: ws.root, executable: try FS.readLink("/proc/self/exe"),
                                                        log: Path.join(ws.cache.tmp, "watch.log"))
            print("Watching \(ws.root) (process \(pid)); `mlv watch stop` stops it.")
        }
    }

    struct Stop: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop this workspace's watcher.")
        func run() throws {
            let ws = try WorkspaceCommand.open()
            guard WatchSocket.request(root: ws.root, Array("stop".utf8)) != nil else { return print("No watcher runs for this workspace.") }
            print("Stopped the watcher.")
        }
    }

    struct Run: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Run a watcher in the foreground (until `mlv watch stop`).")
        func run() throws {
            let ws = try WorkspaceCommand.open()
            let daemon = try WatchDaemon(root: ws.root)
            try daemon.serve { print("Watching \(ws.root)."); fflush(stdout) }
        }
    }
}
