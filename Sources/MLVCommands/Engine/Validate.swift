import ArgumentParser
import MLVEngine
import MLVSupport

struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check an image-folder dataset against the expectations in the `validate:` section of a params file.",
        discussion: """
            Checks images per class, class balance, image size and channels, unreadable files, and identical \
            files across splits (train/test leakage) and across classes. Prints one line per expectation, writes \
            the same as JSON with --report (no timings: a pipeline can track it), and exits 1 when any expectation \
            fails, so a pipeline stops there.
            """)

    @Argument(help: "The image folder: DIR/<class>/*.png or DIR/{train,val,test}/<class>/*.png.")
    var data: String

    @Option(help: "The params file with a `validate:` section.")
    var params = "params.yaml"

    @Option(help: "Also write the report as JSON to this file.")
    var report: String?

    @OptionGroup var engine: EngineOptions

    func run() throws {
        let expectations = try DatasetExpectations.load(path: params)
        let result = try DatasetValidator.validate(data: data, expectations: expectations, threads: engine.threadCount)
        print(result.table, terminator: "")
        if let report {
            try FS.makeDirectories(Path.parent(Path.absolute(report)))
            try AtomicFile.write(result.json, to: report)
        }
        if !result.failed.isEmpty {
            throw MessageError("dataset '\(data)' failed \(result.failed.count) of \(result.checks.count) expectations: \(result.failed.map(\.name).joined(separator: ", "))",
                               hint: "see the lines marked FAIL above\(report.map { " and \($0)" } ?? "")", exitCode: 1)
        }
    }
}
