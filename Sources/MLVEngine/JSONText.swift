// Small helpers that write JSON text with a fixed key order, so that files the engine writes
// are byte-identical whenever their values are. Numbers use Swift's shortest round-trip form.

import MLVSupport

/// A JSON string literal (MLVSupport's one escaper).
func jsonString(_ s: String) -> String { JSONText.string(s) }

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
