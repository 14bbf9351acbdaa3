import MLVSupport
import Yams

/// `${a.b}` / `${l[0]}` substitution in a YAML tree, against a context of variables (params.yaml,
/// `vars`, and `item`/`key` inside `foreach`). `\${` stands for a literal `${`.
///
/// A scalar that is exactly one `${…}` becomes the variable's value with its type (a list for
/// `foreach`, a number); inside a longer string the value is written as text, and in `cmd` a
/// dict becomes flags (`--lr 0.1 --epochs 3`).
struct Interpolation {
    var context: [(key: String, value: ParamValue)]
    /// What expanding the whole pipeline may still cost (nil: not counted).
    var budget: ExpansionBudget? = nil

    func lookup(_ expr: String) -> ParamValue? {
        ParamValue.dict(context).lookup(expr)
    }

    /// A copy of `node` with every scalar interpolated, keys included (as DVC does: an out written
    /// `- data/${item}.csv: {cache: false}` names its file through the key).
    func apply(_ node: Node, file: String, inCmd: Bool = false) throws -> Node {
        switch node {
        case .scalar(let s):
            guard s.string.contains("${") else { return node }
            return try substitute(s, file: file, inCmd: inCmd)
        case .sequence(let seq):
            return .sequence(Node.Sequence(try seq.map { try apply($0, file: file, inCmd: inCmd) }, seq.tag, seq.style, seq.mark))
        case .mapping(let m):
            let pairs = try m.map { k, v in (try applyKey(k, file: file), try apply(v, file: file, inCmd: inCmd || k.scalar?.string == "cmd")) }
            return .mapping(Node.Mapping(pairs, m.tag, m.style, m.mark))
        case .alias:
            return node
        }
    }

    /// A mapping key: interpolated like a string inside text (a key must stay a scalar).
    private func applyKey(_ key: Node, file: String) throws -> Node {
        guard case .scalar(let s) = key, s.string.contains("${") else { return key }
        let resolved = try substitute(s, file: file, inCmd: false)
        guard case .scalar(let r) = resolved else {
            throw YAMLNode(node: key, file: file).error("'\(s.string)' is used as a key but is not a string or a number")
        }
        return .scalar(Node.Scalar(r.string, Tag(.str), .plain, s.mark))
    }

    private enum Piece { case text(String), expr(String) }

    private func pieces(_ s: String, _ at: YAMLNode) throws -> [Piece] {
        var out: [Piece] = []
        var text = ""
        var chars = Array(s)
        var i = 0
        while i < chars.count {
            if chars[i] == "\\", i + 2 < chars.count, chars[i + 1] == "$", chars[i + 2] == "{" {
                text += "${"
                i += 3
                continue
            }
            if chars[i] == "$", i + 1 < chars.count, chars[i + 1] == "{" {
                guard let close = chars[(i + 2)...].firstIndex(of: "}") else {
                    throw at.error("unclosed '${' in '\(s)'")
                }
                let expr = String(chars[(i + 2)..<close]).trimmingCharacters(in: " ")
                guard !expr.isEmpty else { throw at.error("empty '${}' in '\(s)'") }
                if !text.isEmpty { out.append(.text(text)); text = "" }
                out.append(.expr(expr))
                i = close + 1
                continue
            }
            text.append(chars[i])
            i += 1
        }
        chars = []
        if !text.isEmpty { out.append(.text(text)) }
        return out
    }

    private func value(_ expr: String, _ at: YAMLNode) throws -> ParamValue {
        if let v = lookup(expr) { return v }
        var names: [String] = []
        for (k, v) in context {
            names.append(k)
            for sub in v.keys { names.append(k + "." + sub) }
        }
        throw at.error("unknown variable '\(expr)' in '${\(expr)}'", hint: Suggestion.closest(to: expr, in: names).map { "did you mean '\($0)'?" })
    }

