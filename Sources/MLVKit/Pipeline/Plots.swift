import MLVSupport
import Yams

/// One plot to draw: a data file's fields (or several files' fields), or an image.
package struct PlotSpec: Equatable, Sendable {
    package enum Template: String, Sendable, CaseIterable { case simple, linear, scatter, confusion }

    package var id: String
    /// (file, y field); a nil field means every numeric field but x.
    package var y: [(file: String, field: String?)]
    /// x field per file; nil: the row number (`step`).
    package var x: [String: String]
    package var template: Template = .linear
    package var title: String?
    package var xLabel: String?
    package var yLabel: String?
    /// An image file (png, jpg, gif, svg): shown side by side per revision.
    package var isImage = false

    package static func == (a: PlotSpec, b: PlotSpec) -> Bool {
        a.id == b.id && a.y.map { "\($0.file)\u{0}\($0.field ?? "")" } == b.y.map { "\($0.file)\u{0}\($0.field ?? "")" }
            && a.x == b.x && a.template == b.template && a.title == b.title && a.xLabel == b.xLabel && a.yLabel == b.yLabel && a.isImage == b.isImage
    }

    static let imageSuffixes = [".png", ".jpg", ".jpeg", ".gif", ".svg"]
    static func isImagePath(_ p: String) -> Bool { imageSuffixes.contains { p.lowercased().hasSuffix($0) } }
}

/// What one plot shows for one revision.
package struct PlotData: Sendable {
    package struct Series: Sendable {
        package var revision: String
        package var label: String
        package var points: [(x: Double, y: Double)]
    }
    package var spec: PlotSpec
    package var series: [Series] = []
    /// Confusion template: per revision, (actual, predicted) → count.
    package var confusion: [(revision: String, labels: [String], counts: [[Int]])] = []
    /// Images: per revision, the file's bytes.
    package var images: [(revision: String, bytes: [UInt8])] = []
    /// Rows left out: x or y not a finite number within ±`maxMagnitude`, or (confusion) past
    /// `maxLabels` classes.
    package var skippedPoints = 0

    /// The largest |x| or |y| plotted: beyond it a range's width or its ticks overflow.
    package static let maxMagnitude = 1e15
    /// The most classes a confusion matrix shows (it draws every cell: 100 × 100 is 10,000
    /// cells, some 3 MB of SVG, and already too small to read).
    package static let maxLabels = 100

    static func plottable(_ v: Double) -> Bool { v.isFinite && abs(v) <= maxMagnitude }
}

extension PipelineFile {
    /// A plot from a stage's `plots` entry (`file`) or a named top-level entry (`file` nil),
    /// with its options: `x`, `y` (a field, a list, or a file→field map), `template`, `title`,
    /// `x_label`, `y_label`.
    static func spec(id: String, file: String?, _ options: YAMLNode?) throws -> PlotSpec {
        var s = PlotSpec(id: id, y: [], x: [:])
        if let file, PlotSpec.isImagePath(file) {
            s.isImage = true
            s.y = [(file, nil)]
            return s
        }
        var yFields: [(String, String?)] = []
        var xField: String?
        if let options {
            let fields = try options.mapping("the options of '\(id)'")
            try options.checkKeys(fields, allowed: plotKeys + ["cache", "persist"], in: "the options of '\(id)'")
            for (k, _, v) in fields {
                switch k {
                case "template":
                    let t = try v.string("'template'")
                    guard let template = PlotSpec.Template(rawValue: t) else {
                        throw v.error("unknown template '\(t)'", hint: Suggestion.closest(to: t, in: PlotSpec.Template.allCases.map(\.rawValue)).map { "did you mean '\($0)'?" })
                    }
                    s.template = template
                case "title": s.title = try v.string("'title'")
                case "x_label": s.xLabel = try v.string("'x_label'")
                case "y_label": s.yLabel = try v.string("'y_label'")
                case "x":
                    if v.node.mapping != nil {
                        for (f, fNode, field) in try v.mapping("'x'") { s.x[try stagePath(f, wdir: ".", at: fNode)] = try field.string("an 'x' field") }
                    } else {
                        xField = try v.string("'x'")
                    }
                case "y":
                    if v.node.mapping != nil {
                        for (f, fNode, field) in try v.mapping("'y'") {
                            let path = try stagePath(f, wdir: ".", at: fNode)
                            let names = field.node.sequence != nil ? try field.sequence("'y'").map { try $0.string("a 'y' field") } : [try field.string("a 'y' field")]
                            for n in names { yFields.append((path, n)) }
                        }
                    } else if let file {
                        let names = v.node.sequence != nil ? try v.sequence("'y'").map { try $0.string("a 'y' field") } : [try v.string("'y'")]
                        for n in names { yFields.append((file, n)) }
                    } else {
                        throw v.error("a named plot's 'y' must map files to fields ({file.csv: field})")
                    }
                default: break
                }
            }
        }
        if yFields.isEmpty {
            guard let file else { throw (options ?? YAMLNode(node: "", file: fileName)).error("plot '\(id)' names no file: give 'y' as {file.csv: field}") }
            if PlotSpec.isImagePath(file) { s.isImage = true }
            yFields = [(file, nil)]
        }
        s.y = yFields
        if let xField { for (f, _) in yFields where s.x[f] == nil { s.x[f] = xField } }
        return s
    }
}

