import MLVSupport
import Yams

/// A value read from a params or vars file, typed the way YAML 1.2 reads a plain scalar
/// (`0.20` is the number 0.2, `'0.20'` the string), so that the lock records values, not spellings.
package indirect enum ParamValue: Equatable, Sendable, CustomStringConvertible {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case list([ParamValue])
    case dict([(key: String, value: ParamValue)])

    package static func == (a: ParamValue, b: ParamValue) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case let (.bool(x), .bool(y)): return x == y
        case let (.int(x), .int(y)): return x == y
        case let (.double(x), .double(y)): return x == y || (x.isNaN && y.isNaN)
        case let (.string(x), .string(y)): return x == y
        case let (.list(x), .list(y)): return x == y
        case let (.dict(x), .dict(y)):
            return x.count == y.count && zip(x, y).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        default: return false
        }
    }

    /// Most nodes one document may expand to (aliases can make a small file huge).
    static let nodeBudget = 1_000_000

    /// Converts a composed YAML node (basic resolver: every scalar is a string).
    package static func from(_ node: YAMLNode) throws -> ParamValue {
        var budget = nodeBudget
        return try from(node.node, file: node.file, budget: &budget)
    }

    static func from(_ node: Node, file: String, budget: inout Int) throws -> ParamValue {
        budget -= 1
        guard budget >= 0 else { throw YAMLNode(node: node, file: file).error("the document is too large (more than \(nodeBudget) values)") }
        switch node {
        case .scalar(let s):
            return s.style == .plain ? typed(s.string) : .string(s.string)
        case .sequence(let seq):
            return .list(try seq.map { try from($0, file: file, budget: &budget) })
        case .mapping(let m):
            var pairs: [(key: String, value: ParamValue)] = []
            for (k, v) in m {
                guard let key = k.scalar?.string else { throw YAMLNode(node: k, file: file).error("keys must be strings") }
                pairs.append((key, try from(v, file: file, budget: &budget)))
            }
            return .dict(pairs)
        case .alias:
            throw YAMLNode(node: node, file: file).error("unresolved alias")
        }
    }

    /// The YAML 1.2 core schema's reading of a plain scalar.
    package static func typed(_ text: String) -> ParamValue {
        switch text {
        case "", "~", "null", "Null", "NULL": return .null
        case "true", "True", "TRUE": return .bool(true)
        case "false", "False", "FALSE": return .bool(false)
        case ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF": return .double(.infinity)
        case "-.inf", "-.Inf", "-.INF": return .double(-.infinity)
        case ".nan", ".NaN", ".NAN": return .double(.nan)
        default: break
        }
        let u = Array(text.utf8)
        func isDigit(_ c: UInt8) -> Bool { c >= 48 && c <= 57 }
        var i = 0
        if u[0] == 43 || u[0] == 45 { i = 1 }
        if i < u.count, u[i...].allSatisfy(isDigit) {
            if let v = Int(text.hasPrefix("+") ? String(text.dropFirst()) : text) { return .int(v) }
            return Double(text).map(ParamValue.double) ?? .string(text)
        }
        if u.count > 2, u[0] == 48, u[1] == 120, let v = Int(text.dropFirst(2), radix: 16) { return .int(v) }  // 0x1F
        // [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?
        var j = i, mantissaDigits = 0
        while j < u.count, isDigit(u[j]) { j += 1; mantissaDigits += 1 }
        if j < u.count, u[j] == 46 {
            j += 1
            while j < u.count, isDigit(u[j]) { j += 1; mantissaDigits += 1 }
        }
        guard mantissaDigits > 0 else { return .string(text) }
        if j < u.count, u[j] == 101 || u[j] == 69 {
            j += 1
            if j < u.count, u[j] == 43 || u[j] == 45 { j += 1 }
            let start = j
            while j < u.count, isDigit(u[j]) { j += 1 }
            guard j > start else { return .string(text) }
        }
        guard j == u.count, let v = Double(text) else { return .string(text) }
        return .double(v)
    }

    /// A value found by a dotted key (`train.lr`, `layers[0]`), or nil.
    package func lookup(_ key: String) -> ParamValue? {
        guard let path = ParamValue.keyPath(key) else { return nil }
        var v = self
        for step in path {
            switch (step, v) {
            case let (.key(k), .dict(pairs)):
                guard let next = pairs.first(where: { $0.key == k })?.value else { return nil }
                v = next
            case let (.index(i), .list(items)):
                guard i >= 0, i < items.count else { return nil }
                v = items[i]
            default: return nil
            }
        }
        return v
    }

    enum KeyStep: Equatable { case key(String), index(Int) }

    /// `a.b[0].c` → [a, b, 0, c]; nil when malformed.
    static func keyPath(_ key: String) -> [KeyStep]? {
        var out: [KeyStep] = []
        var current = ""
        var it = key.makeIterator()
        var afterIndex = false
        while let c = it.next() {
            switch c {
            case ".":
                if current.isEmpty && !afterIndex { return nil }
                if !current.isEmpty { out.append(.key(current)) }
                current = ""
                afterIndex = false
            case "[":
                if !current.isEmpty { out.append(.key(current)) } else if out.isEmpty { return nil }
                current = ""
                var digits = ""
                while let d = it.next(), d != "]" { digits.append(d) }
                guard let i = Int(digits) else { return nil }
                out.append(.index(i))
                afterIndex = true
            default:
                if afterIndex { return nil }
                current.append(c)
            }
        }
        if !current.isEmpty { out.append(.key(current)) } else if !afterIndex { return nil }
        return out
    }

    /// The keys of a dict value (for suggestions).
    package var keys: [String] {
        if case .dict(let pairs) = self { return pairs.map(\.key) }
        return []
    }

    /// Text for messages and for `${}` inside a longer string: scalars as YAML writes them,
    /// lists space-separated.
    package var description: String {
        switch self {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .double(let d): return ParamValue.format(d)
        case .string(let s): return s
        case .list(let items): return items.map(\.description).joined(separator: " ")
        case .dict: return canonical
        }
    }

    static func format(_ d: Double) -> String {
        if d.isNaN { return ".nan" }
        if d.isInfinite { return d < 0 ? "-.inf" : ".inf" }
        return "\(d)"
    }

    /// One unambiguous line (JSON-like, key order kept): the form hashed by the run-cache.
    package var canonical: String {
        switch self {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .double(let d): return ParamValue.format(d)
        case .string(let s): return JSONText.string(s)
        case .list(let items): return "[" + items.map(\.canonical).joined(separator: ",") + "]"
        case .dict(let pairs): return "{" + pairs.map { JSONText.string($0.key) + ":" + $0.value.canonical }.joined(separator: ",") + "}"
        }
    }

    /// A YAML node that reads back as this value.
    package var node: Node {
        switch self {
        case .null: return Node("null", Tag(.null), .plain)
        case .bool(let b): return Node(b ? "true" : "false", Tag(.bool), .plain)
        case .int(let i): return Node(String(i), Tag(.int), .plain)
        case .double(let d): return Node(ParamValue.format(d), Tag(.float), .plain)
        case .string(let s):
            let quote = ParamValue.typed(s) != .string(s) || s.isEmpty
            return Node(s, Tag(.str), quote ? .singleQuoted : .any)
        case .list(let items): return Node(items.map(\.node), Tag(.seq), .block)
        case .dict(let pairs): return Node(pairs.map { (Node($0.key), $0.value.node) }, Tag(.map), .block)
        }
    }
}

