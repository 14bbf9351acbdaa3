import ArgumentParser
import MLVKit

struct Config: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Get or set a configuration value (e.g. cache.type hardlink).",
        discussion: "Values go to .mlv/config.yaml (committed), or with --local to .mlv/config.local.yaml (git-ignored).")

    @Flag(help: "Use .mlv/config.local.yaml (machine-specific settings and secrets).")
    var local = false

    @Flag(name: .customLong("unset"), help: "Remove the key.")
    var unset = false

    @Argument(help: "A dotted key, e.g. cache.type or remote.storage.url.")
    var key: String

    @Argument(help: "The new value (omit to print the current one).")
    var value: String?

    func run() throws {
        let ws = try WorkspaceCommand.open()
        if unset {
            try ws.setConfig(key, nil, local: local)
        } else if let value {
            try ws.setConfig(key, value, local: local)
        } else {
            try WorkspaceConfig.validate(key: key, value: nil)
            guard let v = ws.config.values[key] else { throw WorkspaceError.missingConfigKey(key) }
            print(v)
        }
    }
}
