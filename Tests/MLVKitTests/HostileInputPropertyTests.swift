import Foundation
@testable import MLVKit
import MLVSupport
import MLVTestSupport
import Testing

/// A property over thousands of random pointer and manifest files, fed to checkout, status, gc
/// and commit: whatever they hold (`.git`, `.mlv` in any spelling, `..`, `/`, `%` escapes, NUL,
/// non-UTF-8 bytes, symlinks to `.git`, `.mlv` and outside), nothing in `.git`, in `.mlv` or
/// outside the workspace changes, and no input traps (a trap would end this test process).
/// `MLV_PROPERTY_CASES` sets the number of cases (default 2,000), `MLV_PROPERTY_SEED` the seed;
/// a failure names the seed and the case to replay.
@Suite struct HostileInputPropertyTests {
    static let dangerous = [".git", ".mlv", ".GIT", ".Git.", ".mlv ", "GIT~1", "mlv~1", "lnk", "m", "out", "..", ".", "", "%2e%2e", "%00", "%"]
    static let benign = ["a", "b", "d", "keep", "x", "y", "ü", "hooks", "config", "cache", "sha256"]

    /// Mostly short paths that would be valid but for one dangerous component, so that most
    /// cases get past parsing and reach the checks that matter.
    func randomPath(_ rng: inout SplitMix) -> [UInt8] {
        var parts: [[UInt8]] = []
        for _ in 0...rng.below(3) {
            switch rng.below(20) {
            case 0: parts.append([0x61, 0x00, 0x62])               // NUL inside
            case 1: parts.append([0xFF, 0xFE, 0x2E, 0x67])         // not UTF-8
            case 2...10: parts.append(Array(rng.pick(Self.dangerous).utf8))
            default: parts.append(Array(rng.pick(Self.benign).utf8))
            }
        }
        var out = rng.below(20) == 0 ? [UInt8(ascii: "/")] : []
        for (i, p) in parts.enumerated() { if i > 0 { out.append(UInt8(ascii: "/")) }; out += p }
        return out
    }

    /// `.git` (but its index and objects, which staging rewrites), `.mlv` (but tmp and lock) and
    /// the folder beside the workspace.
    func guarded(_ ws: TestWorkspace, cacheToo: Bool) throws -> [String: String] {
        var out: [String: String] = [:]
        for (k, v) in try TreeSnapshot.take(ws.path(".git"), excluding: ["index", "objects", "index.lock"]).entries { out[".git/" + k] = v }
        let mlvExcluded = [".mlv/tmp", ".mlv/lock"] + (cacheToo ? [] : [".mlv/cache"])
        for (k, v) in try TreeSnapshot.take(ws.path(".mlv"), excluding: mlvExcluded.map { String($0.dropFirst(5)) }).entries { out[".mlv/" + k] = v }
        for (k, v) in try TreeSnapshot.take(ws.dir.path + "/outside").entries { out["outside/" + k] = v }
        return out
    }

