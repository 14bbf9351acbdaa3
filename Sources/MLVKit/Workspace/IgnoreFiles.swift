import Foundation
import MLVGit
import MLVSupport

/// `.mlvignore` files (gitignore syntax, in any folder), as DVC's `.dvcignore`: what they match
/// is left out of `add` of a folder, of folder hashes (status, commit, checkout, repro outs) and
/// of pointer discovery. Matching is libgit2's (see IgnoreMatcher): each file's patterns are
/// rewritten relative to the workspace root (a pattern without a slash matches at any depth
/// below its file's folder, one with a slash is anchored there), shallower files first, so a
/// deeper file's rules win as git's do. Files are read when the folders holding them are.
final class IgnoreFiles {
    static let fileName = ".mlvignore"

    /// True when `path`'s last component is `.mlvignore` (by bytes: this runs for every file of a walk).
    static func isIgnoreFile(_ path: String) -> Bool {
        let name = fileName.utf8, bytes = path.utf8
        guard bytes.count >= name.count, bytes.suffix(name.count).elementsEqual(name) else { return false }
        return bytes.count == name.count || bytes[bytes.index(bytes.endIndex, offsetBy: -name.count - 1)] == UInt8(ascii: "/")
    }
    /// A rule as written, where it was written, and as given to libgit2.
    struct Rule: Equatable {
        var file: String
        var line: Int
        var pattern: String
        var rooted: String
    }

    let root: String
    let tmp: String
    /// Walks may run on several threads: one at a time here (libgit2's repository is not shared).
    private let lock = NSRecursiveLock()
    private var looked = Set<String>()
    private(set) var rules: [Rule] = []
    private var matcher: IgnoreMatcher?
    /// More matchers with the same rules, one per further CPU, kept for the next long folder.
    private var extraMatchers: [IgnoreMatcher] = []

    init(root: String, tmp: String) {
        self.root = root
        self.tmp = tmp
    }

    var isEmpty: Bool { lock.lock(); defer { lock.unlock() }; return rules.isEmpty }

    /// Reads `folder`'s `.mlvignore` (once), if it has one.
    func look(in folder: String) throws {
        lock.lock()
        defer { lock.unlock() }
        guard looked.insert(folder).inserted else { return }
        let rel = folder == "." ? Self.fileName : folder + "/" + Self.fileName
        let abs = Path.join(root, rel)
        guard let st = try FS.status(abs), st.kind == .file else { return }
        let text = try UntrustedFile.readText(abs, shownAs: rel, what: "an .mlvignore file", limit: 1 << 20)
        var added: [Rule] = []
        for (i, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.hasSuffix("\r") ? String(raw.dropLast()) : String(raw)
            guard let rooted = Self.rooted(line, in: folder) else { continue }
            added.append(Rule(file: rel, line: i + 1, pattern: line, rooted: rooted))
        }
        guard !added.isEmpty else { return }
        rules += added
        try matcherWithRules().add(added.map(\.rooted).joined(separator: "\n"))
    }

    /// Reads the `.mlvignore` files of the root and of every folder above `rel`.
    func lookAbove(_ rel: String) throws {
        var folders: [String] = []
        var dir = Path.parent(rel)
        while dir != "." { folders.insert(dir, at: 0); dir = Path.parent(dir) }
        try look(in: ".")
        for f in folders { try look(in: f) }
    }

    /// True when the rules read so far ignore `rel` (or a folder above it).
    func isIgnored(_ rel: String, isDirectory: Bool) throws -> Bool {
        lock.lock()
        defer { lock.unlock() }
        guard let matcher, !rules.isEmpty else { return false }
        return try matcher.isIgnored(rel, isDirectory: isDirectory)
    }

