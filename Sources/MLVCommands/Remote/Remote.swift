import ArgumentParser
import MLVKit

struct Remote: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remote",
        abstract: "Manage remotes: S3 buckets (s3://bucket/prefix) or local directories that hold the cache's objects.",
        discussion: """
        Options per remote (`mlv remote modify NAME OPTION VALUE`): endpoint_url, region, profile, \
        addressing (path|virtual), jobs, retries, read_timeout, multipart_threshold, multipart_chunk, \
        unsigned_payload (true: uploads are not signed over their SHA-256; default false). \
        Secrets (access_key_id, secret_access_key, session_token) only with --local, which writes the \
        git-ignored .mlv/config.local.yaml; or use AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or AWS_PROFILE.
        """,
        subcommands: [Add.self, List.self, Modify.self, Remove.self, Default.self])

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "add", abstract: "Add a remote.")
        @Flag(name: .shortAndLong, help: "Make it the default remote.") var `default` = false
        @Flag(help: "Write to .mlv/config.local.yaml (this machine only).") var local = false
        @Flag(name: .shortAndLong, help: "Replace a remote of the same name.") var force = false
        @Argument(help: "The remote's name.") var name: String
        @Argument(help: "s3://bucket/prefix, or a directory path.") var url: String

        func run() throws {
            try RemoteRegistry(WorkspaceCommand.open()).add(name, url: url, makeDefault: `default`, local: local, force: force)
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List the remotes (the default marked with *).")
        func run() throws {
            for r in RemoteRegistry(try WorkspaceCommand.open()).list() { print("\(r.isDefault ? "*" : " ") \(r.name)\t\(r.url)") }
        }
    }

    struct Modify: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "modify", abstract: "Set or unset one option of a remote.")
        @Flag(help: "Write to .mlv/config.local.yaml (required for secrets).") var local = false
        @Flag(help: "Remove the option.") var unset = false
        @Argument(help: "The remote's name.") var name: String
        @Argument(help: "The option, e.g. endpoint_url.") var option: String
        @Argument(help: "The new value.") var value: String?

        func validate() throws {
            if unset == (value != nil) { throw ValidationError(unset ? "--unset takes no value" : "give a value, or --unset") }
        }

        func run() throws {
            try RemoteRegistry(WorkspaceCommand.open()).modify(name, option: option, value: value, local: local)
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "remove", abstract: "Remove a remote (its objects stay where they are).")
        @Argument(help: "The remote's name.") var name: String
        func run() throws { try RemoteRegistry(WorkspaceCommand.open()).remove(name) }
    }

    struct Default: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "default", abstract: "Print or set the default remote.")
        @Flag(help: "Write to .mlv/config.local.yaml.") var local = false
        @Flag(help: "Unset the default.") var unset = false
        @Argument(help: "The remote's name.") var name: String?

        func run() throws {
            let remotes = RemoteRegistry(try WorkspaceCommand.open())
            if name == nil && !unset {
                guard let d = remotes.list().first(where: \.isDefault) else { throw RemoteError.noDefaultRemote(known: remotes.list().map(\.name)) }
                print(d.name)
                return
            }
            try remotes.setDefault(unset ? nil : name, local: local)
        }
    }
}