/// Rows of a plot data file: CSV/TSV with a header, or JSON/YAML holding a list of records
/// (or a mapping whose first list is).
enum PlotRecords {
    static func parse(_ bytes: [UInt8], file: String) throws -> [[(key: String, value: ParamValue)]] {
        let lower = file.lowercased()
        if lower.hasSuffix(".csv") || lower.hasSuffix(".tsv") {
            let sep: Character = lower.hasSuffix(".tsv") ? "\t" : ","
            let lines = String(decoding: bytes, as: UTF8.self).split(whereSeparator: \.isNewline).filter { !$0.isEmpty }
            guard let header = lines.first else { return [] }
            let names = header.split(separator: sep, omittingEmptySubsequences: false).map { String($0).trimmingCharacters(in: " ") }
            return lines.dropFirst().prefix(1_000_000).map { line in
                zip(names, line.split(separator: sep, omittingEmptySubsequences: false)).map { ($0, ParamValue.lenient(ParamValue.typed(String($1).trimmingCharacters(in: " ")), plain: true)) }
            }
        }
        guard let doc = try YAMLNode.parse(String(decoding: bytes, as: UTF8.self), file: file) else { return [] }
        var value = try ParamValue.lenientTree(doc.node, file: file)
        if case .dict(let pairs) = value, let list = pairs.first(where: { if case .list = $0.value { return true }; return false }) { value = list.value }
        guard case .list(let items) = value else { return [] }
        return items.compactMap { if case .dict(let pairs) = $0 { return pairs }; return nil }
    }

    static func number(_ v: ParamValue?) -> Double? {
        switch v {
        case .int(let i)?: return Double(i)
        case .double(let d)?: return d
        case .bool(let b)?: return b ? 1 : 0
        default: return nil
        }
    }
}

