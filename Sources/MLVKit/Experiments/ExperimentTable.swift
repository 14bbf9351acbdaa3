import MLVSupport

/// `mlv exp show`: one row per experiment, after the workspace and its baseline (HEAD); a
/// column for each param some stage declares whose value differs between rows, and for each
/// metric. Values are read through libgit2 from each experiment's commit.
package struct ExperimentTable: Sendable {
    package struct Column: Sendable, Equatable {
        package var kind: String   // "params" or "metrics"
        package var file: String
        package var key: String
        /// The header: the key, or `file:key` where two files have that key.
        package var title: String
    }

    package struct Row: Sendable {
        package var name: String
        /// The commit ("" for the workspace).
        package var commit: String
        package var baseline: String
        /// Seconds since 1970 (nil for the workspace).
        package var created: Int64?
        package var values: [ParamValue?]
    }

    package var columns: [Column]
    package var rows: [Row]

    /// The experiments (all, or those of `names`), with the workspace and HEAD as baselines.
    package static func build(_ ws: Workspace, experiments: [Experiments.Experiment]) throws -> ExperimentTable {
        let view = PipelineView(ws)
        var head = ""
        if let git = try ws.git() { head = (try? git.resolve("HEAD")) ?? "" }
        let revisions: [String?] = [nil] + (head.isEmpty ? [] : [head]) + experiments.map(\.commit)
        let params = try view.paramsTable(revisions, all: false)
        let metrics = try view.metricsTable(revisions)
        var columns: [Column] = []
        var columnValues: [[ParamValue?]] = []
        for (kind, table) in [("params", params), ("metrics", metrics)] {
            let keyCount = Dictionary(table.rows.map { ($0.key, 1) }, uniquingKeysWith: +)
            for row in table.rows {
                columns.append(Column(kind: kind, file: row.file, key: row.key, title: keyCount[row.key]! > 1 ? "\(row.file):\(row.key)" : row.key))
                columnValues.append(row.values)
            }
        }
        var rows: [Row] = []
        func values(_ i: Int) -> [ParamValue?] { columnValues.map { $0[i] } }
        rows.append(Row(name: "workspace", commit: "", baseline: head, created: nil, values: values(0)))
        if !head.isEmpty {
            let time = try ws.git()?.commitInfo(head).time
            rows.append(Row(name: "HEAD", commit: head, baseline: head, created: time, values: values(1)))
        }
        let first = head.isEmpty ? 1 : 2
        for (i, e) in experiments.enumerated() {
            rows.append(Row(name: e.name, commit: e.commit, baseline: e.baseline, created: e.time, values: values(first + i)))
        }
        return ExperimentTable(columns: columns, rows: rows)
    }

    /// The column a name means: `metrics.acc`, `params.train.lr`, a title, or a bare key.
    package func column(_ name: String) throws -> Int {
        let matches = columns.indices.filter { i in
            let c = columns[i]
            return c.title == name || c.key == name || "\(c.kind).\(c.key)" == name || "\(c.kind).\(c.title)" == name || "\(c.file):\(c.key)" == name
        }
        guard let first = matches.first else { throw ExperimentError.unknownColumn(name) }
        return first
    }

    /// Sorted by a column (rows without a value last); the workspace and HEAD stay first.
    package func sorted(by name: String, descending: Bool) throws -> ExperimentTable {
        let c = try column(name)
        var out = self
        let fixed = rows.prefix { $0.name == "workspace" || $0.name == "HEAD" }
        let rest = rows.dropFirst(fixed.count).enumerated().sorted { a, b in
            switch (a.element.values[c], b.element.values[c]) {
            case (nil, nil): return a.offset < b.offset
            case (nil, _): return false
            case (_, nil): return true
            case (let x?, let y?):
                if x == y { return a.offset < b.offset }
                return descending ? ExperimentFilter.less(y, x) : ExperimentFilter.less(x, y)
            }
        }.map(\.element)
        out.rows = Array(fixed) + rest
        return out
    }

    /// Only the experiments the filter keeps (the workspace and HEAD stay).
    package func filtered(_ expression: String) throws -> ExperimentTable {
        let filter = try ExperimentFilter(expression)
        var out = self
        out.rows = try rows.filter { row in
            if row.name == "workspace" || row.name == "HEAD" { return true }
            return try filter.matches { name in row.values[try column(name)] }
        }
        return out
    }
}

