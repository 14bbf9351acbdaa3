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
            Init.self, Add.self, Status.self, Diff.self, Move.self, Remove.self, Checkout.self, Commit.self, GC.self, Cache.self, Config.self, Install.self, CheckIgnore.self,
            Repro.self, Dag.self, StageCommand.self, Params.self, Metrics.self, Artifacts.self, Plots.self, LockCommand.self,
            Remote.self, Push.self, Fetch.self, Pull.self, Get.self, Import.self, ImportURL.self, Update.self, List.self,
            Train.self, Evaluate.self, Predict.self, Validate.self,
            Doctor.self, Version.self,
        ]
    )

    package init() {}
}

/// The process entry point: the only place that prints `mlv: error: …` and picks the exit code.
package enum MLVMain {
    package static func run(arguments: [String] = Array(CommandLine.arguments.dropFirst())) -> Never {
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

    static func fail(_ error: UserFacingError) -> Never {
        Terminal.clearProgressLine()
        var text = "mlv: error: \(TerminalText.visible(error.message))\n"
        if let hint = error.hint { text += "hint: \(TerminalText.visible(hint))\n" }
        Terminal.writeError(text)
        exit(error.exitCode)
    }
}
