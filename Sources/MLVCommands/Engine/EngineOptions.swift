import ArgumentParser
import Dispatch
import MLVEngine

/// The option every engine command shares.
struct EngineOptions: ParsableArguments {
    @Option(help: "Threads for the engine (default: the CPUs available). The outputs are the same for every thread count.")
    var threads: Int?

    var threadCount: Int { threads ?? EngineRuntime.availableCores }

    func validate() throws {
        if let threads, threads < 1 || threads > 256 {
            throw ValidationError("--threads must be between 1 and 256")
        }
    }
}

/// Training's progress through an epoch: the one progress bar (ProgressBar.draw), at most 10
/// times a second.
struct ProgressLine {
    private var lastDraw: UInt64 = 0

    mutating func draw(_ label: String, done: Int, total: Int) {
        guard Terminal.stderrIsTerminal, total > 0 else { return }
        let now = DispatchTime.now().uptimeNanoseconds
        if done < total && now - lastDraw < 100_000_000 { return }
        lastDraw = now
        ProgressBar.draw(label, fraction: Double(done) / Double(total), detail: "\(done)/\(total)")
    }
}