/// `--filter 'metrics.acc > 0.9 and params.train.batch_size == 32'`: comparisons of a column
/// with a number or a string (`==`, `!=`, `<`, `<=`, `>`, `>=`), joined with `and`, `or`,
/// `not` and parentheses. A row without the value fails the comparison.
package struct ExperimentFilter {
    indirect enum Expr {
        case compare(column: String, op: String, value: ParamValue)
        case and(Expr, Expr), or(Expr, Expr), not(Expr)
    }
    let expr: Expr
    let text: String

    package init(_ text: String) throws {
        self.text = text
        var tokens = try Self.tokenize(text)
        var pos = 0
        func fail(_ why: String) -> ExperimentError { .badFilter(text, why: why) }
        func peek() -> String? { pos < tokens.count ? tokens[pos] : nil }
        func take() -> String? { defer { pos += 1 }; return peek() }
        func orExpr() throws -> Expr {
            var e = try andExpr()
            while peek() == "or" { pos += 1; e = .or(e, try andExpr()) }
            return e
        }
        func andExpr() throws -> Expr {
            var e = try unary()
            while peek() == "and" { pos += 1; e = .and(e, try unary()) }
            return e
        }
        func unary() throws -> Expr {
            if peek() == "not" { pos += 1; return .not(try unary()) }
            if peek() == "(" {
                pos += 1
                let e = try orExpr()
                guard take() == ")" else { throw fail("a '(' is not closed") }
                return e
            }
            guard let column = take(), !["==", "!=", "<", "<=", ">", ">=", "(", ")", "and", "or", "not"].contains(column) else { throw fail("a column name is missing") }
            guard let op = take(), ["==", "!=", "<", "<=", ">", ">="].contains(op) else { throw fail("'\(column)' is not followed by a comparison (==, !=, <, <=, >, >=)") }
            guard let raw = take() else { throw fail("'\(column) \(op)' has no value") }
            return .compare(column: column, op: op, value: Self.value(raw))
        }
        guard !tokens.isEmpty else { throw fail("it is empty") }
        expr = try orExpr()
        guard pos == tokens.count else { throw fail("unexpected '\(tokens[pos])'") }
        tokens = []
    }

    static func value(_ raw: String) -> ParamValue {
        if raw.hasPrefix("'") || raw.hasPrefix("\"") { return .string(String(raw.dropFirst().dropLast())) }
        if let i = Int(raw) { return .int(i) }
        if let d = Double(raw) { return .double(d) }
        if raw == "true" || raw == "false" { return .bool(raw == "true") }
        return .string(raw)
    }

    static func tokenize(_ text: String) throws -> [String] {
        var out: [String] = []
        let chars = Array(text)
        var i = 0
        while i < chars.count {
            let c = chars[i]
            if c == " " || c == "\t" { i += 1; continue }
            if c == "(" || c == ")" { out.append(String(c)); i += 1; continue }
            if "=!<>".contains(c) {
                var op = String(c)
                if i + 1 < chars.count, chars[i + 1] == "=" { op.append("="); i += 1 }
                guard op != "=" && op != "!" else { throw ExperimentError.badFilter(text, why: "'\(op)' is not a comparison (write == or !=)") }
                out.append(op); i += 1; continue
            }
            if c == "'" || c == "\"" {
                var j = i + 1
                while j < chars.count, chars[j] != c { j += 1 }
                guard j < chars.count else { throw ExperimentError.badFilter(text, why: "a quote is not closed") }
                out.append(String(chars[i...j])); i = j + 1; continue
            }
            var j = i
            while j < chars.count, !" \t()=!<>".contains(chars[j]) { j += 1 }
            out.append(String(chars[i..<j])); i = j
        }
        return out
    }

    func matches(_ lookup: (String) throws -> ParamValue?) throws -> Bool {
        func eval(_ e: Expr) throws -> Bool {
            switch e {
            case .and(let a, let b): return try eval(a) && eval(b)
            case .or(let a, let b): return try eval(a) || eval(b)
            case .not(let a): return try !eval(a)
            case .compare(let column, let op, let value):
                guard let v = try lookup(column) else { return false }
                switch op {
                case "==": return Self.equal(v, value)
                case "!=": return !Self.equal(v, value)
                case "<": return Self.less(v, value)
                case "<=": return Self.less(v, value) || Self.equal(v, value)
                case ">": return Self.less(value, v)
                default: return Self.less(value, v) || Self.equal(v, value)
                }
            }
        }
        return try eval(expr)
    }

    static func number(_ v: ParamValue) -> Double? {
        switch v {
        case .int(let i): return Double(i)
        case .double(let d): return d
        default: return nil
        }
    }

    static func equal(_ a: ParamValue, _ b: ParamValue) -> Bool {
        if let x = number(a), let y = number(b) { return x == y }
        return a.description == b.description
    }

    static func less(_ a: ParamValue, _ b: ParamValue) -> Bool {
        if let x = number(a), let y = number(b) { return x < y }
        return a.description < b.description
    }
}
