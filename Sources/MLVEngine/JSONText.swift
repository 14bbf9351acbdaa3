// Small helpers that write JSON text with a fixed key order, so that files the engine writes
// are byte-identical whenever their values are. Numbers use Swift's shortest round-trip form.

/// A JSON string literal.
func jsonString(_ s: String) -> String {
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
func jsonArray(_ items: [String]) -> String { "[" + items.joined(separator: ", ") + "]" }

/// A JSON object of already-encoded values, keys in the given order; `indent` > 0 puts one
/// key per line.
func jsonObject(_ pairs: [(String, String)], indent: Int = 0) -> String {
    if indent == 0 {
        return "{" + pairs.map { "\(jsonString($0.0)): \($0.1)" }.joined(separator: ", ") + "}"
    }
    let pad = String(repeating: " ", count: indent)
    return "{\n" + pairs.map { "\(pad)\(jsonString($0.0)): \($0.1)" }.joined(separator: ",\n") + "\n}"
}

/// A finite Double as JSON (NaN and infinities, which JSON lacks, become null).
func jsonNumber(_ x: Double) -> String { x.isFinite ? "\(x)" : "null" }
func jsonNumber(_ x: Float) -> String { x.isFinite ? "\(x)" : "null" }
