import ArgumentParser
import MLVSupport
#if canImport(Glibc)
import Glibc
#endif

package struct MLV: ParsableCommand {
    package static let version = "0.1.0"

    package static let configuration = CommandConfiguration(
        commandName: "mlv",
        abstract: "Data versioning and reproducible pipelines, with a built-in conv-net engine.",
        discussion: """
        mlv tracks data too large for git: `mlv add` moves it into a content-addressed cache and \
        writes a small pointer file that git tracks instead.
        """,
        version: MLV.version,
        subcommands: [
            Init.self, Add.self, Status.self, Diff.self, Move.self, Remove.self, Checkout.self, Commit.self, GC.self, Cache.self, Config.self, Install.self, CheckIgnore.self, Migrate.self,
            Repro.self, Dag.self, StageCommand.self, Params.self, Metrics.self, Artifacts.self, Model.self, Exp.self, Plots.self, LockCommand.self,
            Remote.self, Push.self, Fetch.self, Pull.self, Get.self, Import.self, ImportURL.self, Update.self, List.self,
            Train.self, Evaluate.self, Predict.self, Validate.self,
            Watch.self, Doctor.self, Version.self,
        ]
    )

    package init() {}
}

/// The process entry point: the only place that prints `mlv: error: …` and picks the exit code.
package enum MLVMain {
    package static func run(arguments: [String] = Array(CommandLine.arguments.dropFirst())) -> Never {
        if let first = arguments.first, let note = notYet[first] {
            fail(MessageError("'\(first)' is not an mlv command yet (DVC's `dvc \(first)`)", hint: note))
        }
        do {
            var command = try MLV.parseAsRoot(arguments)
            try command.run()
            exit(0)
        } catch let error as UserFacingError {
            fail(error)
        } catch let error as ExitCode {
            exit(error.rawValue)
        } catch {
            MLV.exit(withError: error)
        }
    }

    /// DVC commands mlv does not have (yet), named as such instead of "unknown option" errors.
    static let notYet: [String: String] = [
        "experiments": "mlv names it `mlv exp` (run, show, diff, apply, branch, remove, logs, push, pull)",
        "queue": "queue experiments with `mlv exp run --queue -S …` and run them with `mlv exp run --run-all -j N`",
        "freeze": "set `frozen: true` on the stage in pipeline.yaml",
        "unfreeze": "remove `frozen: true` from the stage in pipeline.yaml",
        "destroy": "remove .mlv/ and the .mlv pointer files by hand; mlv has no destroy",
        "unprotect": "mlv's copies are plain files (cache.type copy or reflink); with hardlink or symlink, copy the file over itself before editing",
        "root": "the workspace root is the folder holding .mlv/; stages see it as $MLV_ROOT",
        "get-url": "download the URL with curl, or track it with `mlv import-url`",
        "ls-url": "list the bucket with your S3 tool; mlv lists repositories with `mlv ls`",
        "du": "see sizes with `mlv ls URL -R --json` or `mlv status`",
        "data": "see `mlv status`, and `mlv diff` for what changed between commits",
        "studio": "mlv has no hosted service",
    ]

    static func fail(_ error: UserFacingError) -> Never {
        Terminal.clearProgressLine()
        var text = "mlv: error: \(TerminalText.visible(error.message))\n"
        if let hint = error.hint { text += "hint: \(TerminalText.visible(hint))\n" }
        Terminal.writeError(text)
        exit(error.exitCode)
    }
}
