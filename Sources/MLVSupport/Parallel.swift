import Dispatch
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Runs `body` over `count` items on `workers` threads, each worker pulling the next index.
/// `makeContext` builds one context per worker (buffers, hashers), so nothing is allocated per item.
/// The first error stops the remaining work and is rethrown.
package enum Parallel {
    /// How many threads parallel loops use by default: `MLV_JOBS` when it is a positive
    /// number, else the CPUs this process may run on. Read once, at first use.
    package static let defaultWorkers = workers(environment: Environment.get)

    /// `defaultWorkers` as `environment` gives it (a test passes its own).
    package static func workers(environment: (String) -> String?) -> Int {
        if let s = environment("MLV_JOBS"), let n = Int(s), n > 0 { return n }
        return availableCPUs
    }

    /// The CPUs this process may run on (its affinity mask: `taskset`, a container's cpuset).
    /// Read once from `Cpus_allowed` in /proc/self/status (glibc's sched_getaffinity is not
    /// exposed to Swift); the CPUs online when that cannot be read.
    package static let availableCPUs: Int = {
        if let status = try? UntrustedFile.readText("/proc/self/status", shownAs: "/proc/self/status", what: "process status"),
           let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Cpus_allowed:") }) {
            let mask = line.dropFirst("Cpus_allowed:".count).filter { $0 != "," && $0 != " " && $0 != "\t" }
            let n = mask.reduce(0) { $0 + (UInt8(String($1), radix: 16) ?? 0).nonzeroBitCount }
            if n > 0 { return n }
        }
        return max(1, ProcessInfo.processInfo.activeProcessorCount)
    }()

    package static func forEach<Context>(
        count: Int, workers: Int = defaultWorkers,
        makeContext: () -> Context,
        _ body: (Int, inout Context) throws -> Void
    ) throws {
        if count == 0 { return }
        let n = max(1, min(workers, count))
        if n == 1 {
            var ctx = makeContext()
            for i in 0..<count { try body(i, &ctx) }
            return
        }
        let queue = WorkQueue(count: count)
        var contexts = (0..<n).map { _ in makeContext() }
        contexts.withUnsafeMutableBufferPointer { ctxs in
            DispatchQueue.concurrentPerform(iterations: n) { w in queue.drain { i in try body(i, &ctxs[w]) } }
        }
        try queue.rethrow()
    }

    /// Like `forEach`, on `workers` threads of its own: for work that waits rather than computes
    /// (network transfers). Dispatch's pool keeps about one thread per core busy, so eight
    /// "parallel" uploads would run two at a time on two cores. The threads are joined before
    /// this returns.
    package static func forEachOnThreads(count: Int, workers: Int, _ body: (Int) throws -> Void) throws {
        if count == 0 { return }
        let n = max(1, min(workers, count))
        if n == 1 {
            for i in 0..<count { try body(i) }
            return
        }
        try withoutActuallyEscaping(body) { body in
            let queue = WorkQueue(count: count)
            let work = { queue.drain(body) }
            let threads = (0..<n).compactMap { _ in PosixThread.start(work) }
            if threads.isEmpty { work() }
            for t in threads { pthread_join(t, nil) }
            try queue.rethrow()
        }
    }
}

/// Indices 0..<count handed out one at a time to the workers of a parallel loop; the first error
/// stops the rest and is kept for the caller.
final class WorkQueue: @unchecked Sendable {
    private let lock = Lock()
    private let count: Int
    private var next = 0
    private var firstError: Error?

    init(count: Int) { self.count = count }

    /// Runs `body` on indices until none is left or some worker failed.
    func drain(_ body: (Int) throws -> Void) {
        while true {
            lock.lock()
            if firstError != nil || next >= count { lock.unlock(); return }
            let i = next
            next += 1
            lock.unlock()
            do {
                try body(i)
            } catch {
                lock.lock()
                if firstError == nil { firstError = error }
                lock.unlock()
                return
            }
        }
    }

    func rethrow() throws { if let firstError { throw firstError } }
}

/// Thread-safe counters for a long operation; `render` is called at most every 100 ms.
package final class ProgressCounter: @unchecked Sendable {
    package struct Snapshot: Sendable {
        package var label: String
        package var files: Int
        package var totalFiles: Int
        package var bytes: Int64
        package var totalBytes: Int64
        package var elapsed: Double
    }

    private let lock = NSLock()
    private var snapshot: Snapshot
    private let start = MonotonicClock.monotonicSeconds()
    private var lastRender = 0.0
    private let render: ((Snapshot) -> Void)?

    package init(label: String, totalFiles: Int, totalBytes: Int64, render: ((Snapshot) -> Void)?) {
        snapshot = Snapshot(label: label, files: 0, totalFiles: totalFiles, bytes: 0, totalBytes: totalBytes, elapsed: 0)
        self.render = render
    }

    package func advance(files: Int = 1, bytes: Int64) {
        guard let render else { return }
        lock.lock()
        snapshot.files += files
        snapshot.bytes = [snapshot.bytes, bytes].saturatingSum()
        let now = MonotonicClock.monotonicSeconds()
        var toRender: Snapshot?
        if now - lastRender >= 0.1 {
            lastRender = now
            snapshot.elapsed = now - start
            toRender = snapshot
        }
        lock.unlock()
        if let toRender { render(toRender) }
    }

    package var elapsed: Double { MonotonicClock.monotonicSeconds() - start }
}

/// Plain pthreads, for work beside Dispatch's pool.
package enum PosixThread {
    /// A joinable thread running `body`; nil when none could be made.
    package static func start(_ body: @escaping () -> Void) -> pthread_t? {
        final class Box { let body: () -> Void; init(_ b: @escaping () -> Void) { body = b } }
        let box = Unmanaged.passRetained(Box(body)).toOpaque()
        var tid = pthread_t()
        let rc = pthread_create(&tid, nil, { arg in
            Unmanaged<Box>.fromOpaque(arg!).takeRetainedValue().body()
            return nil
        }, box)
        if rc != 0 {
            Unmanaged<Box>.fromOpaque(box).release()
            return nil
        }
        return tid
    }

    /// One long job beside the current thread, detached (run here when no thread can be made).
    package static func detach(_ body: @escaping () -> Void) {
        if let tid = start(body) { pthread_detach(tid) } else { body() }
    }
}

/// A pthread mutex (no Foundation needed).
package final class Lock: @unchecked Sendable {
    private var m = pthread_mutex_t()
    package init() { pthread_mutex_init(&m, nil) }
    deinit { pthread_mutex_destroy(&m) }
    package func lock() { pthread_mutex_lock(&m) }
    package func unlock() { pthread_mutex_unlock(&m) }
}
