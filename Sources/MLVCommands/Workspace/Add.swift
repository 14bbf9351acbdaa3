import MLVSupport
import ArgumentParser
import MLVKit

struct Add: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Track files or directories: store them in the cache and write PATH.mlv pointers.",
        discussion: "Pointers and .gitignore entries are staged in git. Wildcards in quotes are expanded by mlv.")

    @Argument(help: "Files or directories to track.", completion: .file())
    var paths: [String]

    @Option(name: .shortAndLong, help: "Also commit the pointers and .gitignore files with this message.")
    var message: String?

    func run() throws {
        let ws = try WorkspaceCommand.open()
        let r = try ws.add(paths, options: TrackOptions(message: message, progress: ProgressBar.renderer()))
        ProgressBar.finish()
        TrackSummary.print(r, verb: "added")
    }
}

enum TrackSummary {
    static func print(_ r: TrackResult, verb: String) {
        for p in r.changed { Console.line("\(verb) \(p)") }
        var line = "\(Format.plural(r.files, "file")), \(ByteCount.text(r.bytes)) in \(Format.seconds(r.seconds))"
        if !r.unchanged.isEmpty { line += "; \(r.unchanged.count) unchanged" }
        Console.line(line)
        if let c = r.commit { Console.line("committed \(c.prefix(12))") }
    }
}
