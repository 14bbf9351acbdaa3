import MLVSupport
import Yams

/// One `-S` of `mlv exp run`: `KEY=VALUE` (a key of params.yaml) or `FILE:KEY=VALUE` (DVC's
/// form), where VALUE may be a comma-separated grid (`train.lr=0.1,0.01`), one experiment per
/// value (and per combination across several `-S`).
package struct ParamOverride: Equatable, Sendable {
    package var file: String
    package var key: String
    package var values: [String]

    package var description: String { "\(file == ParamsFile.defaultName ? "" : file + ":")\(key)=\(values.joined(separator: ","))" }

    /// Parses one `-S` (file paths workspace-relative).
    package static func parse(_ spec: String) throws -> ParamOverride {
        guard let eq = spec.firstIndex(of: "=") else { throw ExperimentError.badOverride(spec, why: "it has no '='") }
        var left = String(spec[..<eq])
        let right = String(spec[spec.index(after: eq)...])
        var file = ParamsFile.defaultName
        if let colon = left.lastIndex(of: ":") {
            file = String(left[..<colon])
            left = String(left[left.index(after: colon)...])
        }
        guard !left.isEmpty, !file.isEmpty else { throw ExperimentError.badOverride(spec, why: "it names no key") }
        guard !right.contains(where: { $0 == "\n" || $0 == "\r" || $0 == "\0" }) else { throw ExperimentError.badOverride(spec, why: "the value has a line break") }
        let values = try splitGrid(right, spec: spec)
        return ParamOverride(file: Path.normalize(file), key: left, values: values)
    }

    /// `a,b,[1, 2]` → ["a", "b", "[1, 2]"]: commas inside brackets or quotes do not split.
    static func splitGrid(_ text: String, spec: String) throws -> [String] {
        var out: [String] = []
        var current = ""
        var depth = 0
        var quote: Character?
        for ch in text {
            if let q = quote {
                current.append(ch)
                if ch == q { quote = nil }
                continue
            }
            switch ch {
            case "'", "\"": quote = ch; current.append(ch)
            case "[", "{": depth += 1; current.append(ch)
            case "]", "}":
                depth -= 1
                guard depth >= 0 else { throw ExperimentError.badOverride(spec, why: "an unbalanced '\(ch)'") }
                current.append(ch)
            case "," where depth == 0:
                out.append(current.trimmingCharacters(in: " "))
                current = ""
            default: current.append(ch)
            }
        }
        guard quote == nil, depth == 0 else { throw ExperimentError.badOverride(spec, why: "an unclosed quote or bracket") }
        out.append(current.trimmingCharacters(in: " "))
        if out.contains(where: \.isEmpty) { throw ExperimentError.badOverride(spec, why: "an empty value in the grid") }
        for v in out {
            // Each value must read as one YAML value.
            guard (try? Yams.compose(yaml: "k: " + v)) != nil else { throw ExperimentError.badOverride(spec, why: "'\(v)' is not a YAML value") }
        }
        return out
    }

    /// Every combination of the overrides' values: one list of (file, key, value) per experiment.
    package static func grid(_ overrides: [ParamOverride]) -> [[(file: String, key: String, value: String)]] {
        var combos: [[(file: String, key: String, value: String)]] = [[]]
        for o in overrides {
            combos = combos.flatMap { c in o.values.map { c + [(o.file, o.key, $0)] } }
        }
        return combos
    }

    /// `text` (a YAML or JSON params file) with the value of `key` replaced by `value`, written as
    /// given; the rest of the file (comments, order, layout) is kept byte for byte. The key must
    /// exist and hold a single value (a scalar or a one-line list or mapping).
    static func apply(key: String, value: String, to text: String, file: String) throws -> String {
        guard !file.hasSuffix(".toml") else { throw ExperimentError.unsupportedParamsFile(file) }
        guard let root = try Yams.compose(yaml: text) else { throw ExperimentError.unknownParam(key, file: file, suggestion: nil) }
        var node = root
        var keys: [String] = []
        for part in key.split(separator: ".", omittingEmptySubsequences: false).map(String.init) {
            guard let mapping = node.mapping, let next = mapping.first(where: { $0.key.string == part })?.value else {
                let known = flatKeys(root)
                throw ExperimentError.unknownParam(key, file: file, suggestion: Suggestion.closest(to: key, in: known))
            }
            keys.append(part)
            node = next
        }
        guard let mark = node.mark else { throw ExperimentError.unknownParam(key, file: file, suggestion: nil) }
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let lineIndex = mark.line - 1
        guard lineIndex >= 0, lineIndex < lines.count else { throw ExperimentError.notASingleValue(key, file: file) }
        let line = Array(lines[lineIndex].unicodeScalars)
        let start = mark.column - 1
        guard start >= 0, start <= line.count else { throw ExperimentError.notASingleValue(key, file: file) }
        var end = start
        let flow = file.hasSuffix(".json")
        if case .scalar = node {
            if start < line.count, line[start] == "'" || line[start] == "\"" {
                let q = line[start]
                end = start + 1
                while end < line.count, line[end] != q || (q == "\"" && line[end - 1] == "\\") { end += 1 }
                guard end < line.count else { throw ExperimentError.notASingleValue(key, file: file) }
                end += 1
            } else {
                while end < line.count {
                    let c = line[end]
                    if flow && (c == "," || c == "}" || c == "]") { break }
                    if c == "#" && end > start && (line[end - 1] == " " || line[end - 1] == "\t") { break }
                    end += 1
                }
                while end > start, line[end - 1] == " " || line[end - 1] == "\t" { end -= 1 }
            }
        } else if start < line.count, line[start] == "[" || line[start] == "{" {
            var depth = 0
            while end < line.count {
                if line[end] == "[" || line[end] == "{" { depth += 1 }
                if line[end] == "]" || line[end] == "}" { depth -= 1; if depth == 0 { end += 1; break } }
                end += 1
            }
            guard depth == 0 else { throw ExperimentError.notASingleValue(key, file: file) }
        } else {
            throw ExperimentError.notASingleValue(key, file: file)
        }
        let written = flow && Double(value) == nil && !["true", "false", "null"].contains(value) && !value.hasPrefix("\"") && !value.hasPrefix("[") && !value.hasPrefix("{")
            ? JSONText.string(value) : value
        var updated = String(String.UnicodeScalarView(line[..<start]))
        updated += written
        updated += String(String.UnicodeScalarView(line[end...]))
        lines[lineIndex] = updated
        return lines.joined(separator: "\n")
    }
}

