/// Which stage starts next: the run loop's decisions as a pure value, with no processes, files
/// or threads, so they can be tested alone. The executor (`Reproducer.run`) asks `next()` for a
/// stage, then either settles it (unchanged, frozen, restored from the run-cache) or starts its
/// command, and reports each command's end with `finished`.
///
///     var q = RunQueue(upstream: graph.upstream, selected: [0, 1, 2], jobs: 2)
///     while case .ready(let i)? = q.next() { q.started(i) }   // at most 2 running
///     q.finished(0, succeeded: true)                           // stages waiting on 0 may now be ready
///
/// A stage is ready when every selected stage it depends on is done; a stage below a failed or
/// blocked one is blocked. At most `jobs` commands run at once, and while `jobs` run no stage is
/// offered (even one that would settle without running), as before.
struct RunQueue: Equatable {
    enum State: Equatable { case pending, offered, running, done, failed, blocked }

    enum Step: Equatable {
        /// Every upstream stage is done: settle it or start it.
        case ready(Int)
        /// An upstream stage (`by`) failed or was blocked; this one will not run.
        case blocked(Int, by: Int)
    }

    private(set) var state: [State]
    /// Upstream stages within the selection, per stage.
    private let upstream: [[Int]]
    /// The selected stages in the order they are offered (pipeline order).
    private let order: [Int]
    let jobs: Int
    private(set) var running = 0
    /// Set after a failure when the run does not keep going: nothing more is offered.
    var stopping = false

    /// `upstream[i]`: the stages stage i depends on; `selected`: the stages to run, in pipeline
    /// order (the others count as done).
    init(upstream: [[Int]], selected: [Int], jobs: Int) {
        let inSelection = Set(selected)
        state = [State](repeating: .done, count: upstream.count)
        for i in selected { state[i] = .pending }
        self.upstream = upstream.map { $0.filter { inSelection.contains($0) } }
        order = selected
        self.jobs = max(1, jobs)
    }

    /// The next stage to settle or start, or one to report as blocked; nil when none can go now
    /// (all running slots taken, or every pending stage waits on a running one).
    mutating func next() -> Step? {
        guard !stopping, running < jobs else { return nil }
        for i in order where state[i] == .pending {
            if let bad = upstream[i].first(where: { state[$0] == .failed || state[$0] == .blocked }) {
                state[i] = .blocked
                return .blocked(i, by: bad)
            }
            guard upstream[i].allSatisfy({ state[$0] == .done }) else { continue }
            state[i] = .offered
            return .ready(i)
        }
        return nil
    }

    /// An offered stage needed no command (unchanged, frozen, restored).
    mutating func settled(_ i: Int) {
        precondition(state[i] == .offered, "settled a stage that was not offered")
        state[i] = .done
    }

    /// An offered stage's command started.
    mutating func started(_ i: Int) {
        precondition(state[i] == .offered, "started a stage that was not offered")
        state[i] = .running
        running += 1
    }

    /// A stage failed before its command started (its outs could not be prepared, say).
    mutating func failedToStart(_ i: Int) {
        precondition(state[i] == .offered, "failed a stage that was not offered")
        state[i] = .failed
    }

    /// A started command ended and its stage was recorded (`succeeded`) or not.
    mutating func finished(_ i: Int, succeeded: Bool) {
        precondition(state[i] == .running, "finished a stage that was not running")
        state[i] = succeeded ? .done : .failed
        running -= 1
    }

    /// A started command ended but its stage is not judged (the run is being abandoned).
    mutating func abandoned(_ i: Int) {
        precondition(state[i] == .running, "abandoned a stage that was not running")
        state[i] = .failed
        running -= 1
    }
}
