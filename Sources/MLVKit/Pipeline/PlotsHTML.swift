import Foundation
import MLVSupport

/// Plots as one self-contained HTML page: inline SVG (no script, nothing fetched), one colour
/// per revision and a dash pattern per field, images embedded as data URLs side by side.
package enum PlotsHTML {
    static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2"]
    static let dashes = ["", "6 3", "2 3", "8 3 2 3"]
    static let width = 640.0, height = 360.0
    static let left = 64.0, right = 170.0, top = 36.0, bottom = 48.0

    package static func render(_ plots: [PlotData], title: String = "mlv plots") -> String {
        var html = """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>\(MarkupText.escape(title))</title>
        <style>
        body{font-family:sans-serif;margin:24px;color:#222}
        section{margin:0 0 32px}
        h2{font-size:16px;margin:0 0 8px}
        svg{background:#fff;border:1px solid #ddd}
        svg text{font-size:11px;fill:#333}
        .images{display:flex;gap:16px;flex-wrap:wrap}
        figure{margin:0}
        figure img{max-width:320px;border:1px solid #ddd}
        figcaption{font-size:12px;text-align:center}
        .empty{color:#888;font-style:italic}
        </style></head><body>
        <h1>\(MarkupText.escape(title))</h1>

        """
        for (i, p) in plots.enumerated() {
            html += "<section id=\"plot-\(i)\" data-plot=\"\(MarkupText.escape(p.spec.id))\">\n<h2>\(MarkupText.escape(p.spec.title ?? p.spec.id))</h2>\n"
            if p.spec.isImage {
                html += images(p)
            } else if p.spec.template == .confusion {
                html += p.confusion.isEmpty ? "<p class=\"empty\">no data</p>\n" : "<div class=\"images\">\n" + p.confusion.map(confusion).joined() + "</div>\n"
            } else {
                html += lines(p)
            }
            if p.skippedPoints > 0 {
                html += "<p class=\"skipped\">\(p.skippedPoints) row\(p.skippedPoints == 1 ? "" : "s") left out: not a finite number within ±1e15, or past \(PlotData.maxLabels) classes</p>\n"
            }
            html += "</section>\n"
        }
        return html + "</body></html>\n"
    }

    static func images(_ p: PlotData) -> String {
        guard !p.images.isEmpty else { return "<p class=\"empty\">no image</p>\n" }
        var out = "<div class=\"images\">\n"
        let type: String = {
            let l = p.spec.y[0].file.lowercased()
            if l.hasSuffix(".svg") { return "image/svg+xml" }
            if l.hasSuffix(".gif") { return "image/gif" }
            if l.hasSuffix(".jpg") || l.hasSuffix(".jpeg") { return "image/jpeg" }
            return "image/png"
        }()
        for (rev, bytes) in p.images {
            out += "<figure><img alt=\"\(MarkupText.escape(rev))\" src=\"data:\(type);base64,\(Data(bytes).base64EncodedString())\"><figcaption>\(MarkupText.escape(rev))</figcaption></figure>\n"
        }
        return out + "</div>\n"
    }

    static func lines(_ p: PlotData) -> String {
        let all = p.series.flatMap(\.points)
        guard !all.isEmpty else { return "<p class=\"empty\">no data</p>\n" }
        let (x0, x1, xTicks) = axis(all.map(\.x))
        let (y0, y1, yTicks) = axis(all.map(\.y))
        let plotW = width - left - right, plotH = height - top - bottom
        func sx(_ x: Double) -> Double { left + (x - x0) / (x1 - x0) * plotW }
        func sy(_ y: Double) -> Double { top + plotH - (y - y0) / (y1 - y0) * plotH }
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\">\n"
        svg += "<g class=\"axes\" stroke=\"#999\">"
        svg += "<line x1=\"\(f(left))\" y1=\"\(f(top + plotH))\" x2=\"\(f(left + plotW))\" y2=\"\(f(top + plotH))\"/>"
        svg += "<line x1=\"\(f(left))\" y1=\"\(f(top))\" x2=\"\(f(left))\" y2=\"\(f(top + plotH))\"/></g>\n"
        for t in xTicks {
            svg += "<line x1=\"\(f(sx(t)))\" y1=\"\(f(top + plotH))\" x2=\"\(f(sx(t)))\" y2=\"\(f(top + plotH + 4))\" stroke=\"#999\"/>"
            svg += "<text x=\"\(f(sx(t)))\" y=\"\(f(top + plotH + 16))\" text-anchor=\"middle\">\(label(t))</text>\n"
        }
        for t in yTicks {
            svg += "<line x1=\"\(f(left))\" y1=\"\(f(sy(t)))\" x2=\"\(f(left + plotW))\" y2=\"\(f(sy(t)))\" stroke=\"#eee\"/>"
            svg += "<text x=\"\(f(left - 6))\" y=\"\(f(sy(t) + 4))\" text-anchor=\"end\">\(label(t))</text>\n"
        }
        let xName = p.spec.xLabel ?? p.spec.x.values.first ?? "step"
        svg += "<text x=\"\(f(left + plotW / 2))\" y=\"\(f(height - 8))\" text-anchor=\"middle\">\(MarkupText.escape(xName))</text>\n"
        if let yl = p.spec.yLabel {
            svg += "<text transform=\"translate(14 \(f(top + plotH / 2))) rotate(-90)\" text-anchor=\"middle\">\(MarkupText.escape(yl))</text>\n"
        }
        let revisions = unique(p.series.map(\.revision))
        let labels = unique(p.series.map(\.label))
        for (k, s) in p.series.enumerated() {
            let colour = palette[(revisions.firstIndex(of: s.revision) ?? 0) % palette.count]
            let dash = dashes[(labels.firstIndex(of: s.label) ?? 0) % dashes.count]
            let name = MarkupText.escape("\(s.revision): \(s.label)")
            if p.spec.template == .scatter {
                svg += "<g class=\"series\" data-series=\"\(name)\" data-points=\"\(s.points.count)\" fill=\"\(colour)\">"
                for pt in s.points { svg += "<circle cx=\"\(f(sx(pt.x)))\" cy=\"\(f(sy(pt.y)))\" r=\"3\"/>" }
                svg += "</g>\n"
            } else {
                let pts = s.points.map { "\(f(sx($0.x))),\(f(sy($0.y)))" }.joined(separator: " ")
                svg += "<polyline class=\"series\" data-series=\"\(name)\" data-points=\"\(s.points.count)\" fill=\"none\" stroke=\"\(colour)\" stroke-width=\"2\""
                svg += dash.isEmpty ? "" : " stroke-dasharray=\"\(dash)\""
                svg += " points=\"\(pts)\"/>\n"
            }
            let ly = top + 14 * Double(k)
            svg += "<line x1=\"\(f(width - right + 12))\" y1=\"\(f(ly))\" x2=\"\(f(width - right + 32))\" y2=\"\(f(ly))\" stroke=\"\(colour)\" stroke-width=\"2\"\(dash.isEmpty ? "" : " stroke-dasharray=\"\(dash)\"")/>"
            svg += "<text class=\"legend\" x=\"\(f(width - right + 36))\" y=\"\(f(ly + 4))\">\(name)</text>\n"
        }
        return svg + "</svg>\n"
    }

    static func confusion(_ c: (revision: String, labels: [String], counts: [[Int]])) -> String {
        let n = max(1, c.labels.count)
        let cell = min(48.0, 360.0 / Double(n))
        let size = 80 + cell * Double(n)
        let maxCount = max(1, c.counts.flatMap { $0 }.max() ?? 1)
        var svg = "<figure><svg xmlns=\"http://www.w3.org/2000/svg\" class=\"confusion\" width=\"\(Int(size))\" height=\"\(Int(size))\">\n"
        for (i, l) in c.labels.enumerated() {
            svg += "<text x=\"\(f(80 + cell * (Double(i) + 0.5)))\" y=\"70\" text-anchor=\"middle\">\(MarkupText.escape(l))</text>"
            svg += "<text x=\"74\" y=\"\(f(80 + cell * (Double(i) + 0.5) + 4))\" text-anchor=\"end\">\(MarkupText.escape(l))</text>\n"
        }
        for (i, row) in c.counts.enumerated() {
            for (j, count) in row.enumerated() {
                let shade = Int(255 - 200 * Double(count) / Double(maxCount))
                svg += "<rect class=\"cell\" data-actual=\"\(MarkupText.escape(c.labels[i]))\" data-predicted=\"\(MarkupText.escape(c.labels[j]))\" data-count=\"\(count)\" x=\"\(f(80 + cell * Double(j)))\" y=\"\(f(80 + cell * Double(i)))\" width=\"\(f(cell))\" height=\"\(f(cell))\" fill=\"rgb(\(shade),\(shade),255)\" stroke=\"#fff\"/>"
                svg += "<text x=\"\(f(80 + cell * (Double(j) + 0.5)))\" y=\"\(f(80 + cell * (Double(i) + 0.5) + 4))\" text-anchor=\"middle\">\(count)</text>\n"
            }
        }
        svg += "<text x=\"\(f(80 + cell * Double(n) / 2))\" y=\"50\" text-anchor=\"middle\">predicted</text>"
        svg += "<text transform=\"translate(12 \(f(80 + cell * Double(n) / 2))) rotate(-90)\" text-anchor=\"middle\">actual</text>\n"
        return svg + "</svg><figcaption>\(MarkupText.escape(c.revision))</figcaption></figure>\n"
    }

    /// A range with round ends and about five round ticks.
    static func axis(_ values: [Double]) -> (Double, Double, [Double]) {
        var lo = values.min() ?? 0, hi = values.max() ?? 1
        // Values are within ±1e15 (PlotData.plottable), so the width never overflows; a width
        // too small for ticks to step through is widened as a single value is.
        if hi - lo <= max(abs(lo), abs(hi)) * 1e-9 { lo -= 1; hi += 1 }
        let raw = (hi - lo) / 5
        let mag = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 5, 10].map { $0 * mag }.first { $0 >= raw } ?? raw
        let start = floor(lo / step) * step, end = ceil(hi / step) * step
        var ticks: [Double] = []
        var t = start
        while t <= end + step / 2 && ticks.count < 20 { ticks.append(t); t += step }
        return (start, end, ticks)
    }

    /// A coordinate with one decimal (0 for what cannot be one: never a trap converting to Int).
    static func f(_ x: Double) -> String {
        let tenths = (x * 10).rounded()
        guard tenths.isFinite, abs(tenths) < 1e15 else { return "0" }
        return String(Double(Int(tenths)) / 10)
    }
    static func label(_ x: Double) -> String {
        let r = (x * 1e6).rounded() / 1e6
        return r == r.rounded() && abs(r) < 1e15 ? String(Int(r)) : String(r)
    }

    static func unique(_ xs: [String]) -> [String] {
        var seen = Set<String>()
        return xs.filter { seen.insert($0).inserted }
    }
}
