import MLVSupport
internal import TOMLKit

extension ParamsFile {
    /// A TOML params file as a value (tables in key order, as toml++ keeps them; dates as text).
    static func parseTOML(_ text: String, path: String) throws -> ParamValue {
        try checkTOMLDepth(text, path: path)
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let e as TOMLParseError {
            throw YAMLError(file: path, line: e.source.begin.line, column: e.source.begin.column, problem: "invalid TOML: \(e.description)")
        }
        var budget = ParamValue.nodeBudget
        return try convert(table.tomlValue, path: path, budget: &budget)
    }

    /// The deepest nesting a TOML file may describe: dotted keys and table headers, arrays and
    /// inline tables. The parser (toml++) and the conversion both recurse per level, so a 100 KB
    /// header of 50,000 parts would overflow the stack: refused before parsing.
    static let maxTOMLDepth = 64

    /// A lexical pass (strings and comments skipped) that counts, per line, the dots before the
    /// first `=` (a key or a `[table.header]`), and the open `[`/`{` across lines. It also checks
    /// that a table header starts with a key: toml++ assumes so there (an assert in debug builds,
    /// undefined behaviour in release ones: `[}a]` aborted mlv).
    static func checkTOMLDepth(_ text: String, path: String) throws {
        var line = 1, dots = 0, open = 0, braces = 0
        var lineStart = true
        var sawEquals = false
        var quote: UInt8? = nil, multiline = false, escaped = false
        var inComment = false
        let b = Array(text.utf8)
        var i = 0
        func tooDeep() -> YAMLError {
            YAMLError(file: path, line: line, column: 1, problem: "nested deeper than \(maxTOMLDepth) levels")
        }
        while i < b.count {
            let c = b[i]
            if c == 10 { line += 1; dots = 0; sawEquals = false; inComment = false; if quote != nil && !multiline { quote = nil } }
            if inComment { i += 1; continue }
            if let q = quote {
                if escaped { escaped = false } else if c == 92 && q == 34 { escaped = true } else if c == q {
                    if multiline {
                        if i + 2 < b.count && b[i + 1] == q && b[i + 2] == q { quote = nil; multiline = false; i += 3; continue }
                    } else { quote = nil }
                }
                i += 1
                continue
            }
            if c != 32 && c != 9 && c != 10 && c != 13 {
                if lineStart && c == 91 && open == 0 {
                    var j = i + 1
                    if j < b.count && b[j] == 91 { j += 1 }
                    while j < b.count && (b[j] == 32 || b[j] == 9) { j += 1 }
                    let k = j < b.count ? b[j] : 0
                    let bareOrQuote = (k >= 65 && k <= 90) || (k >= 97 && k <= 122) || (k >= 48 && k <= 57) || k == 95 || k == 45 || k == 34 || k == 39
                    if !bareOrQuote && k != 93 {
                        throw YAMLError(file: path, line: line, column: 1, problem: "invalid TOML: a table header must start with a key")
                    }
                }
                lineStart = false
            }
            if c == 10 { lineStart = true }
            switch c {
            case 35: inComment = true
            case 34, 39:
                multiline = i + 2 < b.count && b[i + 1] == c && b[i + 2] == c
                quote = c
                i += multiline ? 3 : 1
                continue
            case 46 where !sawEquals:
                dots += 1
                if dots > maxTOMLDepth { throw tooDeep() }
            case 61: sawEquals = true
            case 44 where braces > 0: sawEquals = false; dots = 0   // the next key of an inline table
            case 91, 123:
                open += 1
                if open > maxTOMLDepth { throw tooDeep() }
                if c == 123 { braces += 1; sawEquals = false; dots = 0 }
            case 93, 125:
                open = max(0, open - 1)
                if c == 125 { braces = max(0, braces - 1) }
            default: break
            }
            i += 1
        }
    }

    private static func convert(_ v: TOMLValue, path: String, budget: inout Int) throws -> ParamValue {
        budget -= 1
        guard budget >= 0 else { throw PipelineError.fileTooLarge(path: path, limit: "\(ParamValue.nodeBudget) values") }
        switch v.type {
        case .table:
            guard let t = v.table else { return .dict([]) }
            return .dict(try zip(t.keys, t.values).map { ($0, try convert($1, path: path, budget: &budget)) })
        case .array:
            guard let a = v.array else { return .list([]) }
            return .list(try a.map { try convert($0.tomlValue, path: path, budget: &budget) })
        case .string: return .string(v.string ?? "")
        case .int: return v.int.map(ParamValue.int) ?? .null
        case .double: return v.double.map(ParamValue.double) ?? .null
        case .bool: return v.bool.map(ParamValue.bool) ?? .null
        case .date, .time, .dateTime: return .string(v.debugDescription)
        }
    }
}
