import MLVSupport
internal import TOMLKit

extension ParamsFile {
    /// A TOML params file as a value (tables in key order, as toml++ keeps them; dates as text).
    static func parseTOML(_ text: String, path: String) throws -> ParamValue {
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let e as TOMLParseError {
            throw YAMLError(file: path, line: e.source.begin.line, column: e.source.begin.column, problem: "invalid TOML: \(e.description)")
        }
        var budget = ParamValue.nodeBudget
        return try convert(table.tomlValue, path: path, budget: &budget)
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
