import ArgumentParser
import Foundation
import MLVKit
import MLVSupport

/// `mlv model …`: a model registry in git tags, in GTO's format.
struct Model: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model",
        abstract: "Register model versions and assign stages, as git tags in GTO's format (NAME@v1.2.0, NAME#prod#1).",
        subcommands: [Register.self, Promote.self, List.self, Show.self, Get.self])

    struct Register: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "register", abstract: "Tag a commit's model as a new version (NAME@vX.Y.Z).")
        @Argument(help: "The model's name.") var name: String
        @Option(help: "The version (semver with a v, e.g. v1.2.0; default: the latest's patch + 1).") var version: String?
        @Option(help: "The model's path, tracked by mlv (default: its path under artifacts: in pipeline.yaml).") var path: String?
        @Option(help: "The commit to register (default: HEAD).") var rev: String?

        func run() throws {
            let v = try ModelRegistry(try WorkspaceCommand.open()).register(name, version: version, path: path, rev: rev)
            print("registered \(v.name)@\(v.version) at \(v.commit.prefix(12)): \(v.path) (\(v.hash.prefix(12)))")
        }
    }

    struct Promote: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "promote", abstract: "Assign a stage to a version (tag NAME#STAGE#N).")
        @Argument(help: "The model's name.") var name: String
        @Argument(help: "The version.") var version: String
        @Option(help: "The stage (e.g. staging, prod).") var stage: String

        func run() throws {
            let tag = try ModelRegistry(try WorkspaceCommand.open()).promote(name, version: version, stage: stage)
            print("\(name)@\(version) is in \(stage) (\(tag))")
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "Each model: its latest version and which version each stage holds.")
        @Flag(help: "Print JSON.") var json = false

        func run() throws {
            let registry = ModelRegistry(try WorkspaceCommand.open())
            var rows: [[String: Any]] = []
            for name in try registry.names() {
                let versions = try registry.versions(of: name)
                var stages: [String: String] = [:]
                for v in versions { for s in v.stages { stages[s] = v.version } }
                rows.append(["name": name, "latest": versions.last?.version ?? "", "stages": stages])
            }
            if json { return try Console.json(rows) }
            if rows.isEmpty { return print("no models registered") }
            for r in rows {
                let stages = (r["stages"] as? [String: String] ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }
                print("\(r["name"]!)  \(r["latest"]!)" + (stages.isEmpty ? "" : "  (\(stages.joined(separator: ", ")))"))
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Every version of a model: commit, path, hash, stages and its commit's metrics.")
        @Argument(help: "The model's name.") var name: String
        @Flag(help: "Print JSON.") var json = false

        func run() throws {
            let ws = try WorkspaceCommand.open()
            let versions = try ModelRegistry(ws).versions(of: name)
            guard !versions.isEmpty else { throw MessageError("no model '\(name)' is registered", hint: "register it with `mlv model register \(name) --path PATH`") }
            var rows: [[String: Any]] = []
            for v in versions {
                let metrics = try PipelineView(ws).metricsTable([v.commit]).rows.compactMap { r -> (String, String)? in
                    r.values.first.flatMap { $0 }.map { (r.key, ValueTableOutput.text($0, precision: 5)) }
                }
                rows.append(["version": v.version, "commit": v.commit, "path": v.path, "hash": v.hash, "stages": v.stages,
                             "created": v.time, "metrics": Dictionary(metrics, uniquingKeysWith: { a, _ in a })])
            }
            if json { return try Console.json(rows) }
            for r in rows {
                let stages = (r["stages"] as? [String] ?? []).joined(separator: ", ")
                let metrics = (r["metrics"] as? [String: String] ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
                print("\(name)@\(r["version"]!)  \(String((r["commit"] as? String ?? "").prefix(12)))  \(r["path"]!)  \(String((r["hash"] as? String ?? "").prefix(12)))"
                      + (stages.isEmpty ? "" : "  [\(stages)]") + (metrics.isEmpty ? "" : "  \(metrics)"))
            }
        }
    }

    struct Get: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "get", abstract: "Write a version's model file or folder (from the cache, else the default remote), hash-verified.")
        @Argument(help: "The model's name.") var name: String
        @Option(help: "The stage whose version to get.") var stage: String?
        @Option(help: "The version to get (default: the latest).") var version: String?
        @Option(name: .shortAndLong, help: "Where to write it (default: its name, here).") var out: String?

        func validate() throws {
            if stage != nil && version != nil { throw ValidationError("give --stage or --version, not both") }
        }

        func run() throws {
            let ws = try WorkspaceCommand.open()
            let v = try ModelRegistry(ws).resolve(name, stage: stage, version: version)
            let r = try DataRegistry.get(url: ws.root, path: v.path, out: out, rev: v.commit)
            print("got \(name)@\(v.version) (\(v.path), \(ByteCount.text(r.bytes))) -> \(out ?? Path.base(v.path))")
        }
    }
}
