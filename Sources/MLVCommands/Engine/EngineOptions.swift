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

/// A one-line progress bar on stderr, drawn only when stderr is a terminal, at most 10 times a second.
struct ProgressLine {
    private var lastDraw: UInt64 = 0

    mutating func draw(_ label: String, done: Int, total: Int) {
        guard Terminal.stderrIsTerminal, total > 0 else { return }
        let now = DispatchTime.now().uptimeNanoseconds
        if done < total && now - lastDraw < 100_000_000 { return }
        lastDraw = now
        let width = 30, filled = width * done / total
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        Terminal.writeError("\r\u{1B}[2K\(label) [\(bar)] \(done)/\(total)")
        Terminal.progressVisible = true
    }
}