    @Test func randomPointersAndManifestsNeverReachGitMLVOrOutside() throws {
        let ws = try TestWorkspace()
        try ws.gen(["keep": "keep", "d/x": "x", "d/y/z": "z"])
        #expect(try ws.mlv(["add", "keep", "d"]).status == 0)
        #expect(try ws.git(["commit", "-qm", "data"]).status == 0)
        try FS.makeDirectories(ws.dir.path + "/outside")
        try FS.writeFile(ws.dir.path + "/outside/secret", Array("secret".utf8))
        try FS.makeSymlink(".git", ws.path("lnk"))
        try FS.makeSymlink(".mlv", ws.path("m"))
        try FS.makeSymlink("../outside", ws.path("out"))
        let known = try ws.cacheObjects().map { $0.replacingOccurrences(of: "/", with: "") }
        let seed = UInt64(ProcessInfo.processInfo.environment["MLV_PROPERTY_SEED"] ?? "") ?? UInt64.random(in: 0...UInt64.max)
        let cases = Int(ProcessInfo.processInfo.environment["MLV_PROPERTY_CASES"] ?? "") ?? 2000
        var rng = SplitMix(state: seed)
        let before = try guarded(ws, cacheToo: false)
        let cacheBefore = try guarded(ws, cacheToo: true)
        var refused = 0
        for n in 0..<cases {
            // 1-3 hostile pointers, each to a known object, a random hash, or a fresh random manifest.
            var planted: [String] = []
            for k in 0..<(rng.below(4) == 0 ? 2 : 1) {
                let folder = rng.pick(["", "p1/", "p1/p2/"])   // names no random path uses, so checkout never makes them files
                let name = "\(folder)evil\(k).mlv"
                var hash = rng.pick(known + [String(repeating: "c", count: 64)])
                if rng.below(2) == 0 {
                    var manifest = Array("mlv-manifest 1\n".utf8)
                    for _ in 0...rng.below(3) {
                        manifest += Array("\(SHA256Hasher.hex(rng.pick(["keep", "x", "z"])))\t\(rng.below(5))\t".utf8)
                        manifest += randomPath(&rng).map { $0 == 0 ? UInt8(ascii: "%") : $0 } + [10]
                    }
                    let h = SHA256Hasher.hex(manifest)
                    let object = ws.path(".mlv/cache/sha256/\(h.prefix(2))/\(h.dropFirst(2)).dir")
                    try FS.makeDirectories(Path.parent(object))
                    if !FS.exists(object) { try FS.writeFile(object, manifest, mode: 0o444) }
                    hash = h + ".dir"
                }
                var yaml = Array("outs:\n- path: \"".utf8)
                for b in randomPath(&rng) {
                    switch b {
                    case 0: yaml += Array("\\0".utf8)
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"): yaml += [UInt8(ascii: "\\"), b]
                    default: yaml.append(b)
                    }
                }
                yaml += Array("\"\n  sha256: \(hash)\n  size: \(rng.pick(["1", "4", "1", "4", "1", "4", "9223372036854775807", "-1"]))\n".utf8)
                try FS.makeDirectories(Path.parent(ws.path(name)))
                try FS.writeFile(ws.path(name), yaml)
                planted.append(name)
            }
            let w = try Workspace.open(from: ws.root)
            var failures = 0
            for step in 0..<4 {
                do {
                    switch step {
                    case 0: _ = try w.checkout(force: true)
                    case 1: _ = try w.status()
                    case 2: _ = try w.gc(.workspace(at: w.root), force: false)
                    default: _ = try w.commit([])
                    }
                } catch is UserFacingError {
                    failures += 1
                }
            }
            if failures > 0 { refused += 1 }
            let after = try guarded(ws, cacheToo: false)
            if after != before {
                let changed = Set(before.keys).union(after.keys).filter { before[$0] != after[$0] }.sorted()
                Issue.record("seed \(seed), case \(n): changed \(changed); pointers: \(try planted.map { try FS.readText(ws.path($0)) })")
                return
            }
            for p in planted { try? FS.remove(ws.path(p)) }
        }
        // Commit may store objects for data that checkout wrote; nothing else in .mlv changed.
        let cacheAfter = try guarded(ws, cacheToo: true).filter { !$0.key.hasPrefix(".mlv/cache/sha256/") }
        #expect(cacheAfter == cacheBefore.filter { !$0.key.hasPrefix(".mlv/cache/sha256/") })
        #expect(refused > cases / 4 && refused < cases, "both refused and accepted cases must occur (\(refused) of \(cases) refused)")
    }

