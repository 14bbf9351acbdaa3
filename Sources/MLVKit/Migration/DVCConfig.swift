import MLVSupport

/// `.dvc/config` (committed) or `.dvc/config.local` (git-ignored): the INI dialect of Python's
/// configobj that DVC writes,
///
///     [core]
///         remote = storage
///     ['remote "storage"']
///         url = s3://bucket/prefix
///         endpointurl = http://127.0.0.1:9000
///
/// read into sections (`core`, `cache`, `remote "storage"`) of key → value.
struct DVCConfig: Equatable, Sendable {
    var sections: [String: [String: String]] = [:]

    static func parse(_ text: String, file: String) throws -> DVCConfig {
        var config = DVCConfig()
        var section: String?
        for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: " \t\r")
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("[") {
                guard line.hasSuffix("]"), line.count > 2 else { throw MigrationError.invalidConfig(file, line: n + 1) }
                let name = unquoted(String(line.dropFirst().dropLast()).trimmingCharacters(in: " "))
                section = name.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
                config.sections[section!, default: [:]] = config.sections[section!] ?? [:]
                continue
            }
            guard let section, let eq = line.firstIndex(of: "=") else { throw MigrationError.invalidConfig(file, line: n + 1) }
            let key = line[..<eq].trimmingCharacters(in: " \t")
            var value = line[line.index(after: eq)...].trimmingCharacters(in: " \t")
            if let q = value.first, q == "'" || q == "\"" {
                value = unquoted(value)
            } else if let hash = value.range(of: " #") {
                value = String(value[..<hash.lowerBound]).trimmingCharacters(in: " \t")
            }
            config.sections[section, default: [:]][key] = value
        }
        return config
    }

    static func unquoted(_ s: String) -> String {
        guard s.count >= 2, let q = s.first, q == "'" || q == "\"", s.last == q else { return s }
        return String(s.dropFirst().dropLast())
    }

    /// `other`'s values win (config.local over config).
    func merged(with other: DVCConfig) -> DVCConfig {
        var out = self
        for (name, values) in other.sections { out.sections[name, default: [:]].merge(values) { _, b in b } }
        return out
    }

    /// The remotes, by name: `remote "NAME"` sections.
    var remotes: [String: [String: String]] {
        var out: [String: [String: String]] = [:]
        for (name, values) in sections where name.hasPrefix("remote \"") && name.hasSuffix("\"") && name.count > 9 {
            out[String(name.dropFirst(8).dropLast())] = values
        }
        return out
    }

    func value(_ section: String, _ key: String) -> String? { sections[section]?[key] }
}

/// What mlv's config gets from DVC's: remotes (S3 and local folders), the default remote and
/// `cache.type`; secrets from `.dvc/config.local` only, into `.mlv/config.local.yaml` only.
struct ConvertedConfig: Equatable, Sendable {
    var committed: [String: String] = [:]
    var local: [String: String] = [:]
    /// Remotes mlv cannot use: name → URL.
    var unsupported: [(name: String, url: String)] = []
    /// Settings left behind, one line each (a secret in the committed file, an option mlv lacks).
    var notes: [String] = []

    static func == (a: ConvertedConfig, b: ConvertedConfig) -> Bool {
        a.committed == b.committed && a.local == b.local && a.notes == b.notes && a.unsupported.map(\.name) == b.unsupported.map(\.name)
    }

    /// DVC's option name → mlv's (`remote.NAME.<option>`).
    static let options = ["url": "url", "endpointurl": "endpoint_url", "region": "region", "profile": "profile"]
    static let secrets = ["access_key_id": "access_key_id", "secret_access_key": "secret_access_key", "session_token": "session_token"]

    /// `dvcDir`: the absolute `.dvc` folder (DVC writes local remote paths relative to it);
    /// `root`: the workspace root (mlv reads them relative to it).
    init(committed dvc: DVCConfig, local dvcLocal: DVCConfig, dvcDir: String, root: String) {
        let all = dvc.merged(with: dvcLocal)
        var migrated = Set<String>()
        for (name, values) in all.remotes.sorted(by: { $0.key < $1.key }) {
            guard let url = values["url"] else { continue }
            guard let mlvURL = Self.remoteURL(url, dvcDir: dvcDir, root: root), (try? RemoteRegistry.validateName(name)) != nil else {
                unsupported.append((name, url))
                continue
            }
            migrated.insert(name)
            let isLocal = dvcLocal.remotes[name]?["url"] != nil && dvc.remotes[name]?["url"] == nil
            if isLocal { local["remote.\(name).url"] = mlvURL } else { committed["remote.\(name).url"] = mlvURL }
            for (key, value) in values.sorted(by: { $0.key < $1.key }) where key != "url" {
                if let option = Self.options[key] {
                    let fromLocal = dvcLocal.remotes[name]?[key] != nil
                    guard (try? RemoteSettings.validate(option: option, value: value)) != nil else {
                        notes.append("remote '\(name)': \(key) = '\(value)' is not valid for mlv; left out")
                        continue
                    }
                    if fromLocal || isLocal { local["remote.\(name).\(option)"] = value } else { committed["remote.\(name).\(option)"] = value }
                } else if let option = Self.secrets[key] {
                    if dvcLocal.remotes[name]?[key] != nil {
                        local["remote.\(name).\(option)"] = value
                    } else {
                        notes.append("remote '\(name)': \(key) is in the committed .dvc/config; secrets are only taken from .dvc/config.local (set it with `mlv remote modify --local \(name) \(option) …`)")
                    }
                } else {
                    notes.append("remote '\(name)': option '\(key)' has no mlv equivalent; left out")
                }
            }
        }
        for (config, target) in [(dvc, \ConvertedConfig.committed), (dvcLocal, \ConvertedConfig.local)] {
            if let name = config.value("core", "remote") {
                if migrated.contains(name) { self[keyPath: target]["core.remote"] = name } else { notes.append("the default remote '\(name)' is not migrated") }
            }
            if let type = config.value("cache", "type") {
                if (try? WorkspaceConfig.validate(key: "cache.type", value: type)) != nil { self[keyPath: target]["cache.type"] = type } else {
                    notes.append("cache.type '\(type)' is not an mlv link type; left out")
                }
            }
        }
    }

    /// mlv's URL for a DVC remote URL: `s3://…` as it is, a local folder relative to the
    /// workspace root (DVC's are relative to `.dvc/`); nil for other kinds (gs://, ssh://, …).
    static func remoteURL(_ url: String, dvcDir: String, root: String) -> String? {
        if url.hasPrefix("s3://") { return (try? RemoteURL.parse(url, workspaceRoot: root)) != nil ? url : nil }
        if url.contains("://") { return nil }
        if url.hasPrefix("/") { return url }
        let abs = Path.normalize(Path.join(dvcDir, url))
        return relative(abs, from: root)
    }

    /// `path` written relative to `base` (both absolute), with `..` where it lies outside.
    static func relative(_ path: String, from base: String) -> String {
        let a = path.split(separator: "/"), b = base.split(separator: "/")
        var common = 0
        while common < a.count, common < b.count, a[common] == b[common] { common += 1 }
        let parts = Array(repeating: "..", count: b.count - common) + a[common...].map(String.init)
        return parts.isEmpty ? "." : parts.joined(separator: "/")
    }
}
