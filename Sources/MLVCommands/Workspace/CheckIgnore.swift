import ArgumentParser
import MLVKit

struct CheckIgnore: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-ignore",
        abstract: "Say which paths .mlvignore files exclude (exit 1 when none is).")

    @Argument(help: "Paths to check.", completion: .file())
    var paths: [String]

    @Flag(name: [.customShort("d"), .long], help: "Show the deciding rule (FILE:LINE:PATTERN), and paths a ! rule keeps.")
    var details = false

    func run() throws {
        let verdicts = try IgnoreCheck(try WorkspaceCommand.open()).check(paths)
        for v in verdicts where v.ignored || (details && v.rule != nil) {
            if details, let r = v.rule { print("\(r.file):\(r.line):\(r.pattern)\t\(v.path)") } else { print(v.path) }
        }
        if !verdicts.contains(where: \.ignored) { throw ExitCode(1) }
    }
}
