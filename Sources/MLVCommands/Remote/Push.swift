import ArgumentParser
import MLVKit

struct Push: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "push",
        abstract: "Upload the cache objects of tracked paths that the remote lacks.",
        discussion: """
        Only missing objects are sent; an interrupted push, run again, sends the rest. On S3, each push that \
        completes writes an index object (PREFIX/index/) of the objects it made present; the next push takes \
        what the index objects record as there without asking, and asks the remote about the rest. \
        --verify asks about every object (and drops index objects that name a missing one).
        """)

    @OptionGroup var options: TransferOptions
    @OptionGroup var revisions: RevisionOptions

    @Flag(help: "Ask the remote about every object instead of trusting what its index records; re-send what is missing.")
    var verify = false

    func run() throws {
        let ws = try WorkspaceCommand.open()
        let r = try ws.push(options.selection(revisions), remote: options.remote, jobs: options.jobs, verify: verify,
                            progress: ProgressBar.renderer())
        ProgressBar.finish()
        print(TransferOptions.summary(r, verb: "pushed"))
    }
}
