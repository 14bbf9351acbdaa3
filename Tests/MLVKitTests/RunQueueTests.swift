@testable import MLVKit
import Testing

/// The run loop's decisions, without processes: which stage starts next, how many at once,
/// and what a failure blocks.
@Suite struct RunQueueTests {
    /// Starts every stage the queue offers; the indices started.
    func startAll(_ q: inout RunQueue) -> [Int] {
        var started: [Int] = []
        while let step = q.next() {
            guard case .ready(let i) = step else { Issue.record("unexpected \(step)"); break }
            q.started(i)
            started.append(i)
        }
        return started
    }

    @Test func independentStagesRunExactlyJobsAtOnce() {
        var q = RunQueue(upstream: [[], [], [], [], [], []], selected: [0, 1, 2, 3, 4, 5], jobs: 4)
        #expect(startAll(&q) == [0, 1, 2, 3])
        #expect(q.running == 4)
        q.finished(2, succeeded: true)
        #expect(startAll(&q) == [4])
        q.finished(0, succeeded: true)
        q.finished(1, succeeded: true)
        #expect(startAll(&q) == [5])
        for i in [3, 4, 5] { q.finished(i, succeeded: true) }
        #expect(q.next() == nil && q.running == 0)
        #expect(q.state.allSatisfy { $0 == .done })
    }

    @Test func aStageWaitsForEverythingUpstream() {
        // 0 → 2, 1 → 2, 2 → 3
        var q = RunQueue(upstream: [[], [], [0, 1], [2]], selected: [0, 1, 2, 3], jobs: 8)
        #expect(startAll(&q) == [0, 1])
        q.finished(0, succeeded: true)
        #expect(startAll(&q) == [])
        q.finished(1, succeeded: true)
        #expect(startAll(&q) == [2])
        q.finished(2, succeeded: true)
        #expect(startAll(&q) == [3])
    }

    @Test func settledStagesFreeTheirDownstreamAtOnce() {
        var q = RunQueue(upstream: [[], [0], [1]], selected: [0, 1, 2], jobs: 1)
        #expect(q.next() == .ready(0)); q.settled(0)
        #expect(q.next() == .ready(1)); q.settled(1)
        #expect(q.next() == .ready(2)); q.started(2)
        #expect(q.next() == nil)
        q.finished(2, succeeded: true)
        #expect(q.next() == nil && q.running == 0)
    }

    @Test func aFailureBlocksWhatDependsOnItButNotTheRest() {
        // 0 → 1 → 2; 3 alone
        var q = RunQueue(upstream: [[], [0], [1], []], selected: [0, 1, 2, 3], jobs: 2)
        #expect(startAll(&q) == [0, 3])
        q.finished(0, succeeded: false)
        #expect(q.next() == .blocked(1, by: 0))
        #expect(q.next() == .blocked(2, by: 1))
        #expect(q.next() == nil)
        q.finished(3, succeeded: true)
        #expect(q.state == [.failed, .blocked, .blocked, .done])
    }

    @Test func stoppingOffersNothingMore() {
        var q = RunQueue(upstream: [[], [], []], selected: [0, 1, 2], jobs: 1)
        #expect(startAll(&q) == [0])
        q.finished(0, succeeded: false)
        q.stopping = true
        #expect(q.next() == nil)
        #expect(q.state == [.failed, .pending, .pending])
    }

    @Test func stagesOutsideTheSelectionCountAsDone() {
        // 1 depends on 0, which is not selected (its outs are what the workspace holds).
        var q = RunQueue(upstream: [[], [0]], selected: [1], jobs: 1)
        #expect(q.next() == .ready(1))
    }

    @Test func jobsBelowOneMeansOne() {
        var q = RunQueue(upstream: [[], []], selected: [0, 1], jobs: 0)
        #expect(startAll(&q) == [0])
    }
}