    private func substitute(_ s: Node.Scalar, file: String, inCmd: Bool) throws -> Node {
        let at = YAMLNode(node: .scalar(s), file: file)
        let parts = try pieces(s.string, at)
        if parts.count == 1, case .expr(let e) = parts[0] {
            let v = try value(e, at)
            try budget?.take(bytes: v.approximateSize, at: at)
            var n = v.node
            n.setMark(s.mark)
            return n
        }
        var text = ""
        for p in parts {
            switch p {
            case .text(let t): text += t
            case .expr(let e):
                let v = try value(e, at)
                switch v {
                case .dict(let pairs):
                    guard inCmd else { throw at.error("'${\(e)}' is a dict and cannot be written into a string") }
                    text += Interpolation.flags(pairs, prefix: "").joined(separator: " ")
                case .list(let items) where items.contains(where: { if case .dict = $0 { return true }; if case .list = $0 { return true }; return false }):
                    throw at.error("'${\(e)}' is a nested list and cannot be written into a string")
                default:
                    text += v.description
                }
            }
        }
        try budget?.take(bytes: text.utf8.count, at: at)
        return .scalar(Node.Scalar(text, Tag(.str), .doubleQuoted, s.mark))
    }

    /// `{lr: 0.1, aug: true, layers: [1, 2], opt: {name: adam}}` → `--lr 0.1 --aug --layers 1 2 --opt.name adam`.
    static func flags(_ pairs: [(key: String, value: ParamValue)], prefix: String) -> [String] {
        var out: [String] = []
        for (k, v) in pairs {
            let name = prefix + k
            switch v {
            case .bool(let b): out.append(b ? "--\(name)" : "--no-\(name)")
            case .dict(let sub): out += flags(sub, prefix: name + ".")
            case .null: out.append("--\(name)")
            default: out.append("--\(name) \(v.description)")
            }
        }
        return out
    }
}

extension Node {
    mutating func setMark(_ mark: Mark?) {
        switch self {
        case .scalar(var s): s.mark = mark; self = .scalar(s)
        case .sequence(var s): s.mark = mark; self = .sequence(s)
        case .mapping(var m): m.mark = mark; self = .mapping(m)
        case .alias: break
        }
    }
}

/// What loading one pipeline file may cost after `foreach`, `matrix` and `${…}`: a 4 KB file
/// (aliases, a matrix per stage) could otherwise describe millions of stages or gigabytes of
/// commands, and every command that only loads the pipeline would take seconds or minutes.
final class ExpansionBudget {
    static let maxStages = 10_000
    static let maxBytes = 64 << 20
    private(set) var stagesLeft = maxStages
    private(set) var bytesLeft = maxBytes
    /// The stage being expanded, for the message.
    var stage = ""

    func take(stages n: Int, at node: YAMLNode) throws {
        stagesLeft -= n
        guard stagesLeft >= 0 else {
            throw node.error("stage '\(stage)' takes the pipeline past \(Self.maxStages) stages after foreach and matrix",
                             hint: "split the pipeline, or loop inside a stage's command")
        }
    }

    func take(bytes n: Int, at node: YAMLNode) throws {
        bytesLeft -= n
        guard bytesLeft >= 0 else {
            throw node.error("stage '\(stage)' takes the pipeline's interpolated values past \(Self.maxBytes >> 20) MiB",
                             hint: "pass large values to the command in a file (a dep), not through ${…}")
        }
    }
}

extension ParamValue {
    /// About how many bytes the value takes written out (strings and keys by length, other
    /// scalars 8), for the expansion budget.
    var approximateSize: Int {
        switch self {
        case .string(let s): return s.utf8.count
        case .list(let items): return items.reduce(0) { $0 &+ $1.approximateSize }
        case .dict(let pairs): return pairs.reduce(0) { $0 &+ $1.key.utf8.count &+ $1.value.approximateSize }
        default: return 8
        }
    }
}