    /// Lock-only changes, as a teammate's commit could make them: random undeclared stages and
    /// undeclared outs of the real stage, naming git-tracked files (code, pipeline.yaml,
    /// .gitattributes, a hook script) or paths inside them, with hashes of objects that the cache
    /// and the remote hold. Fed to status, checkout, pull, repro, commit and commit of stages:
    /// no git-tracked file ever changes. `MLV_PROPERTY_CASES` / `MLV_PROPERTY_SEED` as above
    /// (cases here: a tenth).
    @Test func lockOnlyChangesNeverTouchGitTrackedFiles() throws {
        let ws = try TestWorkspace()
        let tracked = ["train.py": "print('train')\n", "sub/code.py": "x = 1\n", ".githooks/pre-commit": "#!/bin/sh\nexit 0\n", "in.txt": "input\n"]
        try ws.gen(tracked)
        try ws.write("pipeline.yaml", "stages:\n  prep:\n    cmd: cp in.txt out.txt\n    deps: [in.txt]\n    outs: [out.txt]\n")
        let evil = "import os  # payload\n"
        try ws.write("payload", evil)
        try ws.write("payloads/a.py", evil)
        #expect(try ws.mlv(["add", "payload", "payloads"]).status == 0)
        #expect(try ws.mlv(["repro"]).status == 0)
        #expect(try ws.mlv(["remote", "add", "-d", "shared", "../store"]).status == 0)
        #expect(try ws.mlv(["push"]).status == 0)
        let fileHash = SHA256Hasher.hex(evil)
        let dirHash = try #require(try ws.read("payloads.mlv").split(separator: "\n").first { $0.contains("sha256:") }?.split(separator: " ").last.map(String.init))
        try FS.remove(ws.path("payload.mlv"))
        try FS.remove(ws.path("payloads.mlv"))
        #expect(try ws.git(["add", "-A"]).status == 0)
        #expect(try ws.git(["commit", "-qm", "base"]).status == 0)
        // Every file git tracks but those mlv itself writes (the lock, .gitignore files).
        let gitFiles = try ws.git(["ls-files"]).stdout.split(separator: "\n").map(String.init)
            .filter { $0 != "pipeline.lock" && Path.base($0) != ".gitignore" }
        func snapshot() throws -> [String: String] {
            var out: [String: String] = [:]
            for f in gitFiles { out[f] = ws.exists(f) ? try ws.read(f) : "<missing>" }
            return out
        }
        let before = try snapshot()
        let baseLock = try ws.read("pipeline.lock")
        let targets = gitFiles + ["sub", ".githooks", "sub/code.py/x", "train.py/x"]
        let seed = UInt64(ProcessInfo.processInfo.environment["MLV_PROPERTY_SEED"] ?? "") ?? UInt64.random(in: 0...UInt64.max)
        let cases = max(1, (Int(ProcessInfo.processInfo.environment["MLV_PROPERTY_CASES"] ?? "") ?? 2000) / 10)
        var rng = SplitMix(state: seed)
        var ignoredWarnings = 0
        for n in 0..<cases {
            var lock = baseLock
            func entry(_ path: String) -> String {
                let dir = rng.below(3) == 0
                return "    - path: \(path)\n      hash: sha256\n      sha256: \(dir ? dirHash : fileHash)\n      size: \(evil.utf8.count)\n" + (dir ? "      nfiles: 1\n" : "")
            }
            if rng.below(2) == 0 {
                lock = lock.components(separatedBy: "    outs:\n").joined(separator: "    outs:\n" + entry(rng.pick(targets)))
            }
            for k in 0...rng.below(3) {
                lock += "  evil\(k):\n    cmd: 'true'\n    outs:\n" + entry(rng.pick(targets))
            }
            try ws.write("pipeline.lock", lock)
            if rng.below(2) == 0 { for f in ["train.py", "sub/code.py"] where rng.below(2) == 0 { try FS.remove(ws.path(f)) } }
            let w = try Workspace.open(from: ws.root)
            var warnings: [String] = []
            w.onWarning = { warnings.append($0) }
            for step in 0..<6 {
                do {
                    switch step {
                    case 0: _ = try w.status()
                    case 1: _ = try w.checkout(force: true)
                    case 2:
                        _ = try w.pull(OutputSelection(cwd: ws.root), remote: nil, jobs: 2, force: true)
                    case 3:
                        var options = ReproOptions()
                        options.force = rng.below(2) == 0
                        _ = try w.reproduce(options) { _ in }
                    case 4: _ = try w.commit([])
                    default: _ = try w.commitStages([])
                    }
                } catch is UserFacingError {
                    // A lock naming .mlv or .git paths does not parse: refused outright.
                }
            }
            if !warnings.isEmpty { ignoredWarnings += 1 }
            // Deleted tracked files come back from git, as a user would restore them.
            #expect(try ws.git(["checkout", "--", "train.py", "sub/code.py"]).status == 0)
            let after = try snapshot()
            if after != before {
                let changed = gitFiles.filter { before[$0] != after[$0] }
                Issue.record("seed \(seed), case \(n): changed \(changed); lock:\n\(lock)")
                return
            }
        }
        #expect(ignoredWarnings > cases / 2, "undeclared entries are reported (\(ignoredWarnings) of \(cases) cases)")
    }
}