/// Every dotted key of a YAML mapping (for suggestions).
private func flatKeys(_ node: Node, prefix: String = "") -> [String] {
    guard let mapping = node.mapping else { return [] }
    return mapping.flatMap { k, v -> [String] in
        let key = prefix + (k.string ?? "")
        return [key] + flatKeys(v, prefix: key + ".")
    }
}

/// What `mlv exp` refuses, written for the user.
package enum ExperimentError: UserFacingError, Equatable {
    case badOverride(String, why: String)
    case unknownParam(String, file: String, suggestion: String?)
    case notASingleValue(String, file: String)
    case unsupportedParamsFile(String)
    case badName(String)
    case nameTaken(String)
    case unknown(String, suggestion: String?)
    case needsGit
    case noCommit
    case runnerBusy
    case uncommittedChanges([String])
    case failed(name: String, outcome: String)
    case badFilter(String, why: String)
    case unknownColumn(String)
    case outputsNotCached(name: String, commit: String, paths: [String])

    package var message: String {
        switch self {
        case .badOverride(let s, let why): return "cannot read -S '\(s)': \(why)"
        case .unknownParam(let k, let f, _): return "param '\(k)' is not in \(f)"
        case .notASingleValue(let k, let f): return "param '\(k)' of \(f) is not a single value -S can replace"
        case .unsupportedParamsFile(let f): return "-S edits YAML and JSON params files; '\(f)' is TOML"
        case .badName(let n): return "'\(TerminalText.visible(n))' is not a valid experiment name"
        case .nameTaken(let n): return "an experiment named '\(n)' already exists"
        case .unknown(let n, _): return "no experiment named '\(TerminalText.visible(n))'"
        case .needsGit: return "experiments are git commits: this workspace is not in a git repository"
        case .noCommit: return "experiments start from a commit: the repository has none yet"
        case .runnerBusy: return "another `mlv exp run --run-all` is running the queue of this workspace"
        case .uncommittedChanges(let p): return "applying would overwrite uncommitted changes: \(p.prefix(5).joined(separator: ", "))\(p.count > 5 ? ", …" : "")"
        case .failed(let n, let o): return "experiment '\(n)' failed (\(o)); `mlv exp logs \(n)` shows its output"
        case .badFilter(let f, let why): return "cannot read --filter '\(f)': \(why)"
        case .unknownColumn(let c): return "no param or metric '\(c)' in the experiments"
        case .outputsNotCached(let n, _, let p): return "the outputs of experiment '\(n)' are not in the cache: \(p.prefix(5).joined(separator: ", "))\(p.count > 5 ? ", …" : "")"
        }
    }

    package var hint: String? {
        switch self {
        case .badOverride: return "write -S KEY=VALUE or -S FILE:KEY=VALUE; a grid is VALUE,VALUE,…"
        case .unknownParam(_, _, let s): return s.map { "did you mean '\($0)'?" } ?? "-S changes a value the params file already has"
        case .notASingleValue: return "give -S a key whose value is a number, a string, a boolean or a one-line list"
        case .unsupportedParamsFile: return "edit it by hand, or keep the params in YAML"
        case .badName: return "use letters, digits, '-', '_' and '.' (not first), at most 100 characters"
        case .nameTaken: return "choose another --name, or `mlv exp remove` the old one"
        case .unknown(_, let s): return s.map { "did you mean '\($0)'?" } ?? "`mlv exp show` lists them"
        case .needsGit: return "run `git init` and commit, then `mlv exp run`"
        case .noCommit: return "commit your pipeline first"
        case .runnerBusy: return "wait for it; it runs what you queue too"
        case .uncommittedChanges: return "commit or stash them first, or pass --force"
        case .failed: return nil
        case .badFilter: return "write e.g. 'metrics.acc > 0.9 and params.train.batch_size == 32'"
        case .unknownColumn: return "`mlv exp show` lists the params and metrics"
        case .outputsNotCached(_, let c, _): return "fetch them first: `mlv fetch --rev \(c.prefix(12))` (or `mlv exp pull` from where it was pushed)"
        }
    }

    package var exitCode: Int32 {
        if case .failed = self { return 1 }
        return 2
    }
}
