import MLVSupport
import ArgumentParser
import MLVKit

struct Cache: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cache",
        abstract: "Inspect the object cache.",
        subcommands: [Verify.self])

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "verify",
            abstract: "Rehash every cache object; move corrupted ones to .mlv/cache/quarantine/ (exit 1 if any).")

        func run() throws {
            let ws = try WorkspaceCommand.open()
            let r = try ws.verifyCache(progress: ProgressBar.renderer())
            ProgressBar.finish()
            for h in r.corrupted { print("corrupted: \(h) (moved to .mlv/cache/quarantine/)") }
            print("\(Format.plural(r.checked, "object")) verified (\(ByteCount.text(r.bytes))) in \(Format.seconds(r.seconds)), \(r.corrupted.count) corrupted")
            if !r.corrupted.isEmpty { throw ExitCode(1) }
        }
    }
}
