import Foundation
import MLVSupport
import MLVTestSupport
import Testing

/// `mlv plots show|diff`: one self-contained HTML file with inline SVG, checked by its
/// structure and, where Debian's `chromium` is installed, by rendering it headless.
@Suite struct PlotsTests {
    func workspace() throws -> TestWorkspace {
        let ws = try TestWorkspace()
        try ws.gen([
            "params.yaml": "n: 3\n",
            "pipeline.yaml": """
            stages:
              train:
                cmd: sh make.sh ${n}
                deps: [make.sh]
                params: [n]
                plots:
                - history.csv: {x: epoch, y: [loss, acc], title: Training, cache: false}
                - preds.json: {template: confusion, x: actual, y: predicted, cache: false}
            plots:
            - picture.svg
            - acc: {x: epoch, y: {history.csv: acc}, template: scatter}

            """,
            "make.sh": """
            echo epoch,loss,acc > history.csv
            i=1; while [ $i -le $1 ]; do echo $i,$((10 - i)),0.$i >> history.csv; i=$((i + 1)); done
            echo '[{"actual": "cat", "predicted": "cat"}, {"actual": "dog", "predicted": "cat"}, {"actual": "dog", "predicted": "dog"}]' > preds.json

            """,
            "picture.svg": "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"10\" height=\"10\"><rect width=\"10\" height=\"10\" fill=\"red\"/></svg>\n",
        ])
        #expect(try ws.mlv(["repro"]).status == 0)
        #expect(try ws.git(["add", "-A"]).status == 0)
        #expect(try ws.git(["commit", "-qm", "n=3"]).status == 0)
        try ws.write("params.yaml", "n: 5\n")
        #expect(try ws.mlv(["repro"]).status == 0)
        return ws
    }

    @Test func diffDrawsEachRevisionsSeries() throws {
        let ws = try workspace()
        let r = try ws.mlv(["plots", "diff", "-o", "out/plots.html"])
        #expect(r.status == 0 && r.stdout == "4 plots written to out/plots.html\n", "\(r)")
        let html = try ws.read("out/plots.html")
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        #expect(!html.contains("<script") && !html.contains("src=\"http"), "self-contained")
        // Training: loss and acc for HEAD (3 points) and the workspace (5 points).
        for (series, points) in [("HEAD: loss", 3), ("HEAD: acc", 3), ("workspace: loss", 5), ("workspace: acc", 5)] {
            #expect(html.contains("<polyline class=\"series\" data-series=\"\(series)\" data-points=\"\(points)\""), "\(series)")
        }
        #expect(html.components(separatedBy: "data-series=\"workspace: acc\" data-points=\"5\" fill=\"#d62728\"").count == 2, "the scatter plot, in the second colour")
        #expect(html.contains("data-actual=\"dog\" data-predicted=\"cat\" data-count=\"1\""))
        #expect(html.components(separatedBy: "<img alt=").count == 3, "the image at both revisions")
        #expect(html.contains("src=\"data:image/svg+xml;base64,"))
        let one = try ws.mlv(["plots", "show", "--target", "acc", "-o", "acc.html"])
        #expect(one.stdout == "1 plot written to acc.html\n")
    }

