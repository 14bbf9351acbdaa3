#if canImport(Glibc)
import Glibc
#endif

/// An exclusive `flock` on a file, held until `unlock()` or deinit. A second process waits,
/// after telling the user once through `onWait`, and gives up after `timeout` seconds.
package final class FileLock {
    package let path: String
    private var fd: Int32

    package struct Timeout: UserFacingError {
        package var path: String
        package var seconds: Double
        package var message: String { "another mlv process is working in this workspace (lock '\(path)' held for \(Int(seconds)) s)" }
        package var hint: String? { "wait for it to finish, or set MLV_LOCK_TIMEOUT to wait longer" }
    }

    package init(path: String, timeout: Double, onWait: () -> Void) throws {
        self.path = path
        fd = try FS.openFile(path, O_RDWR | O_CREAT, mode: 0o644)
        if flock(fd, LOCK_EX | LOCK_NB) == 0 { return }
        guard errno == EWOULDBLOCK else {
            let e = errno
            close(fd)
            throw FileSystemError.posix("lock", path, errno: e)
        }
        onWait()
        let start = MonotonicClock.monotonicSeconds()
        var delay: useconds_t = 5_000
        while MonotonicClock.monotonicSeconds() - start < timeout {
            usleep(delay)
            delay = min(delay * 2, 100_000)
            if flock(fd, LOCK_EX | LOCK_NB) == 0 { return }
        }
        close(fd)
        throw Timeout(path: path, seconds: timeout)
    }

    package func unlock() {
        if fd >= 0 {
            flock(fd, LOCK_UN)
            close(fd)
            fd = -1
        }
    }

    deinit { unlock() }
}

package enum MonotonicClock {
    package static func monotonicSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}

package enum Environment {
    package static func get(_ name: String) -> String? {
        guard let v = getenv(name) else { return nil }
        return String(cString: v)
    }
}
