import MLVSupport
#if canImport(Glibc)
import Glibc
#endif

/// `workers` threads pulling indices 0..<count: for network transfers, which wait rather than
/// compute. (Parallel.forEach runs on Dispatch's pool, which keeps about one thread per core
/// busy, so eight "parallel" uploads would run two at a time on two cores.) The first error
/// stops the remaining work and is rethrown.
enum TransferThreads {
    static func forEach(count: Int, workers: Int, _ body: (Int) throws -> Void) throws {
        if count == 0 { return }
        let n = max(1, min(workers, count))
        if n == 1 {
            for i in 0..<count { try body(i) }
            return
        }
        try withoutActuallyEscaping(body) { body in
            let lock = Lock()
            var next = 0
            var firstError: Error?
            let work = {
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
            // Joined, not detached: every thread has let go of `body` before this returns.
            var threads: [pthread_t] = []
            for _ in 0..<n {
                if let t = JoinableThread.start(work) { threads.append(t) }
            }
            if threads.isEmpty { work() }
            for t in threads { pthread_join(t, nil) }
            if let firstError { throw firstError }
        }
    }
}

enum JoinableThread {
    final class Box { let body: () -> Void; init(_ b: @escaping () -> Void) { body = b } }

    /// Nil when no thread could be made (the caller then does the work itself).
    static func start(_ body: @escaping () -> Void) -> pthread_t? {
        let box = Unmanaged.passRetained(Box(body)).toOpaque()
        var tid = pthread_t()
        let rc = pthread_create(&tid, nil, { arg in
            let b = Unmanaged<Box>.fromOpaque(arg!).takeRetainedValue()
            b.body()
            return nil
        }, box)
        if rc != 0 {
            Unmanaged<Box>.fromOpaque(box).release()
            return nil
        }
        return tid
    }
}