extension PipelineView {
    /// `mlv plots show|diff`: every plot's data at each revision (nil: the workspace).
    package func plotsData(_ revisions: [String?], targets: [String] = []) throws -> [PlotData] {
        guard let pipeline = try PipelineFile.load(in: ws) else { throw try PipelineFile.missing(in: ws) }
        var specs = pipeline.stages.flatMap { $0.outs.compactMap(\.plot) } + pipeline.plots
        if !targets.isEmpty {
            specs = specs.filter { s in targets.contains(s.id) || s.y.contains { targets.contains($0.file) } }
        }
        var reader = try RevisionReader(ws)
        for case let r? in revisions { try reader.checkRevision(r) }
        // A folder of data files (dvclive's `plots/metrics`) is one plot per file.
        var expanded: [PlotSpec] = []
        for spec in specs {
            guard !spec.isImage, spec.y.count == 1, spec.y[0].field == nil else { expanded.append(spec); continue }
            let folder = spec.y[0].file
            var files: [String] = []
            for r in revisions { for f in try reader.folderFiles(folder, at: r) ?? [] where !files.contains(f) { files.append(f) } }
            guard !files.isEmpty else { expanded.append(spec); continue }
            for f in files.sorted() {
                var s = spec
                s.id = f
                s.title = spec.title.map { "\($0): \(f.dropFirst(folder.count + 1))" }
                s.y = [(f, nil)]
                s.x = spec.x[folder].map { [f: $0] } ?? [:]
                s.isImage = PlotSpec.isImagePath(f)
                expanded.append(s)
            }
        }
        specs = expanded
        var out: [PlotData] = []
        for spec in specs {
            var data = PlotData(spec: spec)
            for r in revisions {
                let name = r ?? "workspace"
                if spec.isImage {
                    if let bytes = try reader.read(spec.y[0].file, at: r) { data.images.append((name, bytes)) }
                    continue
                }
                var cache: [String: [[(key: String, value: ParamValue)]]] = [:]
                func records(_ file: String) throws -> [[(key: String, value: ParamValue)]] {
                    if let c = cache[file] { return c }
                    let rows = try reader.read(file, at: r).map { try PlotRecords.parse($0, file: r.map { "\($0):\(file)" } ?? file) } ?? []
                    cache[file] = rows
                    return rows
                }
                if spec.template == .confusion {
                    // One matrix per revision and file: x is the actual class, y the predicted.
                    for (file, predicted) in spec.y {
                        guard let predicted, let actual = spec.x[file] else { continue }
                        // Classes in a set, and no more than maxLabels: rows naming more are
                        // skipped before any work per class (a hostile file holds 40,000 rows).
                        var seen = Set<String>()
                        var pairs: [(String, String)] = []
                        for row in try records(file) {
                            guard let a = row.first(where: { $0.key == actual })?.value.description,
                                  let p = row.first(where: { $0.key == predicted })?.value.description else { continue }
                            let new = (seen.contains(a) ? 0 : 1) + (seen.contains(p) || a == p ? 0 : 1)
                            guard seen.count + new <= PlotData.maxLabels else { data.skippedPoints += 1; continue }
                            seen.insert(a); seen.insert(p)
                            pairs.append((a, p))
                        }
                        let labels = seen.sorted()
                        let index = Dictionary(uniqueKeysWithValues: labels.enumerated().map { ($1, $0) })
                        var counts = [[Int]](repeating: [Int](repeating: 0, count: labels.count), count: labels.count)
                        for (a, p) in pairs { counts[index[a]!][index[p]!] += 1 }
                        data.confusion.append((spec.y.count > 1 ? "\(name): \(file)" : name, labels, counts))
                    }
                    continue
                }
                for (file, field) in spec.y {
                    let rows = try records(file)
                    let xName = spec.x[file]
                    let fields = field.map { [$0] } ?? (rows.first ?? []).map(\.key).filter { k in k != xName && PlotRecords.number(rows.first?.first { $0.key == k }?.value) != nil }
                    for f in fields {
                        var points: [(x: Double, y: Double)] = []
                        for (i, row) in rows.enumerated() {
                            guard let y = PlotRecords.number(row.first { $0.key == f }?.value) else { continue }
                            let x = xName.flatMap { k in PlotRecords.number(row.first { $0.key == k }?.value) } ?? Double(i)
                            guard PlotData.plottable(x), PlotData.plottable(y) else { data.skippedPoints += 1; continue }
                            points.append((x, y))
                        }
                        let label = spec.y.count > 1 && Set(spec.y.map(\.file)).count > 1 ? "\(file): \(f)" : f
                        data.series.append(.init(revision: name, label: label, points: points))
                    }
                }
            }
            out.append(data)
        }
        return out
    }
}
