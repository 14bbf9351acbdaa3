import MLVGit
import MLVSupport
import Yams

/// Params or metrics side by side: one row per (file, flattened key), one column per revision.
package struct ValueTable: Sendable {
    /// Column names: a revision as given, or "workspace".
    package var columns: [String]
    package var rows: [Row]

    package struct Row: Sendable {
        package var file: String
        package var key: String
        /// One per column; nil where the file or key is missing.
        package var values: [ParamValue?]

        /// True when some two columns differ.
        package var changed: Bool { values.dropFirst().contains { $0 != values[0] } }
    }
}

extension ParamValue {
    /// Nested dicts flattened to dotted keys (`avg_prec.test`); lists and scalars are values.
    func flattened(_ prefix: String = "") -> [(key: String, value: ParamValue)] {
        guard case .dict(let pairs) = self else { return prefix.isEmpty ? [] : [(prefix, self)] }
        var out: [(key: String, value: ParamValue)] = []
        for (k, v) in pairs {
            let full = prefix.isEmpty ? k : prefix + "." + k
            if case .dict = v { out += v.flattened(full) } else { out.append((full, v)) }
        }
        return out
    }

    /// A metrics or params file's values: YAML or JSON (Python's `Infinity` and `NaN` read as
    /// numbers), or CSV/TSV (a header row; the last row's values).
    static func parseValues(_ bytes: [UInt8], file: String) throws -> ParamValue {
        let text = String(decoding: bytes, as: UTF8.self)
        let lower = file.lowercased()
        if lower.hasSuffix(".csv") || lower.hasSuffix(".tsv") {
            let sep: Character = lower.hasSuffix(".tsv") ? "\t" : ","
            let lines = text.split(whereSeparator: \.isNewline).filter { !$0.isEmpty }
            guard let header = lines.first, let last = lines.dropFirst().last else { return .dict([]) }
            let names = header.split(separator: sep, omittingEmptySubsequences: false).map(String.init)
            let cells = last.split(separator: sep, omittingEmptySubsequences: false).map(String.init)
            return .dict(zip(names, cells).map { ($0, lenient(ParamValue.typed($1), plain: true)) })
        }
        if lower.hasSuffix(".toml") { return try ParamsFile.parseTOML(text, path: file) }
        guard let doc = try YAMLNode.parse(text, file: file) else { return .dict([]) }
        return try lenientTree(doc.node, file: file)
    }

    static func lenient(_ v: ParamValue, plain: Bool) -> ParamValue {
        guard plain, case .string(let s) = v else { return v }
        switch s {
        case "Infinity", "inf": return .double(.infinity)
        case "-Infinity", "-inf": return .double(-.infinity)
        case "NaN", "nan": return .double(.nan)
        default: return v
        }
    }

    static func lenientTree(_ node: Node, file: String) throws -> ParamValue {
        var budget = nodeBudget
        func convert(_ n: Node) throws -> ParamValue {
            budget -= 1
            guard budget >= 0 else { throw YAMLNode(node: n, file: file).error("the document is too large") }
            switch n {
            case .scalar(let s): return s.style == .plain ? lenient(typed(s.string), plain: true) : .string(s.string)
            case .sequence(let seq): return .list(try seq.map(convert))
            case .mapping(let m):
                return .dict(try m.map { k, v in
                    guard let key = k.scalar?.string else { throw YAMLNode(node: k, file: file).error("keys must be strings") }
                    return (key, try convert(v))
                })
            case .alias: throw YAMLNode(node: n, file: file).error("unresolved alias")
            }
        }
        return try convert(node)
    }
}

extension PipelineView {
    /// `mlv params diff`, as DVC 3.67: every key of params.yaml and of the top-level `params`
    /// files, and the keys stages declare in other files (a whole file when declared so),
    /// flattened, at each revision (nil: the workspace); only changed rows unless `all`.
    package func paramsTable(_ revisions: [String?], all: Bool = false) throws -> ValueTable {
        let pipeline = try PipelineFile.load(in: ws)
        var files = [ParamsFile.defaultName]
        for s in pipeline?.stages ?? [] { for p in s.params where !files.contains(p.file) { files.append(p.file) } }
        for f in pipeline?.paramsFiles ?? [] where !files.contains(f) { files.append(f) }
        var t = try table(files, revisions, onlyChanged: !all)
        do {
            // As DVC 3.67 shows them: params.yaml and the top-level params files whole, other
            // files only the keys stages declare; `all` adds the unchanged rows.
            var declared: [String: [String]?] = [:]
            declared[ParamsFile.defaultName] = .some(nil)
            for f in pipeline?.paramsFiles ?? [] { declared[f] = .some(nil) }
            for s in pipeline?.stages ?? [] {
                for p in s.params {
                    if case .some(.none) = declared[p.file] { continue }
                    guard let keys = p.keys else { declared[p.file] = .some(nil); continue }
                    declared[p.file] = .some(((declared[p.file] ?? []) ?? []) + keys)
                }
            }
            t.rows = t.rows.filter { row in
                guard let entry = declared[row.file] else { return false }
                guard let keys = entry else { return true }
                return keys.contains { row.key == $0 || row.key.hasPrefix($0 + ".") || row.key.hasPrefix($0 + "[") }
            }
        }
        return t
    }

    /// `mlv metrics show|diff`: the pipeline's metrics files, flattened, at each revision.
    package func metricsTable(_ revisions: [String?], onlyChanged: Bool = false) throws -> ValueTable {
        let pipeline = try PipelineFile.load(in: ws)
        var files = (pipeline?.stages ?? []).flatMap { $0.outs.filter { $0.kind == .metric }.map(\.path) }
        for f in pipeline?.metricsFiles ?? [] where !files.contains(f) { files.append(f) }
        return try table(files, revisions, onlyChanged: onlyChanged, scalarsOnly: true)
    }

    /// `scalarsOnly`: lists (per-class tables, confusion matrices) are left out, as metrics.
    func table(_ files: [String], _ revisions: [String?], onlyChanged: Bool, scalarsOnly: Bool = false) throws -> ValueTable {
        var reader = try RevisionReader(ws)
        for case let r? in revisions { try reader.checkRevision(r) }
        var rows: [ValueTable.Row] = []
        for file in files {
            var columns: [[(key: String, value: ParamValue)]] = []
            for r in revisions {
                let shown = r.map { "\($0):\(file)" } ?? file
                var values = try reader.read(file, at: r).map { try ParamValue.parseValues($0, file: shown).flattened() } ?? []
                if scalarsOnly { values = values.filter { if case .list = $0.value { return false }; return true } }
                columns.append(values)
            }
            var keys: [String] = []
            var seen = Set<String>()
            for c in columns { for (k, _) in c where seen.insert(k).inserted { keys.append(k) } }
            for k in keys {
                let row = ValueTable.Row(file: file, key: k, values: columns.map { c in c.first { $0.key == k }?.value })
                if !onlyChanged || row.changed { rows.append(row) }
            }
        }
        return ValueTable(columns: revisions.map { $0 ?? "workspace" }, rows: rows)
    }
}
