import MLVHTTP
import MLVSupport
import Testing

@Suite struct RetryPolicyTests {
    struct Flaky: RetryableError { var isRetryable: Bool }

    final class Recorder: @unchecked Sendable {
        let lock = Lock()
        var sleeps: [Double] = []
        func add(_ s: Double) { lock.lock(); sleeps.append(s); lock.unlock() }
    }

    @Test func fullJitterGrowsExponentiallyUpToTheCap() {
        let r = Recorder()
        let policy = RetryPolicy(retries: 6, baseDelay: 0.1, maxDelay: 1, random: { 1.0 }, sleep: { r.add($0) })
        var calls = 0
        #expect(throws: Flaky.self) {
            try policy.run { _ in calls += 1; throw Flaky(isRetryable: true) }
        }
        #expect(calls == 7)
        #expect(r.sleeps.map { ($0 * 1000).rounded() } == [100, 200, 400, 800, 1000, 1000])
        // Full jitter: the wait is the random fraction of the ceiling.
        let half = RetryPolicy(retries: 3, baseDelay: 0.1, maxDelay: 1, random: { 0.5 }, sleep: { _ in })
        #expect(half.delay(beforeRetry: 3) == 0.2)
    }

    @Test func succeedsAfterTransientFailures() throws {
        let policy = RetryPolicy(retries: 5, random: { 0 }, sleep: { _ in })
        var calls = 0
        let v = try policy.run { attempt -> Int in
            calls += 1
            if attempt < 2 { throw Flaky(isRetryable: true) }
            return attempt
        }
        #expect(v == 2 && calls == 3)
    }

    @Test func neverRetriesWhatCannotHelp() {
        let r = Recorder()
        let policy = RetryPolicy(retries: 5, random: { 1 }, sleep: { r.add($0) })
        var calls = 0
        #expect(throws: Flaky.self) { try policy.run { _ in calls += 1; throw Flaky(isRetryable: false) } }
        #expect(calls == 1 && r.sleeps.isEmpty)
    }
}