    /// `isIgnored` for many files at once (a folder's walk): libgit2 takes ~20k instructions a
    /// path, so a long list is split over the CPUs, each worker with a matcher of its own
    /// holding the same rules.
    func ignoredFiles(_ paths: [String]) throws -> [Bool] {
        lock.lock()
        defer { lock.unlock() }
        guard let matcher, !rules.isEmpty else { return [Bool](repeating: false, count: paths.count) }
        let workers = min(Parallel.defaultWorkers, paths.count / 2_000)
        guard workers > 1 else { return try paths.map { try matcher.isIgnored($0, isDirectory: false) } }
        while extraMatchers.count < workers - 1 {
            extraMatchers.append(try IgnoreMatcher(scratch: try FS.makeTemporaryDirectory(in: tmp, prefix: "ignore")))
        }
        // Rules read since the extras were last used: they are added in the same order.
        let text = rules.map(\.rooted).joined(separator: "\n")
        for m in extraMatchers where m.rules != text {
            try m.clear()
            try m.add(text)
            m.rules = text
        }
        let matchers = [matcher] + extraMatchers
        var out = [Bool](repeating: false, count: paths.count)
        let chunk = (paths.count + workers - 1) / workers
        try out.withUnsafeMutableBufferPointer { buffer in
            nonisolated(unsafe) let results = buffer
            try Parallel.forEach(count: workers, workers: workers, makeContext: { () }) { w, _ in
                for i in (w * chunk)..<min(paths.count, (w + 1) * chunk) { results[i] = try matchers[w].isIgnored(paths[i], isDirectory: false) }
            }
        }
        return out
    }

    /// The rule that decides about `rel` (the last one matching it or a folder above it; a `!`
    /// rule un-ignores), for `mlv check-ignore`. Nil when none matches.
    func decidingRule(_ rel: String, isDirectory: Bool) throws -> Rule? {
        lock.lock()
        defer { lock.unlock() }
        guard let matcher else { return nil }
        defer { try? matcher.clear(); try? matcher.add(rules.map(\.rooted).joined(separator: "\n")) }
        var parts: [(String, Bool)] = [(rel, isDirectory)]
        var dir = Path.parent(rel)
        while dir != "." { parts.append((dir, true)); dir = Path.parent(dir) }
        for rule in rules.reversed() {
            try matcher.clear()
            try matcher.add(rule.rooted.hasPrefix("!") ? String(rule.rooted.dropFirst()) : rule.rooted)
            for (p, d) in parts where try matcher.isIgnored(p, isDirectory: d) { return rule }
        }
        return nil
    }

    private func matcherWithRules() throws -> IgnoreMatcher {
        if let matcher { return matcher }
        try FS.makeDirectories(tmp)
        let m = try IgnoreMatcher(scratch: try FS.makeTemporaryDirectory(in: tmp, prefix: "ignore"))
        matcher = m
        return m
    }

    /// `line` of the `.mlvignore` in `folder`, rewritten relative to the workspace root; nil for
    /// a blank line or a comment.
    static func rooted(_ line: String, in folder: String) -> String? {
        var p = line
        while p.hasSuffix(" ") && !p.hasSuffix("\\ ") { p.removeLast() }
        guard !p.isEmpty, !p.hasPrefix("#"), !p.utf8.contains(0) else { return nil }
        var negated = ""
        if p.hasPrefix("!") { negated = "!"; p.removeFirst() }
        guard !p.isEmpty else { return nil }
        if folder == "." { return negated + p }
        let body = p.hasSuffix("/") ? String(p.dropLast()) : p
        if p.hasPrefix("/") { return negated + "/" + folder + p }
        if body.contains("/") { return negated + "/" + folder + "/" + p }
        return negated + "/" + folder + "/**/" + p
    }
}

/// `mlv check-ignore PATH…`: which paths the `.mlvignore` files exclude, and by which rule.
package struct IgnoreCheck {
    package let ws: Workspace
    package init(_ ws: Workspace) { self.ws = ws }

    package struct Verdict: Sendable, Equatable {
        package var path: String
        package var ignored: Bool
        /// The deciding rule: `.mlvignore` file, line number, pattern as written.
        package var rule: (file: String, line: Int, pattern: String)?

        package static func == (a: Verdict, b: Verdict) -> Bool {
            a.path == b.path && a.ignored == b.ignored && a.rule?.file == b.rule?.file && a.rule?.line == b.rule?.line && a.rule?.pattern == b.rule?.pattern
        }
    }

    package func check(_ paths: [String], cwd: String = FS.currentDirectory()) throws -> [Verdict] {
        try paths.map { arg in
            let rel = try ws.relativeTarget(arg, cwd: cwd)
            let isDirectory = arg.hasSuffix("/") || FS.isDirectory(ws.absolute(rel))
            try ws.ignores.lookAbove(rel)
            let ignored = try ws.ignores.isIgnored(rel, isDirectory: isDirectory)
            let rule = try ws.ignores.decidingRule(rel, isDirectory: isDirectory)
            return Verdict(path: arg, ignored: ignored, rule: rule.map { ($0.file, $0.line, $0.pattern) })
        }
    }
}
