import ArgumentParser
import Foundation
import MLVKit
import MLVSupport

/// `--json` and `--md` for the params and metrics commands.
struct TableFormatOptions: ParsableArguments {
    @Flag(help: "Print JSON.")
    var json = false

    @Flag(help: "Print a Markdown table.")
    var md = false
}

/// `--precision N` of the metrics commands (DVC's): digits after the decimal point in the tables.
struct PrecisionOption: ParsableArguments {
    @Option(help: "Digits after the decimal point in the table, as DVC rounds them (JSON keeps them all).")
    var precision: Int = 5

    func validate() throws {
        if !(1...17).contains(precision) { throw ValidationError("--precision takes 1 to 17 digits") }
    }
}

enum ValueTableOutput {
    /// Prints `table`: an aligned text table, Markdown, or JSON (`{file: {key: {column: value}}}`).
    /// `change` adds a column with the numeric difference between the first two columns.
    /// `precision`: significant digits of floating-point numbers (nil: as written).
    static func print(_ table: ValueTable, keyTitle: String, format: TableFormatOptions, change: Bool = false, precision: Int? = nil,
                      empty: String) throws {
        if format.json {
            var obj: [String: Any] = [:]
            for row in table.rows {
                var file = obj[row.file] as? [String: Any] ?? [:]
                var cols: [String: Any] = [:]
                for (c, v) in zip(table.columns, row.values) { cols[c] = v.map(json) ?? NSNull() }
                file[row.key] = cols
                obj[row.file] = file
            }
            try Console.json(obj)
            return
        }
        if table.rows.isEmpty {
            Console.line(empty)
            return
        }
        var header = ["Path", keyTitle] + table.columns
        if change { header.append("Change") }
        var lines = [header]
        for row in table.rows {
            var line = [row.file, row.key] + row.values.map { $0.map { text($0, precision: precision) } ?? "-" }
            if change { line.append(difference(row.values.first ?? nil, row.values.dropFirst().first ?? nil, precision: precision ?? 5)) }
            lines.append(line)
        }
        // One cell, one line: a line break or control character from a file is shown escaped.
        lines = lines.map { $0.map { TerminalText.visible($0) } }
        if format.md {
            // In a Markdown table a '|' would end the cell.
            func cell(_ s: String) -> String { s.replacingOccurrences(of: "|", with: "\\|") }
            Console.line("| " + lines[0].map(cell).joined(separator: " | ") + " |")
            Console.line("|" + header.map { _ in "---|" }.joined())
            for l in lines.dropFirst() { Console.line("| " + l.map(cell).joined(separator: " | ") + " |") }
            return
        }
        let widths = header.indices.map { i in lines.map { $0[i].count }.max() ?? 0 }
        for l in lines {
            let cells = l.enumerated().map { i, s in i == l.count - 1 ? s : s.padding(toLength: widths[i], withPad: " ", startingAt: 0) }
            Console.line(cells.joined(separator: "  "))
        }
    }

    static func text(_ v: ParamValue, precision: Int? = nil) -> String {
        switch v {
        case .list(let items): return "[" + items.map { text($0, precision: precision) }.joined(separator: ", ") + "]"
        case .double(let d) where !d.isFinite: return d.isNaN ? "nan" : d < 0 ? "-inf" : "inf"
        case .double(let d) where precision != nil: return rounded(d, precision!)
        default: return v.description
        }
    }

    static func number(_ v: ParamValue?) -> Double? {
        switch v {
        case .int(let i)?: return Double(i)
        case .double(let d)?: return d
        default: return nil
        }
    }

    static func difference(_ a: ParamValue?, _ b: ParamValue?, precision: Int = 5) -> String {
        guard let x = number(a), let y = number(b) else { return "-" }
        let d = y - x
        if case .int? = a, case .int? = b { return String(Int(d)) }
        return rounded(d, precision)
    }

    /// DVC's `--precision N`: rounded to N digits after the decimal point, then written as
    /// briefly as it reads back (Python's `round` and `repr`: 12.3456789 → 12.34568, 2.0 → 2.0,
    /// 0.000012 → 1e-05).
    static func rounded(_ d: Double, _ digits: Int) -> String {
        guard d.isFinite else { return d.isNaN ? "nan" : d < 0 ? "-inf" : "inf" }
        let scale = pow(10.0, Double(digits))
        let r = (d * scale).rounded(.toNearestOrEven) / scale
        return r.isFinite ? "\(r == 0 ? 0 : r)" : "\(d)"
    }

    static func json(_ v: ParamValue) -> Any {
        switch v {
        case .null: return NSNull()
        case .bool(let b): return b
        case .int(let i): return i
        case .double(let d): return d.isFinite ? d : v.description as Any
        case .string(let s): return s
        case .list(let items): return items.map(json)
        case .dict(let pairs): return Dictionary(pairs.map { ($0.key, json($0.value)) }, uniquingKeysWith: { a, _ in a })
        }
    }
}
