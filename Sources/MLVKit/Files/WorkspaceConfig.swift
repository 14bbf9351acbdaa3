import MLVSupport
import Yams

/// `.mlv/config.yaml` (committed) and `.mlv/config.local.yaml` (git-ignored, machine-specific and
/// secrets), merged: local values win. Keys are dotted paths (`cache.type`, `remote.s3.url`),
/// stored as nested mappings with sorted keys.
package struct WorkspaceConfig: Equatable, Sendable {
    package var values: [String: String]

    package init(values: [String: String] = [:]) { self.values = values }

    /// The keys mlv understands; `*` matches one name (a remote's).
    package static let knownKeys = [
        "cache.type", "cache.max_size", "core.remote", "core.lock_timeout",
        "remote.*.url", "remote.*.endpoint_url", "remote.*.region", "remote.*.profile",
        "remote.*.access_key_id", "remote.*.secret_access_key", "remote.*.session_token",
        "remote.*.addressing", "remote.*.jobs",
        "remote.*.retries", "remote.*.read_timeout", "remote.*.multipart_threshold", "remote.*.multipart_chunk",
        "remote.*.unsigned_payload",
    ]

    package static func isKnown(_ key: String) -> Bool {
        let parts = key.split(separator: ".", omittingEmptySubsequences: false)
        return knownKeys.contains { pattern in
            let p = pattern.split(separator: ".")
            return p.count == parts.count && zip(p, parts).allSatisfy { $0 == "*" ? !$1.isEmpty : $0 == $1 }
        }
    }

    package static func validate(key: String, value: String?) throws {
        guard isKnown(key) else {
            let hint = Suggestion.closest(to: key, in: knownKeys.filter { !$0.contains("*") }).map { "did you mean '\($0)'?" }
            throw WorkspaceError.unknownConfigKey(key, hint: hint)
        }
        guard let value else { return }
        if key == "cache.type" { _ = try linkTypes(value, source: "cache.type") }
        if key == "cache.max_size", RemoteSettings.parseSize(value) == nil {
            throw WorkspaceError.invalidConfigValue(key: key, value: value, expected: "a size such as 50GiB (B, KB, MB, GB, TB, KiB, MiB, GiB, TiB)")
        }
        if key == "core.lock_timeout", lockTimeout(value) == nil {
            throw WorkspaceError.invalidConfigValue(key: key, value: value, expected: "a number of seconds from 0 to 86400")
        }
    }

    /// `core.lock_timeout` (or `MLV_LOCK_TIMEOUT`): seconds from 0 to a day; nil when invalid.
    package static func lockTimeout(_ text: String) -> Double? {
        guard let v = Double(Substring(text).trimmingCharacters(in: " ")), v.isFinite, v >= 0, v <= 86_400 else { return nil }
        return v
    }

    /// `cache.type`: a comma-separated preference list (default "reflink,copy").
    package var linkTypes: [LinkType] {
        (try? Self.linkTypes(values["cache.type"] ?? "reflink,copy", source: "cache.type")) ?? [.reflink, .copy]
    }

    static func linkTypes(_ text: String, source: String) throws -> [LinkType] {
        let names = text.split(separator: ",").map { $0.trimmingCharacters(in: " ") }
        let types = try names.map { name -> LinkType in
            guard let t = LinkType(rawValue: name) else {
                throw WorkspaceError.invalidConfigValue(key: source, value: text, expected: "reflink, copy, hardlink or symlink (or a comma-separated list)")
            }
            return t
        }
        guard !types.isEmpty else { throw WorkspaceError.invalidConfigValue(key: source, value: text, expected: "at least one link type") }
        return types
    }

    /// Reads one config file (missing → empty).
    package static func load(_ path: String, displayName: String) throws -> WorkspaceConfig {
        guard FS.exists(path) else { return WorkspaceConfig() }
        return try parse(try UntrustedFile.readText(path, shownAs: displayName, what: "a config file"), displayName: displayName)
    }

    /// One config file's text (another repository's, read from git).
    package static func parse(_ text: String, displayName: String) throws -> WorkspaceConfig {
        guard let doc = try YAMLNode.parse(text, file: displayName), !doc.isNull else { return WorkspaceConfig() }
        var values: [String: String] = [:]
        func walk(_ node: YAMLNode, prefix: String) throws {
            for (key, keyNode, value) in try node.mapping(prefix.isEmpty ? "the config" : "'\(prefix)'") {
                let full = prefix.isEmpty ? key : prefix + "." + key
                if value.node.mapping != nil {
                    try walk(value, prefix: full)
                } else {
                    guard isKnown(full) else {
                        let hint = Suggestion.closest(to: full, in: knownKeys.filter { !$0.contains("*") }).map { "did you mean '\($0)'?" }
                        throw keyNode.error("unknown config key '\(full)'", hint: hint)
                    }
                    let text = try value.string("'\(full)'")
                    do { try validate(key: full, value: text) } catch let e as WorkspaceError {
                        throw value.error(e.message, hint: e.hint)
                    }
                    values[full] = text
                }
            }
        }
        try walk(doc, prefix: "")
        return WorkspaceConfig(values: values)
    }

    /// Nested YAML with sorted keys (deterministic bytes).
    package func serialized() throws -> String {
        if values.isEmpty { return "{}\n" }
        indirect enum Tree { case leaf(String), branch([String: Tree]) }
        var root: [String: Tree] = [:]
        func insert(_ parts: ArraySlice<Substring>, _ value: String, into map: inout [String: Tree]) {
            let k = String(parts.first!)
            if parts.count == 1 { map[k] = .leaf(value); return }
            var sub: [String: Tree] = [:]
            if case .branch(let existing)? = map[k] { sub = existing }
            insert(parts.dropFirst(), value, into: &sub)
            map[k] = .branch(sub)
        }
        for (k, v) in values { insert(ArraySlice(k.split(separator: ".")), v, into: &root) }
        func node(_ map: [String: Tree]) -> Node {
            Node(map.keys.sorted().map { k -> (Node, Node) in
                switch map[k]! {
                case .leaf(let v): return (Node(k), Node(v))
                case .branch(let m): return (Node(k), node(m))
                }
            })
        }
        return try YAMLText.serialize(node(root))
    }
}
