import Yams

/// A YAML problem at a place in a file: printed as `file:line:col: problem`.
package struct YAMLError: UserFacingError, Equatable {
    package var file: String
    package var line: Int
    package var column: Int
    package var problem: String
    package var hint: String?

    package init(file: String, line: Int, column: Int, problem: String, hint: String? = nil) {
        self.file = file
        self.line = line
        self.column = column
        self.problem = problem
        self.hint = hint
    }

    package var message: String { "\(file):\(line):\(column): \(problem)" }
}

/// A parsed YAML node that remembers its file and position, so that every schema error can say
/// where it is. A thin layer over Yams' `Node`.
package struct YAMLNode {
    package let node: Node
    package let file: String

    package init(node: Node, file: String) {
        self.node = node
        self.file = file
    }

    /// Parses one YAML document; nil when the text holds no document (empty file).
    package static func parse(_ text: String, file: String) throws -> YAMLNode? {
        do {
            // The basic resolver types nothing implicitly (every scalar stays a string; the typed
            // accessors below parse them), which spares building Yams' regular expressions: a
            // millisecond of every command's start-up.
            // The encoding is given: its default reads the process environment on every call.
            guard let node = try Yams.compose(yaml: text, .basic, .default, .utf8) else { return nil }
            return YAMLNode(node: node, file: file)
        } catch let error as YamlError {
            throw YAMLNode.convert(error, file: file)
        }
    }

    static func convert(_ error: YamlError, file: String) -> YAMLError {
        switch error {
        case let .scanner(context, problem, mark, _), let .parser(context, problem, mark, _), let .composer(context, problem, mark, _):
            let what = context.map { "\($0.text.trimmingTrailingNewlines) \(problem)" } ?? problem
            return YAMLError(file: file, line: mark.line, column: mark.column, problem: "invalid YAML: \(what)")
        case let .duplicatedKeysInMapping(duplicates, context):
            return YAMLError(file: file, line: context.mark.line, column: context.mark.column,
                             problem: "duplicate key \(duplicates.map { "'\($0)'" }.joined(separator: ", "))")
        case let .reader(problem, _, _, _):
            return YAMLError(file: file, line: 1, column: 1, problem: "unreadable YAML: \(problem)")
        default:
            return YAMLError(file: file, line: 1, column: 1, problem: "invalid YAML: \(error)")
        }
    }

    package var line: Int { node.mark?.line ?? 1 }
    package var column: Int { node.mark?.column ?? 1 }

    package func error(_ problem: String, hint: String? = nil) -> YAMLError {
        YAMLError(file: file, line: line, column: column, problem: problem, hint: hint)
    }

    /// The entries of a mapping, in file order.
    package func mapping(_ what: String) throws -> [(key: String, keyNode: YAMLNode, value: YAMLNode)] {
        guard let m = node.mapping else { throw error("\(what) must be a mapping") }
        return try m.map { k, v in
            guard let key = k.scalar?.string else { throw YAMLNode(node: k, file: file).error("keys of \(what) must be strings") }
            return (key, YAMLNode(node: k, file: file), YAMLNode(node: v, file: file))
        }
    }

    package func sequence(_ what: String) throws -> [YAMLNode] {
        guard let s = node.sequence else { throw error("\(what) must be a list") }
        return s.map { YAMLNode(node: $0, file: file) }
    }

    package var isNull: Bool { node.scalar.map { $0.tag == .init(.null) || ($0.string.isEmpty && $0.style == .plain) || $0.string == "null" || $0.string == "~" } ?? false }

    package func string(_ what: String) throws -> String {
        guard let s = node.scalar else { throw error("\(what) must be a string") }
        return s.string
    }

    package func int(_ what: String) throws -> Int {
        guard let s = node.scalar, s.style == .plain, let v = Int(s.string) else { throw error("\(what) must be an integer") }
        return v
    }

    package func double(_ what: String) throws -> Double {
        guard let s = node.scalar, s.style == .plain, let v = Double(s.string) else { throw error("\(what) must be a number") }
        return v
    }

    package func bool(_ what: String) throws -> Bool {
        guard let s = node.scalar, s.style == .plain else { throw error("\(what) must be true or false") }
        switch s.string.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default: throw error("\(what) must be true or false")
        }
    }

    /// Throws at the first key not in `allowed`, suggesting the closest allowed key.
    package func checkKeys(_ entries: [(key: String, keyNode: YAMLNode, value: YAMLNode)], allowed: [String], in what: String) throws {
        for e in entries where !allowed.contains(e.key) {
            let hint = Suggestion.closest(to: e.key, in: allowed).map { "did you mean '\($0)'?" }
            throw e.keyNode.error("unknown key '\(e.key)' in \(what)", hint: hint)
        }
    }
}

extension String {
    var trimmingTrailingNewlines: String {
        var s = self
        while s.hasSuffix("\n") { s.removeLast() }
        return s
    }
}

/// "Did you mean …?": the one rule for every unknown name mlv reports.
package enum Suggestion {
    /// The candidate that contains `word` (4 characters or more: "epochs" → "num_epochs"),
    /// else the closest by edit distance when it is close enough to be a typo.
    package static func closest(to word: String, in candidates: [String]) -> String? {
        let lower = word.lowercased()
        if lower.count >= 4, let containing = candidates.first(where: { $0.lowercased().contains(lower) }) { return containing }
        var best: (String, Int)?
        for c in candidates {
            let d = distance(word.lowercased(), c.lowercased())
            if d <= max(2, c.count / 3), best == nil || d < best!.1 { best = (c, d) }
        }
        return best?.0
    }

    static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a.utf8), b = Array(b.utf8)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var prev = Array(0...b.count)
        var cur = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            cur[0] = i
            for j in 1...b.count {
                cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            swap(&prev, &cur)
        }
        return prev[b.count]
    }
}

/// Deterministic YAML text from ordered mappings (key order is the caller's).
package enum YAMLText {
    package static func serialize(_ node: Node) throws -> String {
        try Yams.serialize(node: node, indent: 2, width: -1, allowUnicode: true, sortKeys: false)
    }
}
