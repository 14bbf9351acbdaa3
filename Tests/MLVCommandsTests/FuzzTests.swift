import Foundation
import MLVSupport
import MLVTestSupport
import Testing

/// Mutated pipeline.yaml, params (YAML, JSON, TOML), metrics and plots data fed to the commands
/// that only read them (status, repro --check, dag, metrics show, plots show): each exits 0, 1
/// or 2, within 20 seconds, never from a signal, and no git-tracked file changes.
/// `MLV_FUZZ_CASES` sets the number of cases (default 60), `MLV_FUZZ_SEED` the seed; a failure
/// names the seed, the case and the files.
@Suite struct FuzzTests {
    static let seeds: [String: String] = [
        "pipeline.yaml": """
        vars: [conf.toml]
        stages:
          prep:
            foreach: [a, b]
            do:
              cmd: echo ${item} ${train.lr} > out-${item}.txt
              deps: [in.txt]
              params: [train.lr, {conf.toml: [model.depth]}]
              outs: ["out-${item}.txt"]
          sweep:
            matrix: {lr: [0.1, 0.2], bs: [8]}
            cmd: echo ${item.lr} ${item.bs}
          train:
            cmd: echo ${train.layers}
            metrics: [{metrics.json: {cache: false}}]
            plots: [{history.csv: {x: epoch, y: [loss]}}]
        plots:
        - conf: {template: confusion, x: actual, y: {preds.json: predicted}}

        """,
        "params.yaml": "train:\n  lr: 0.1\n  layers: [8, 16]\n  name: \"net\"\n",
        "conf.toml": "[model]\ndepth = 3\nname = \"x\"\n[model.opt]\nlr = 1.5e-3\n",
        "metrics.json": "{\"acc\": 0.9, \"loss\": {\"train\": 0.1, \"test\": NaN}}\n",
        "history.csv": "epoch,loss\n1,0.5\n2,0.25\n3,0.125\n",
        "preds.json": "[{\"actual\": \"cat\", \"predicted\": \"dog\"}, {\"actual\": \"dog\", \"predicted\": \"dog\"}]\n",
    ]

    /// Tokens that reach parsers' corners: aliases, deep nesting, interpolation, huge and odd numbers.
    static let tokens = ["${", "}", "${item}", "${train}", "&a ", "*a", "[", "]", "{", "}", ":", "- ", "\n  ", "\n", "\t", "'", "\"",
                         "\\", "#", "1e400", "-1e308", "NaN", ".inf", "9223372036854775808", "-0", "0x1F", "\u{0}", "\u{1B}[2J",
                         "\u{202E}", "é", "\r\n", String(repeating: "[", count: 200), String(repeating: "a.", count: 100),
                         "foreach: ", "matrix: ", "wdir: ../..", "../", "/etc/passwd", ".git/config", ".mlv/", "@", "|", "!!binary ",
                         "<<: *a", "? ", "%YAML 1.2\n", "---\n", "..."]

    func mutate(_ text: String, _ rng: inout SplitMix) -> [UInt8] {
        var bytes = Array(text.utf8)
        for _ in 0...rng.below(4) {
            let at = bytes.isEmpty ? 0 : rng.below(bytes.count + 1)
            switch rng.below(4) {
            case 0: bytes.insert(contentsOf: Array(rng.pick(Self.tokens).utf8), at: at)                   // insert a token
            case 1: if !bytes.isEmpty { bytes.removeSubrange(at..<min(bytes.count, at + 1 + rng.below(8))) } // cut
            case 2: if at < bytes.count { bytes[at] ^= UInt8(1 << rng.below(8)) }                            // flip a bit
            default:                                                                                         // duplicate a slice
                let end = min(bytes.count, at + rng.below(40))
                bytes.insert(contentsOf: Array(bytes[at..<end]), at: at)
            }
        }
        return bytes
    }

    @Test func mutatedInputsNeverCrashHangOrTouchGit() throws {
        let ws = try TestWorkspace()
        try ws.gen(Self.seeds.merging(["in.txt": "x\n"]) { a, _ in a })
        #expect(try ws.git(["add", "-A"]).status == 0)
        #expect(try ws.git(["commit", "-qm", "seeds"]).status == 0)
        let gitFiles = try ws.git(["ls-files"]).stdout.split(separator: "\n").map(String.init).filter { Self.seeds[$0] == nil }
        func guarded() throws -> [String: String] {
            var out: [String: String] = [:]
            for f in gitFiles { out[f] = try ws.read(f) }
            return out
        }
        let before = try guarded()
        let seed = UInt64(ProcessInfo.processInfo.environment["MLV_FUZZ_SEED"] ?? "") ?? UInt64.random(in: 0...UInt64.max)
        let cases = Int(ProcessInfo.processInfo.environment["MLV_FUZZ_CASES"] ?? "") ?? 60
        var rng = SplitMix(state: seed)
        let commands = [["status"], ["repro", "--check"], ["dag", "--dot"], ["metrics", "show"], ["plots", "show", "-o", "../plots.html"]]
        var exits: [Int32: Int] = [:]
        for n in 0..<cases {
            // One or two files mutated, the others as seeded.
            var mutated: [String: [UInt8]] = [:]
            for _ in 0...rng.below(2) {
                let name = rng.pick(Self.seeds.keys.sorted())
                mutated[name] = mutate(String(decoding: mutated[name] ?? Array(Self.seeds[name]!.utf8), as: UTF8.self), &rng)
            }
            for (name, text) in Self.seeds { try FS.writeFile(ws.path(name), mutated[name] ?? Array(text.utf8)) }
            let args = rng.pick(commands)
            let start = MonotonicClock.monotonicSeconds()
            let r = try runProcess("/usr/bin/timeout", ["-s", "KILL", "20", mlvBinary] + args, cwd: ws.root, env: ws.env)
            let seconds = MonotonicClock.monotonicSeconds() - start
            exits[r.status, default: 0] += 1
            let shown = mutated.map { "\($0.key): \(String(decoding: $0.value, as: UTF8.self).debugDescription)" }.joined(separator: "\n")
            guard [0, 1, 2].contains(r.status), seconds < 15 else {
                Issue.record("seed \(seed), case \(n): \(args) exited \(r.status) after \(seconds) s\n\(shown)\n\(r.stderr.prefix(2000))")
                return
            }
            guard try guarded() == before else {
                Issue.record("seed \(seed), case \(n): \(args) changed a git-tracked file\n\(shown)")
                return
            }
        }
        #expect(exits[0, default: 0] > 0 && exits[2, default: 0] > 0, "both accepted and refused inputs occur: \(exits)")
    }
}
