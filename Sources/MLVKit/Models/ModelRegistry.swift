import MLVGit
import MLVSupport

/// A model registry in git tags, in GTO's format so GTO users keep their habits: a version is
/// the annotated tag `NAME@vX.Y.Z` on the commit that records the model, a stage assignment the
/// tag `NAME#STAGE#N` on the same commit (N counts that stage's assignments). The model's path
/// must be data mlv tracks at that commit; the registration message records it and its hash.
package final class ModelRegistry {
    package let ws: Workspace
    package init(_ ws: Workspace) { self.ws = ws }

    package struct Version: Sendable, Equatable {
        package var name: String
        package var version: String
        package var commit: String
        package var path: String
        package var hash: String
        /// Seconds since 1970.
        package var time: Int64
        /// The stages this version holds now.
        package var stages: [String] = []
    }

    /// The registry's tags by model name, read and parsed once: versions (`NAME@vX.Y.Z`, with
    /// their parsed version) and stage assignments (`NAME#STAGE#N`).
    private struct Entries {
        var versions: [(Semver, GitRepository.Tag)] = []
        var stages: [(stage: String, n: Int, tag: GitRepository.Tag)] = []
    }
    private var cachedIndex: [String: Entries]?
    private func index() throws -> [String: Entries] {
        if let cachedIndex { return cachedIndex }
        var out: [String: Entries] = [:]
        for t in try repository().tags(matching: "*") {
            let parts = t.name.split(separator: "#", omittingEmptySubsequences: false)
            if parts.count == 3, let n = Int(parts[2]) {
                out[String(parts[0]), default: Entries()].stages.append((String(parts[1]), n, t))
            } else if parts.count == 1, let at = t.name.lastIndex(of: "@"), let v = Semver(String(t.name[t.name.index(after: at)...])) {
                out[String(t.name[..<at]), default: Entries()].versions.append((v, t))
            }
        }
        cachedIndex = out
        return out
    }

    /// `mlv model register NAME [--version vX.Y.Z] [--path PATH] [--rev REV]`. Without a
    /// version, the latest's patch number plus one (v0.0.1 first); without a path, the one
    /// pipeline.yaml's `artifacts:` gives the name.
    package func register(_ name: String, version: String?, path: String?, rev: String?) throws -> Version {
        try Self.checkName(name, what: "model name")
        let git = try repository()
        let existing = try versions(of: name)
        let v: String
        if let version {
            guard Semver(version) != nil else {
                throw MessageError("'\(version)' is not a version", hint: "versions are semver with a v: v1.2.0")
            }
            v = version
        } else {
            v = (existing.compactMap { Semver($0.version) }.max()?.nextPatch ?? Semver(0, 0, 1)).description
        }
        if existing.contains(where: { $0.version == v }) {
            throw MessageError("\(name)@\(v) is already registered", hint: "give another --version")
        }
        let declared = try PipelineView(ws).artifacts().first { $0.name == name }?.path
        guard let modelPath = path ?? declared else {
            throw MessageError("no path for model '\(name)'", hint: "give --path PATH (data mlv tracks), or declare it under artifacts: in pipeline.yaml")
        }
        let commit = try git.resolve(rev ?? "HEAD")
        let folder = Path.relative(ws.root, to: git.workdir) ?? "."
        let records = try CommittedRecords.read(git, commit: commit, folder: folder, shownAs: rev ?? String(commit.prefix(12)))
        let rel = try ws.relativeTarget(modelPath, cwd: ws.root)
        guard let record = records.first(where: { $0.path == rel }) else {
            throw MessageError("'\(rel)' is not tracked by mlv at \(rev ?? "HEAD")", hint: "track it with `mlv add` or as a stage's out, commit, then register")
        }
        let message = "Registering artifact \(name) version \(v)\n\npath: \(rel)\nhash: \(record.hash)\n"
        try git.createTag("\(name)@\(v)", at: commit, message: message)
        cachedIndex = nil
        return Version(name: name, version: v, commit: commit, path: rel, hash: record.hash.description, time: 0)
    }

    /// `mlv model promote NAME VERSION --stage STAGE`: tags the version's commit `NAME#STAGE#N`.
    package func promote(_ name: String, version: String, stage: String) throws -> String {
        try Self.checkName(stage, what: "stage name")
        let git = try repository()
        guard let v = try versions(of: name).first(where: { $0.version == version }) else {
            throw MessageError("\(name)@\(version) is not registered", hint: "see `mlv model show \(name)`")
        }
        let n = try index()[name]?.stages.filter { $0.stage == stage }.map(\.n).max() ?? 0
        let tag = "\(name)#\(stage)#\(n + 1)"
        try git.createTag(tag, at: v.commit, message: "Assigning stage \(stage) to artifact \(name) version \(version)\n")
        cachedIndex = nil
        return tag
    }

    /// Every registered version of `name`, oldest first, with the stages each holds now (the
    /// newest assignment of a stage wins).
    package func versions(of name: String) throws -> [Version] {
        guard let entries = try index()[name] else { return [] }
        var out: [Version] = entries.versions.sorted { $0.0 < $1.0 }.map { v, t in
            var fields: [String: String] = [:]
            for line in t.message.split(separator: "\n") {
                guard let colon = line.firstIndex(of: ":") else { continue }
                fields[String(line[..<colon])] = String(line[line.index(after: colon)...]).trimmingCharacters(in: " ")
            }
            return Version(name: name, version: v.description, commit: t.commit, path: fields["path"] ?? "", hash: fields["hash"] ?? "", time: t.time)
        }
        // stage → (N, version) of its newest assignment
        var held: [String: (Int, String)] = [:]
        for (stage, n, t) in entries.stages where (held[stage]?.0 ?? 0) < n {
            held[stage] = (n, t.message.split(separator: " ").last.map { String($0).trimmingCharacters(in: .whitespacesAndNewlines) } ?? "")
        }
        for (stage, (_, version)) in held { if let i = out.firstIndex(where: { $0.version == version }) { out[i].stages.append(stage) } }
        for i in out.indices { out[i].stages.sort() }
        return out
    }

    /// The names of every registered model.
    package func names() throws -> [String] {
        try index().filter { !$0.value.versions.isEmpty }.keys.sorted()
    }

    /// The version a stage holds, or the one named; the latest when neither is given.
    package func resolve(_ name: String, stage: String?, version: String?) throws -> Version {
        let all = try versions(of: name)
        guard !all.isEmpty else { throw MessageError("no model '\(name)' is registered", hint: "register it with `mlv model register \(name) --path PATH`") }
        if let version {
            guard let v = all.first(where: { $0.version == version }) else { throw MessageError("\(name)@\(version) is not registered", hint: "see `mlv model show \(name)`") }
            return v
        }
        if let stage {
            guard let v = all.last(where: { $0.stages.contains(stage) }) else {
                throw MessageError("no version of '\(name)' is in stage '\(stage)'", hint: "promote one with `mlv model promote \(name) VERSION --stage \(stage)`")
            }
            return v
        }
        return all.last!
    }

    private func repository() throws -> GitRepository {
        guard let git = try ws.git() else { throw WorkspaceError.revisionsNeedGit }
        return git
    }

    static func checkName(_ name: String, what: String) throws {
        let ok = !name.isEmpty && name.utf8.count <= 100 && name.first != "-"
            && name.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "-" || $0 == "_") }
        guard ok else { throw MessageError("invalid \(what) '\(TerminalText.visible(name))'", hint: "use letters, digits, '-' and '_'") }
    }
}

/// `vMAJOR.MINOR.PATCH`, as GTO writes versions.
struct Semver: Comparable, CustomStringConvertible {
    var major: Int, minor: Int, patch: Int

    init(_ major: Int, _ minor: Int, _ patch: Int) { (self.major, self.minor, self.patch) = (major, minor, patch) }

    init?(_ text: String) {
        guard text.hasPrefix("v") else { return nil }
        let parts = text.dropFirst().split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, parts.allSatisfy({ !$0.isEmpty && $0.count <= 9 && $0.allSatisfy(\.isASCII) }),
              let a = Int(parts[0]), let b = Int(parts[1]), let c = Int(parts[2]), a >= 0, b >= 0, c >= 0 else { return nil }
        self.init(a, b, c)
    }

    var nextPatch: Semver { Semver(major, minor, patch + 1) }
    var description: String { "v\(major).\(minor).\(patch)" }
    static func < (a: Semver, b: Semver) -> Bool { (a.major, a.minor, a.patch) < (b.major, b.minor, b.patch) }
}
