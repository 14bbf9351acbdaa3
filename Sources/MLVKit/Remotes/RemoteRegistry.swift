import MLVSupport

/// The workspace's remotes as its config names them. `mlv remote add|list|modify|remove|default`
/// edit `remote.NAME.*` and `core.remote` in `.mlv/config.yaml` (or, with `local`, the
/// git-ignored `.mlv/config.local.yaml`) through it.
package struct RemoteRegistry {
    package let ws: Workspace
    package init(_ ws: Workspace) { self.ws = ws }
    private var config: WorkspaceConfig { ws.config }

    package struct RemoteEntry: Sendable, Equatable {
        package var name: String
        package var url: String
        package var isDefault: Bool
    }

    package func list() -> [RemoteEntry] {
        RemoteSettings.names(in: config).map {
            RemoteEntry(name: $0, url: config.values["remote.\($0).url"] ?? "", isDefault: config.values["core.remote"] == $0)
        }
    }

    static func validateName(_ name: String) throws {
        guard !name.isEmpty, name.utf8.count <= 64,
              name.utf8.allSatisfy({ (97...122).contains($0) || (65...90).contains($0) || (48...57).contains($0) || $0 == 45 || $0 == 95 })
        else { throw WorkspaceError.invalidConfigValue(key: "remote name", value: name, expected: "letters, digits, '-' and '_' (at most 64)") }
    }

    package func add(_ name: String, url: String, makeDefault: Bool, local: Bool, force: Bool = false) throws {
        try Self.validateName(name)
        _ = try RemoteURL.parse(url, workspaceRoot: ws.root)
        if config.values["remote.\(name).url"] != nil && !force { throw RemoteError.remoteExists(name) }
        try ws.setConfig("remote.\(name).url", url, local: local)
        if makeDefault { try ws.setConfig("core.remote", name, local: local) }
    }

    package func modify(_ name: String, option: String, value: String?, local: Bool) throws {
        guard config.values["remote.\(name).url"] != nil else { throw RemoteError.unknownRemote(name, known: RemoteSettings.names(in: config)) }
        guard RemoteSettings.options.contains(option) else {
            let hint = Suggestion.closest(to: option, in: RemoteSettings.options).map { "did you mean '\($0)'?" }
            throw WorkspaceError.unknownConfigKey("remote.\(name).\(option)", hint: hint ?? "options: \(RemoteSettings.options.joined(separator: ", "))")
        }
        if RemoteSettings.secretOptions.contains(option) && !local && value != nil { throw RemoteError.secretNotLocal(option: option) }
        if let value {
            if option == "url" { _ = try RemoteURL.parse(value, workspaceRoot: ws.root) }
            try RemoteSettings.validate(option: option, value: value)
        }
        try ws.setConfig("remote.\(name).\(option)", value, local: local)
    }

    /// Removes every `remote.NAME.*` key from both config files, and `core.remote` if it names it.
    package func remove(_ name: String) throws {
        guard config.values["remote.\(name).url"] != nil else { throw RemoteError.unknownRemote(name, known: RemoteSettings.names(in: config)) }
        for local in [false, true] {
            let path = Path.join(ws.mlvDir, local ? "config.local.yaml" : "config.yaml")
            let file = try WorkspaceConfig.load(path, displayName: local ? ".mlv/config.local.yaml" : ".mlv/config.yaml")
            for key in file.values.keys.sorted() where key.hasPrefix("remote.\(name).") || (key == "core.remote" && file.values[key] == name) {
                try ws.setConfig(key, nil, local: local)
            }
        }
    }

    package func setDefault(_ name: String?, local: Bool) throws {
        if let name {
            guard config.values["remote.\(name).url"] != nil else { throw RemoteError.unknownRemote(name, known: RemoteSettings.names(in: config)) }
        }
        try ws.setConfig("core.remote", name, local: local)
    }
}
