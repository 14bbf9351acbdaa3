import Foundation
import MLVSupport
import MLVTestSupport
import Testing

/// `mlv watch`: a watcher that tells status which paths changed, so a folder nothing happened in
/// is not walked. What it names is still compared with the record; whatever it cannot vouch for
/// is walked as without it.
@Suite struct WatchTests {
    /// A tracked folder of three inner folders, older than the state index's cutoff.
    func workspace() throws -> (TestWorkspace, [String: String]) {
        let ws = try TestWorkspace()
        var files: [String: String] = [:]
        for d in ["a", "b", "c"] { for i in 0..<5 { files["data/\(d)/f\(i)"] = "\(d) \(i)" } }
        try ws.gen(files)
        for f in files.keys { try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -10)], ofItemAtPath: ws.path(f)) }
        #expect(try ws.mlv(["add", "data"]).status == 0)
        return (ws, files)
    }

    func status(_ ws: TestWorkspace) throws -> (out: String, watched: Bool) {
        let r = try ws.mlv(["status"], env: ["MLV_TRACE_WATCH": "1"])
        #expect(r.status == 0, "\(r)")
        return (r.stdout, r.stderr.contains("mlv: trace: watch: data:"))
    }

    @Test func statusReadsOnlyWhatTheWatcherNamesAndStillFindsEveryChange() throws {
        let (ws, files) = try workspace()
        let start = try ws.mlv(["watch", "start"])
        #expect(start.status == 0 && start.stdout.hasPrefix("Watching "), "\(start)")
        defer { _ = try? ws.mlv(["watch", "stop"]) }
        #expect(try ws.mlv(["watch", "start"]).stdout == "A watcher already runs for this workspace.\n")
        // The first status walks (the watcher has vouched for nothing yet); the next ones ask it.
        #expect(try status(ws) == ("Data is up to date.\n", false))
        #expect(try status(ws) == ("Data is up to date.\n", true))
        try ws.write("data/b/f3", "changed")
        #expect(try status(ws) == ("data: 1 modified\n", true))
        #expect(try status(ws) == ("data: 1 modified\n", true))
        try ws.write("data/b/f3", files["data/b/f3"]!)
        #expect(try status(ws) == ("Data is up to date.\n", true))
        // A new file changes a folder's set of files: that status walks, and names it.
        try ws.write("data/a/new", "new")
        #expect(try status(ws).out == "data: 1 added\n")
        try FS.remove(ws.path("data/a/new"))
        #expect(try status(ws).out == "Data is up to date.\n")
        #expect(try status(ws) == ("Data is up to date.\n", true))
        // A folder made or removed inside, an ignore file anywhere: a walk.
        try ws.write("data/d/x", "x")
        #expect(try status(ws) == ("data: 1 added\n", false))
        try FS.removeTree(ws.path("data/d"))
        #expect(try status(ws).out == "Data is up to date.\n")
        try ws.write(".mlvignore", "*.tmp\n")
        #expect(try status(ws) == ("Data is up to date.\n", false))
        // A new record (commit) starts over: walked once, then vouched for.
        try ws.write("data/c/f0", "committed")
        #expect(try ws.mlv(["commit", "data"]).status == 0)
        #expect(try status(ws).out == "Data is up to date.\n")
        #expect(try status(ws) == ("Data is up to date.\n", true))
        #expect(try ws.mlv(["watch", "stop"]).stdout == "Stopped the watcher.\n")
        // Without it, status walks as always.
        try ws.write("data/a/f1", "after")
        #expect(try status(ws) == ("data: 1 modified\n", false))
        #expect(try ws.mlv(["watch", "stop"]).stdout == "No watcher runs for this workspace.\n")
    }

    /// A watcher that restarted knows nothing of the tokens before it: status walks once; the
    /// files that walk found modified are looked at again each time after, with what it names.
    @Test func aRestartedWatcherVouchesForNothingBefore() throws {
        let (ws, files) = try workspace()
        #expect(try ws.mlv(["watch", "start"]).status == 0)
        _ = try status(ws)
        #expect(try status(ws).watched)
        #expect(try ws.mlv(["watch", "stop"]).status == 0)
        try ws.write("data/a/f2", "while nobody watched")
        #expect(try ws.mlv(["watch", "start"]).status == 0)
        defer { _ = try? ws.mlv(["watch", "stop"]) }
        #expect(try status(ws) == ("data: 1 modified\n", false))
        #expect(try status(ws) == ("data: 1 modified\n", true))
        try ws.write("data/c/f4", "another")
        #expect(try status(ws) == ("data: 2 modified\n", true))
        try ws.write("data/a/f2", files["data/a/f2"]!)
        #expect(try status(ws) == ("data: 1 modified\n", true))
        try ws.write("data/c/f4", files["data/c/f4"]!)
        #expect(try status(ws) == ("Data is up to date.\n", true))
    }
}
