#if canImport(Glibc)
import Glibc
#endif

/// An error that knows whether trying again may help.
package protocol RetryableError: Error {
    var isRetryable: Bool { get }
}

extension TransportError: RetryableError {
    package var isRetryable: Bool { retryable }
}

/// Exponential backoff with full jitter (AWS architecture blog, "Exponential Backoff and
/// Jitter"): before retry n (1-based) wait a uniformly random time in
/// [0, min(maxDelay, baseDelay · 2^(n-1))]. Only errors that say they are retryable are retried.
package struct RetryPolicy: Sendable {
    /// Retries after the first attempt (0: one attempt only).
    package var retries: Int
    package var baseDelay: Double
    package var maxDelay: Double
    /// Injected for tests: a random number in 0...1, and a sleep.
    package var random: @Sendable () -> Double
    package var sleep: @Sendable (Double) -> Void

    package init(retries: Int = 5, baseDelay: Double = 0.1, maxDelay: Double = 5,
                random: @escaping @Sendable () -> Double = { Double.random(in: 0...1) },
                sleep: @escaping @Sendable (Double) -> Void = { s in if s > 0 { usleep(UInt32(min(s, 60) * 1_000_000)) } }) {
        self.retries = max(0, retries)
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.random = random
        self.sleep = sleep
    }

    /// The wait before retry `n` (1-based).
    package func delay(beforeRetry n: Int) -> Double {
        let ceiling = min(maxDelay, baseDelay * Double(1 << min(n - 1, 30)))
        return random() * ceiling
    }

    /// Runs `body` (given the attempt number, 0-based) until it succeeds, throws an error that
    /// is not retryable, or the retries are spent; then the last error is rethrown.
    package func run<T>(_ body: (Int) throws -> T) throws -> T {
        var attempt = 0
        while true {
            do {
                return try body(attempt)
            } catch let e as RetryableError where e.isRetryable && attempt < retries {
                attempt += 1
                sleep(delay(beforeRetry: attempt))
            }
        }
    }
}
