import Foundation
import MLVSupport
import MLVTestSupport
import Testing

/// `mlv exp show --html FILE`: scatter plots of each metric against each param that differs,
/// parallel coordinates, the table; one self-contained page, rendered in headless Chromium
/// where Debian's `chromium` is installed. Param values and metric names are hostile.
@Suite struct ExperimentHTMLTests {
    static let hostileValue = #"x" onmouseover="alert(1)" <script>alert('p')</script>"#
    static let hostileMetric = #"<script>alert("m")</script>"#

    /// A committed pipeline; three experiments (lr 0.2 and 0.4 with opt sgd, and "hostile":
    /// lr 0.3 with a string param that is markup and quotes), a metric named like a script.
    static func project() throws -> TestWorkspace {
        let ws = try TestWorkspace()
        try ws.gen([
            "params.yaml": "train:\n  lr: 0.1\n  batch_size: 16\n  opt: sgd\n",
            "pipeline.yaml": """
                stages:
                  train:
                    cmd: ./train.sh ${train.lr} ${train.batch_size}
                    deps: [train.sh]
                    params: [train]
                    outs: [model.txt]
                    metrics: [metrics.json: {cache: false}]

                """,
        ])
        try AtomicFile.write(#"""
            #!/bin/sh
            echo "model $1 $2" > model.txt
            awk -v lr=$1 -v bs=$2 'BEGIN {printf "{\"acc\": %.4f, \"loss\": %.4f, \"<script>alert(\\\"m\\\")</script>\": %s}\n", lr*2+bs/100, 1/(lr*bs), lr}' > metrics.json

            """#, to: ws.path("train.sh"), mode: 0o755)
        #expect(try ws.mlv(["repro"]).status == 0)
        #expect(try ws.git(["add", "-A"]).status == 0 && ws.git(["commit", "-qm", "baseline"]).status == 0)
        #expect(try ws.mlv(["exp", "run", "--queue", "-S", "train.lr=0.2,0.4"]).status == 0)
        let quoted = "'" + hostileValue.replacingOccurrences(of: "'", with: "''") + "'"
        let q = try ws.mlv(["exp", "run", "--queue", "--name", "hostile", "-S", "train.lr=0.3", "-S", "train.opt=" + quoted])
        #expect(q.status == 0, "\(q)")
        let run = try ws.mlv(["exp", "run", "--run-all"])
        #expect(run.status == 0 && run.stdout.hasSuffix("3 experiments done, 0 failed\n"), "\(run)")
        return ws
    }

    static func count(_ text: String, _ part: String) -> Int { text.components(separatedBy: part).count - 1 }

    @Test func thePageDrawsEveryExperimentAndEscapesWhatFilesHold() throws {
        let ws = try Self.project()
        let before = try ExperimentTests.userState(ws)
        let r = try ws.mlv(["exp", "show", "--html", "out/exps.html"])
        #expect(r.status == 0 && r.stdout == "3 experiments written to out/exps.html\n", "\(r)")
        let changed = try ExperimentTests.userState(ws).difference(before)
        #expect(changed == ["out", "out/exps.html"], "\(changed)")
        let html = try ws.read("out/exps.html")
        #expect(html.hasPrefix("<!DOCTYPE html>") && !html.contains("src=\"http") && !html.contains("href=\"http"), "self-contained")
        // 2 params that differ (lr, opt) × 3 metrics: 6 scatter plots of 3 points each.
        #expect(Self.count(html, "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"scatter\"") == 6)
        #expect(Self.count(html, "data-points=\"3\"") == 6)
        #expect(Self.count(html, "<circle class=\"point\"") == 18)
        for name in ["exp-", "hostile"] { #expect(html.contains("data-experiment=\"\(name)"), "\(name)") }
        #expect(Self.count(html, "<circle class=\"point\" data-experiment=\"hostile\"") == 6)
        #expect(html.contains("data-x=\"train.lr\" data-y=\"acc\""))
        for axis in ["train.lr", "train.opt", "acc", "loss"] {
            #expect(html.contains("class=\"axis-title\" x=") && html.contains(">\(axis)</text>"), "\(axis)")
        }
        #expect(Self.count(html, "<path class=\"line\"") == 3, "one line per experiment in the parallel coordinates")
        #expect(html.contains("class=\"parallel\" data-axes=\"5\""), "lr, opt and three metrics")
        // The only script is the page's own; the hostile texts are there, escaped.
        #expect(Self.count(html, "<script") == 1 && !html.contains("alert(1)\" <") && !html.contains("onmouseover=\"alert"))
        #expect(html.contains(MarkupText.escape(Self.hostileMetric)))
        #expect(html.contains(MarkupText.escape(Self.hostileValue)))
    }

    @Test func rendersInHeadlessChromium() throws {
        guard let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            print("skipped: Debian's chromium is not installed (apt-get install chromium)")
            return
        }
        let ws = try Self.project()
        #expect(try ws.mlv(["exp", "show", "--html", "exps.html"]).status == 0)
        let args = ["--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr", "--v=0"]
        let dom = try runProcess(chromium, args + ["--dump-dom", "file://" + ws.path("exps.html")], cwd: ws.root, env: ["HOME": ws.home])
        #expect(dom.status == 0)
        // The script ran (it counts the elements it highlights: 18 points, 3 lines, 3 table rows).
        #expect(dom.stdout.contains("data-interactive=\"24\""), "\(dom.stdout.prefix(300))")
        #expect(Self.count(dom.stdout, "<circle class=\"point\"") == 18)
        #expect(Self.count(dom.stdout, "<script") == 1, "no script from a params or metrics file became an element")
        #expect(dom.stdout.contains(#">x" onmouseover="alert(1)" &lt;script&gt;alert('p')&lt;/script&gt;</td>"#), "the param's value, as text")
        #expect(dom.stdout.contains("&lt;script&gt;alert(\"m\")&lt;/script&gt;"), "the metric's name, as text")
        for axis in ["train.lr", "train.opt", "acc", "loss"] { #expect(dom.stdout.contains(">\(axis)</text>"), "\(axis)") }
        #expect(!dom.stderr.contains("CONSOLE") && !dom.stderr.contains("Uncaught"), "no console errors: \(dom.stderr)")
        let shot = try runProcess(chromium, args + ["--screenshot=" + ws.path("shot.png"), "--window-size=1200,1600", "file://" + ws.path("exps.html")], cwd: ws.root, env: ["HOME": ws.home])
        #expect(shot.status == 0)
        #expect(try FS.status(ws.path("shot.png"))?.size ?? 0 > 20_000, "a screenshot with content")
    }

    @Test func withoutExperimentsThePageSaysSo() throws {
        let ws = try ExperimentTests.project()
        let r = try ws.mlv(["exp", "show", "--html", "e.html"])
        #expect(r.stdout == "0 experiments written to e.html\n", "\(r)")
        #expect(try ws.read("e.html").contains("no experiments yet"))
    }
}
