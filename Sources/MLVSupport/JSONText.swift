/// The one deterministic JSON writer: string literals (pipeline files, metrics, run-cache keys)
/// and objects with a fixed key order (the engine's metrics, reports and checkpoint metadata),
/// so a file is byte-identical whenever its values are. Numbers use Swift's shortest
/// round-trip form.
package enum JSONText {
    /// A JSON string literal.
    package static func string(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 {
                    let hex = String(u.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        return out + "\""
    }

    /// A JSON array of already-encoded values.
    package static func array(_ items: [String]) -> String { "[" + items.joined(separator: ", ") + "]" }

    /// A JSON object of already-encoded values, keys in the given order; `indent` > 0 puts one
    /// key per line.
    package static func object(_ pairs: [(String, String)], indent: Int = 0) -> String {
        if indent == 0 {
            return "{" + pairs.map { "\(string($0.0)): \($0.1)" }.joined(separator: ", ") + "}"
        }
        let pad = String(repeating: " ", count: indent)
        return "{\n" + pairs.map { "\(pad)\(string($0.0)): \($0.1)" }.joined(separator: ",\n") + "\n}"
    }

    /// A finite number as JSON (NaN and infinities, which JSON lacks, become null).
    package static func number(_ x: Double) -> String { x.isFinite ? "\(x)" : "null" }
    package static func number(_ x: Float) -> String { x.isFinite ? "\(x)" : "null" }
}
