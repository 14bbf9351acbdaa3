import Dispatch
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Runs `body` over `count` items on `workers` threads, each worker pulling the next index.
/// `makeContext` builds one context per worker (buffers, hashers), so nothing is allocated per item.
/// The first error stops the remaining work and is rethrown.
public enum Parallel {
    public static var defaultWorkers: Int {
        if let s = Environment.get("MLV_JOBS"), let n = Int(s), n > 0 { return n }
        return availableCPUs
    }

    /// The CPUs this process may run on (its affinity mask: `taskset`, a container's cpuset).
    /// Read from `Cpus_allowed` in /proc/self/status (glibc's sched_getaffinity is not exposed
    /// to Swift); the CPUs online when that cannot be read.
    public static var availableCPUs: Int {
        if let status = try? UntrustedFile.readText("/proc/self/status", shownAs: "/proc/self/status", what: "process status"),
           let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Cpus_allowed:") }) {
            let mask = line.dropFirst("Cpus_allowed:".count).filter { $0 != "," && $0 != " " && $0 != "\t" }
            let n = mask.reduce(0) { $0 + (UInt8(String($1), radix: 16) ?? 0).nonzeroBitCount }
            if n > 0 { return n }
        }
        return max(1, ProcessInfo.processInfo.activeProcessorCount)
    }

    public static func forEach<Context>(
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
        let lock = NSLock()
        var next = 0
        var firstError: Error?
        var contexts = (0..<n).map { _ in makeContext() }
        contexts.withUnsafeMutableBufferPointer { ctxs in
            DispatchQueue.concurrentPerform(iterations: n) { w in
                while true {
                    lock.lock()
                    if firstError != nil || next >= count { lock.unlock(); return }
                    let i = next
                    next += 1
                    lock.unlock()
                    do {
                        try body(i, &ctxs[w])
                    } catch {
                        lock.lock()
                        if firstError == nil { firstError = error }
                        lock.unlock()
                        return
                    }
                }
            }
        }
        if let firstError { throw firstError }
    }
}

/// Thread-safe counters for a long operation; `render` is called at most every 100 ms.
public final class ProgressCounter: @unchecked Sendable {
    public struct Snapshot: Sendable {
        public var label: String
        public var files: Int
        public var totalFiles: Int
        public var bytes: Int64
        public var totalBytes: Int64
        public var elapsed: Double
    }

    private let lock = NSLock()
    private var snapshot: Snapshot
    private let start = Clock.monotonicSeconds()
    private var lastRender = 0.0
    private let render: ((Snapshot) -> Void)?

    public init(label: String, totalFiles: Int, totalBytes: Int64, render: ((Snapshot) -> Void)?) {
        snapshot = Snapshot(label: label, files: 0, totalFiles: totalFiles, bytes: 0, totalBytes: totalBytes, elapsed: 0)
        self.render = render
    }

    public func advance(files: Int = 1, bytes: Int64) {
        guard let render else { return }
        lock.lock()
        snapshot.files += files
        snapshot.bytes = [snapshot.bytes, bytes].saturatingSum()
        let now = Clock.monotonicSeconds()
        var toRender: Snapshot?
        if now - lastRender >= 0.1 {
            lastRender = now
            snapshot.elapsed = now - start
            toRender = snapshot
        }
        lock.unlock()
        if let toRender { render(toRender) }
    }

    public var elapsed: Double { Clock.monotonicSeconds() - start }
}

/// A plain detached thread (for one long job beside the current thread).
public enum Thread {
    public static func detach(_ body: @escaping () -> Void) {
        final class Box { let body: () -> Void; init(_ b: @escaping () -> Void) { body = b } }
        let box = Unmanaged.passRetained(Box(body)).toOpaque()
        var tid = pthread_t()
        let rc = pthread_create(&tid, nil, { arg in
            let b = Unmanaged<Box>.fromOpaque(arg!).takeRetainedValue()
            b.body()
            return nil
        }, box)
        if rc != 0 {
            Unmanaged<Box>.fromOpaque(box).takeRetainedValue().body()
        } else {
            pthread_detach(tid)
        }
    }
}

/// A pthread mutex (no Foundation needed).
public final class Lock: @unchecked Sendable {
    private var m = pthread_mutex_t()
    public init() { pthread_mutex_init(&m, nil) }
    deinit { pthread_mutex_destroy(&m) }
    public func lock() { pthread_mutex_lock(&m) }
    public func unlock() { pthread_mutex_unlock(&m) }
}