    /// dvclive's layout: a folder of TSV files, one plot each; cached, so HEAD's come from the
    /// cache through the manifest in HEAD's lock.
    /// NaN, ±inf, 1e400 and values whose range overflows are left out and counted (they used to
    /// trap converting to Int); a confusion file of 40,000 rows naming 80,000 classes stops at
    /// the class cap without work per class.
    @Test func pointsThatCannotBeDrawnAreSkippedAndCounted() throws {
        let ws = try TestWorkspace()
        var preds = "actual,predicted\n"
        for i in 0..<40_000 { preds += "a\(i),p\(i)\n" }
        try ws.gen([
            "pipeline.yaml": """
            plots:
            - h: {x: epoch, y: {h.csv: loss}}
            - wide: {x: epoch, y: {wide.csv: loss}}
            - preds: {template: confusion, x: actual, y: {preds.csv: predicted}}

            """,
            "h.csv": "epoch,loss\n1,1\n2,.nan\n.inf,3\n4,1e400\n1e308,5\n6,-1e308\n7,7\n",
            "wide.csv": "epoch,loss\n1,-1e15\n2,1e15\n3,1e15\n",
            "preds.csv": preds,
        ])
        let start = MonotonicClock.monotonicSeconds()
        let r = try ws.mlv(["plots", "show", "-o", "p.html"])
        let seconds = MonotonicClock.monotonicSeconds() - start
        #expect(r.status == 0, "\(r)")
        #expect(seconds < 5, "took \(seconds) s")
        #expect(r.stderr == "mlv: warning: 39955 rows left out of the plots: not a finite number within ±1e15, or past 100 classes\n", "\(r)")
        let html = try ws.read("p.html")
        #expect(html.contains("<p class=\"skipped\">5 rows left out: not a finite number within ±1e15, or past 100 classes</p>"))
        #expect(html.contains("<p class=\"skipped\">39950 rows left out"))
        #expect(html.components(separatedBy: "class=\"cell\"").count - 1 == 100 * 100)
        #expect(!html.contains("\"nan\"") && !html.contains("\"inf\"") && !html.contains("\"-inf\""))
    }

    @Test func folderOfPlots() throws {
        let ws = try TestWorkspace()
        try ws.gen([
            "params.yaml": "n: 2\n",
            "pipeline.yaml": """
            stages:
              train:
                cmd: sh live.sh ${n}
                deps: [live.sh]
                params: [n]
                plots: [{live/plots: {x: step}}]

            """,
            "live.sh": """
            mkdir -p live/plots/metrics/train
            printf 'step\\tloss\\n' > live/plots/metrics/train/loss.tsv
            printf 'step\\tacc\\n' > live/plots/metrics/acc.tsv
            i=0; while [ $i -lt $1 ]; do printf "$i\\t0.$i\\n" >> live/plots/metrics/train/loss.tsv; printf "$i\\t0.$i\\n" >> live/plots/metrics/acc.tsv; i=$((i + 1)); done

            """,
        ])
        #expect(try ws.mlv(["repro"]).status == 0)
        #expect(try ws.git(["add", "-A"]).status == 0)
        #expect(try ws.git(["commit", "-qm", "n=2"]).status == 0)
        try ws.write("params.yaml", "n: 4\n")
        #expect(try ws.mlv(["repro"]).status == 0)
        let r = try ws.mlv(["plots", "diff"])
        #expect(r.stdout == "2 plots written to plots.html\n", "\(r)")
        let html = try ws.read("plots.html")
        #expect(html.contains("data-plot=\"live/plots/metrics/acc.tsv\"") && html.contains("data-plot=\"live/plots/metrics/train/loss.tsv\""))
        for (series, points) in [("HEAD: loss", 2), ("workspace: loss", 4), ("HEAD: acc", 2), ("workspace: acc", 4)] {
            #expect(html.contains("data-series=\"\(series)\" data-points=\"\(points)\""), "\(series)")
        }
    }

    @Test func rendersInHeadlessChromium() throws {
        guard let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            print("skipped: Debian's chromium is not installed (apt-get install chromium)")
            return
        }
        let ws = try workspace()
        #expect(try ws.mlv(["plots", "diff"]).status == 0)
        let url = "file://" + ws.path("plots.html")
        let args = ["--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr", "--v=0"]
        let dom = try runProcess(chromium, args + ["--dump-dom", url], cwd: ws.root, env: ["HOME": ws.home])
        #expect(dom.status == 0)
        #expect(dom.stdout.contains("data-series=\"workspace: loss\""), "the browser parsed the SVG")
        #expect(!dom.stderr.contains("CONSOLE") && !dom.stderr.contains("Uncaught"), "no console errors: \(dom.stderr)")
        let shot = try runProcess(chromium, args + ["--screenshot=" + ws.path("shot.png"), "--window-size=900,1600", url], cwd: ws.root, env: ["HOME": ws.home])
        #expect(shot.status == 0)
        #expect(try FS.status(ws.path("shot.png"))?.size ?? 0 > 20_000, "a screenshot with content")
    }
}
