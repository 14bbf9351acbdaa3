import MLVSupport

/// `mlv exp show --html FILE`: the experiments as one self-contained page (inline SVG, CSS and
/// a few lines of script, nothing fetched): a scatter plot of each metric against each param
/// that differs (one point per experiment), parallel coordinates across those params and the
/// metrics (one line per experiment), and the table itself. Every name and value is escaped;
/// the script reads only `data-experiment` attributes (hovering one experiment highlights it
/// everywhere), so nothing from a params or metrics file ever becomes code.
package enum ExperimentsHTML {
    /// The most scatter plots drawn (params × metrics); the rest are counted on the page.
    static let maxScatters = 48
    static let palette = PlotsHTML.palette

    /// One column as an axis: numbers on a round numeric range, anything else as categories.
    struct Axis {
        var title: String
        var kind: String
        var lo = 0.0, hi = 1.0
        var ticks: [Double] = []
        var categories: [String] = []

        init(_ column: ExperimentTable.Column, values: [ParamValue?]) {
            title = column.title
            kind = column.kind
            let present = values.compactMap { $0 }
            let numbers = present.compactMap(ExperimentFilter.number)
            if !present.isEmpty, numbers.count == present.count {
                // NaN, infinities and numbers past ±1e15 are left off the axis (and the plot).
                let drawable = numbers.filter(PlotData.plottable)
                (lo, hi, ticks) = PlotsHTML.axis(drawable.isEmpty ? [0] : drawable)
            } else {
                categories = Array(Set(present.map(\.description))).sorted()
            }
        }

        var isNumeric: Bool { categories.isEmpty }

        /// Where `v` sits along the axis, 0…1 (nil: no value, or a number that cannot be drawn).
        func fraction(_ v: ParamValue?) -> Double? {
            guard let v else { return nil }
            if isNumeric {
                guard let x = ExperimentFilter.number(v), PlotData.plottable(x) else { return nil }
                return (x - lo) / (hi - lo)
            }
            guard let i = categories.firstIndex(of: v.description) else { return nil }
            return (Double(i) + 0.5) / Double(categories.count)
        }

        /// (fraction, label) for each tick.
        var labels: [(Double, String)] {
            if isNumeric { return ticks.map { (($0 - lo) / (hi - lo), PlotsHTML.label($0)) } }
            return categories.enumerated().map { ((Double($0.offset) + 0.5) / Double(categories.count), $0.element) }
        }
    }

    package static func render(_ table: ExperimentTable, title: String = "mlv experiments") -> String {
        let experiments = table.rows.filter { !$0.commit.isEmpty && $0.commit != $0.baseline }
        let colour = Dictionary(experiments.enumerated().map { ($1.name, palette[$0 % palette.count]) }, uniquingKeysWith: { a, _ in a })
        let axes = table.columns.indices.map { c in Axis(table.columns[c], values: experiments.map { $0.values[c] }) }
        let params = table.columns.indices.filter { table.columns[$0].kind == "params" }
        let metrics = table.columns.indices.filter { table.columns[$0].kind == "metrics" }
        let e = MarkupText.escape
        var html = """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>\(e(title))</title>
        <style>
        body{font-family:sans-serif;margin:24px;color:#222}
        section{margin:0 0 32px}
        h2{font-size:16px;margin:0 0 8px}
        .scatters{display:flex;flex-wrap:wrap;gap:12px}
        svg{background:#fff;border:1px solid #ddd}
        svg text{font-size:11px;fill:#333}
        svg .axis-title{font-size:12px;font-weight:bold}
        .point{stroke:#fff;stroke-width:1}
        .line{fill:none;stroke-width:2;opacity:.8}
        body.focus .point:not(.hl),body.focus .line:not(.hl),body.focus tr[data-experiment]:not(.hl){opacity:.15}
        .line.hl{stroke-width:4;opacity:1}
        table{border-collapse:collapse;font-size:13px}
        th,td{border:1px solid #ddd;padding:3px 8px;text-align:right}
        th:first-child,td:first-child{text-align:left}
        .swatch{display:inline-block;width:10px;height:10px;margin-right:6px}
        .empty,.skipped{color:#888;font-style:italic}
        </style></head><body>
        <h1>\(e(title))</h1>

        """
        html += "<section id=\"scatter\">\n<h2>Metrics against params</h2>\n"
        let pairs = metrics.flatMap { m in params.map { (m, $0) } }
        if experiments.isEmpty {
            html += "<p class=\"empty\">no experiments yet: `mlv exp run` makes them</p>\n"
        } else if pairs.isEmpty {
            html += "<p class=\"empty\">\(params.isEmpty ? "no param differs between the experiments" : "no metrics")</p>\n"
        } else {
            html += "<div class=\"scatters\">\n"
            for (m, p) in pairs.prefix(maxScatters) {
                html += scatter(x: axes[p], y: axes[m], points: experiments.map { ($0.name, $0.values[p], $0.values[m]) }, colour: colour)
            }
            html += "</div>\n"
            if pairs.count > maxScatters {
                html += "<p class=\"skipped\">\(pairs.count - maxScatters) more plots left out (\(params.count) params × \(metrics.count) metrics)</p>\n"
            }
        }
        html += "</section>\n<section id=\"parallel\">\n<h2>Parallel coordinates</h2>\n"
        if experiments.isEmpty || axes.isEmpty {
            html += "<p class=\"empty\">nothing to draw</p>\n"
        } else {
            html += parallel(axes, rows: experiments, colour: colour)
        }
        html += "</section>\n<section id=\"table\">\n<h2>Experiments</h2>\n<table>\n<tr><th>Experiment</th><th>Commit</th>"
        html += table.columns.map { "<th data-kind=\"\($0.kind)\">\(e($0.title))</th>" }.joined() + "</tr>\n"
        for r in table.rows {
            let swatch = colour[r.name].map { "<span class=\"swatch\" style=\"background:\($0)\"></span>" } ?? ""
            let attr = colour[r.name] == nil ? "" : " data-experiment=\"\(e(r.name))\""
            html += "<tr\(attr)><td>\(swatch)\(e(r.name))</td><td>\(e(String(r.commit.prefix(7))))</td>"
            html += r.values.map { "<td>\(e($0.map { cell($0) } ?? "-"))</td>" }.joined() + "</tr>\n"
        }
        html += "</table>\n</section>\n"
        html += """
        <script>
        (function () {
          var items = Array.prototype.slice.call(document.querySelectorAll('[data-experiment]'));
          function mark(name, on) {
            items.forEach(function (el) { if (el.getAttribute('data-experiment') === name) el.classList.toggle('hl', on); });
            document.body.classList.toggle('focus', on);
          }
          items.forEach(function (el) {
            el.addEventListener('mouseenter', function () { mark(el.getAttribute('data-experiment'), true); });
            el.addEventListener('mouseleave', function () { mark(el.getAttribute('data-experiment'), false); });
          });
          document.body.setAttribute('data-interactive', String(items.length));
        })();
        </script>
        </body></html>

        """
        return html
    }

    static let size = (width: 360.0, height: 280.0), margin = (left: 64.0, right: 16.0, top: 16.0, bottom: 48.0)

    /// One metric (y) against one param (x): a circle per experiment that has both values.
    static func scatter(x: Axis, y: Axis, points: [(name: String, x: ParamValue?, y: ParamValue?)], colour: [String: String]) -> String {
        let e = MarkupText.escape, f = PlotsHTML.f
        let w = size.width - margin.left - margin.right, h = size.height - margin.top - margin.bottom
        // The frame's edges, and the data inset 5% from them (no point sits on an axis).
        let x0 = margin.left, x1 = margin.left + w, y0 = margin.top + h, y1 = margin.top
        func sx(_ t: Double) -> Double { margin.left + (0.05 + 0.9 * t) * w }
        func sy(_ t: Double) -> Double { margin.top + h - (0.05 + 0.9 * t) * h }
        let drawn = points.compactMap { p -> (String, Double, Double, ParamValue, ParamValue)? in
            guard let a = x.fraction(p.x), let b = y.fraction(p.y), let vx = p.x, let vy = p.y else { return nil }
            return (p.name, a, b, vx, vy)
        }
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"scatter\" data-x=\"\(e(x.title))\" data-y=\"\(e(y.title))\" data-points=\"\(drawn.count)\" width=\"\(Int(size.width))\" height=\"\(Int(size.height))\">\n"
        svg += "<g class=\"axes\" stroke=\"#999\"><line x1=\"\(f(x0))\" y1=\"\(f(y0))\" x2=\"\(f(x1))\" y2=\"\(f(y0))\"/><line x1=\"\(f(x0))\" y1=\"\(f(y0))\" x2=\"\(f(x0))\" y2=\"\(f(y1))\"/></g>\n"
        for (t, label) in x.labels {
            svg += "<text x=\"\(f(sx(t)))\" y=\"\(f(y0 + 14))\" text-anchor=\"middle\">\(e(clip(label)))</text>"
        }
        for (t, label) in y.labels {
            svg += "<line x1=\"\(f(x0))\" y1=\"\(f(sy(t)))\" x2=\"\(f(x1))\" y2=\"\(f(sy(t)))\" stroke=\"#eee\"/><text x=\"\(f(x0 - 4))\" y=\"\(f(sy(t) + 4))\" text-anchor=\"end\">\(e(clip(label)))</text>"
        }
        svg += "\n<text class=\"axis-title\" x=\"\(f(sx(0.5)))\" y=\"\(f(size.height - 10))\" text-anchor=\"middle\">\(e(x.title))</text>"
        svg += "<text class=\"axis-title\" transform=\"translate(14 \(f(sy(0.5)))) rotate(-90)\" text-anchor=\"middle\">\(e(y.title))</text>\n"
        for (name, a, b, vx, vy) in drawn {
            svg += "<circle class=\"point\" data-experiment=\"\(e(name))\" cx=\"\(f(sx(a)))\" cy=\"\(f(sy(b)))\" r=\"5\" fill=\"\(colour[name] ?? "#333")\">"
            svg += "<title>\(e("\(name): \(x.title) = \(cell(vx)), \(y.title) = \(cell(vy))"))</title></circle>\n"
        }
        return svg + "</svg>\n"
    }

    /// A vertical axis per column (params first, then metrics) and a line per experiment,
    /// broken where a value is missing.
    static func parallel(_ axes: [Axis], rows: [ExperimentTable.Row], colour: [String: String]) -> String {
        let e = MarkupText.escape, f = PlotsHTML.f
        let gap = 140.0, left = 80.0, top = 40.0, height = 300.0
        let width = left * 2 + gap * Double(max(axes.count - 1, 1))
        func ax(_ i: Int) -> Double { left + gap * Double(i) }
        func ay(_ t: Double) -> Double { top + height - t * height }
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"parallel\" data-axes=\"\(axes.count)\" width=\"\(Int(width))\" height=\"\(Int(top + height + 40))\">\n"
        for (i, a) in axes.enumerated() {
            svg += "<g class=\"axis\" data-kind=\"\(a.kind)\"><line x1=\"\(f(ax(i)))\" y1=\"\(f(ay(0)))\" x2=\"\(f(ax(i)))\" y2=\"\(f(ay(1)))\" stroke=\"#999\"/>"
            svg += "<text class=\"axis-title\" x=\"\(f(ax(i)))\" y=\"\(f(top - 16))\" text-anchor=\"middle\">\(e(a.title))</text>"
            for (t, label) in a.labels {
                svg += "<text x=\"\(f(ax(i) - 4))\" y=\"\(f(ay(t) + 4))\" text-anchor=\"end\">\(e(clip(label)))</text>"
            }
            svg += "</g>\n"
        }
        for r in rows {
            var d = "", pen = false
            for (i, a) in axes.enumerated() {
                guard let t = a.fraction(r.values[i]) else { pen = false; continue }
                d += (pen ? "L" : "M") + "\(f(ax(i))) \(f(ay(t)))"
                pen = true
            }
            svg += "<path class=\"line\" data-experiment=\"\(e(r.name))\" stroke=\"\(colour[r.name] ?? "#333")\" d=\"\(d.isEmpty ? "M0 0" : d)\"><title>\(e(r.name))</title></path>\n"
        }
        return svg + "</svg>\n"
    }

    /// A tick label of at most 24 characters.
    static func clip(_ s: String) -> String { s.count > 24 ? String(s.prefix(23)) + "…" : s }

    /// A value as a table cell or tooltip (numbers rounded to 6 decimals).
    static func cell(_ v: ParamValue) -> String {
        if case .double(let d) = v, PlotData.plottable(d) { return PlotsHTML.label(d) }
        return v.description
    }
}
