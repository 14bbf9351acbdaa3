import Foundation
import MLVSupport
import MLVTestSupport
import Testing

@Suite struct ConcurrencyTests {
    @Test func secondProcessWaitsThenFailsWhileTheLockIsHeld() throws {
        let ws = try TestWorkspace()
        try ws.write("f", "f")
        let before = try ws.snapshot()
        let held = try FileLock(path: ws.path(".mlv/lock"), timeout: 1, onWait: {})
        let r = try ws.mlv(["add", "f"], env: ["MLV_LOCK_TIMEOUT": "0.5"])
        held.unlock()
        #expect(r.status == 2)
        #expect(r.stderr.contains("mlv: another mlv process is working in this workspace; waiting for it to finish…\n"))
        #expect(r.stderr.contains("mlv: error: another mlv process is working in this workspace (lock '"))
        #expect(r.stderr.contains("hint: wait for it to finish, or set MLV_LOCK_TIMEOUT to wait longer"))
        #expect(try ws.snapshot() == before)
    }

    @Test func secondProcessProceedsWhenTheLockIsReleased() throws {
        let ws = try TestWorkspace()
        try ws.write("f", "f")
        let held = try FileLock(path: ws.path(".mlv/lock"), timeout: 1, onWait: {})
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.4) { held.unlock() }
        let r = try ws.mlv(["add", "f"], env: ["MLV_LOCK_TIMEOUT": "20"])
        #expect(r.status == 0, "\(r)")
        #expect(r.stderr.contains("waiting for it to finish"))
        #expect(ws.exists("f.mlv"))
    }

    @Test func twoConcurrentAddsBothComplete() throws {
        let ws = try TestWorkspace()
        var files: [String: String] = [:]
        for i in 0..<300 { files["a/\(i)"] = "a\(i)"; files["b/\(i)"] = "b\(i)" }
        try ws.gen(files)
        let group = DispatchGroup()
        var results: [MLVResult?] = [nil, nil]
        for (k, dir) in ["a", "b"].enumerated() {
            group.enter()
            DispatchQueue.global().async {
                results[k] = try? ws.mlv(["add", dir], env: ["MLV_LOCK_TIMEOUT": "60"])
                group.leave()
            }
        }
        group.wait()
        #expect(results.allSatisfy { $0?.status == 0 }, "\(results)")
        #expect(try ws.mlv(["status"]).stdout == "Data is up to date.\n")
        #expect(try ws.mlv(["cache", "verify"]).status == 0)
    }
}

@Suite struct CrashTests {
    /// `kill -9` of `mlv add` at random moments on a 5,000-file directory: afterwards the cache
    /// verifies clean, no pointer is half-written, and re-running `mlv add` completes.
    @Test func killNineDuringAddLeavesNothingCorrupt() throws {
        let ws = try TestWorkspace()
        var rng = SystemRandomNumberGenerator()
        var files: [String: String] = [:]
        for i in 0..<5000 {
            files["data/d\(i % 50)/f\(i)"] = String(repeating: "\(i)-", count: 50 + (i * 37) % 400)
        }
        try ws.gen(files)
        for round in 0..<6 {
            try ws.killNine(["add", "data"], afterMicroseconds: UInt32.random(in: 5_000...(60_000 + 60_000 * UInt32(round)), using: &rng))
            let verify = try ws.mlv(["cache", "verify"])
            #expect(verify.status == 0, "round \(round): \(verify)")
            if ws.exists("data.mlv") {
                let st = try ws.mlv(["status"])
                #expect(st.status == 0, "round \(round): pointer must never be half-written: \(st)")
            }
            #expect(try FS.list(ws.path("data")).allSatisfy { !$0.name.contains(".mlv-") }, "no temporary files left in the workspace")
        }
        let r = try ws.mlv(["add", "data"])
        #expect(r.status == 0, "\(r)")
        #expect(try ws.mlv(["status"]).stdout == "Data is up to date.\n")
        #expect(try ws.mlv(["cache", "verify"]).status == 0)
        try FS.removeTree(ws.path("data"))
        #expect(try ws.mlv(["checkout"]).status == 0)
        #expect(try ws.read("data/d7/f4207") == files["data/d7/f4207"])
    }
}
