/// An error written for the person at the terminal.
///
/// `main` prints `message` once as `mlv: error: …`, then `hint: …` when there is one, and
/// exits with `exitCode`. Messages never contain secrets or stack traces.
package protocol UserFacingError: Error, CustomStringConvertible {
    var message: String { get }
    var hint: String? { get }
    /// 2 for errors; 1 is reserved for "checked and found differences" (`status --check`, `cache verify`).
    var exitCode: Int32 { get }
}

extension UserFacingError {
    package var hint: String? { nil }
    package var exitCode: Int32 { 2 }
    package var description: String { message }
}

/// A failed system call or file operation, in the shape of swift-nio's `FileSystemError`:
/// what went wrong (`message`), the path it happened to, and the `errno` behind it.
package struct FileSystemError: UserFacingError, Equatable {
    package var message: String
    package var hint: String?
    package var errno: Int32?

    package init(_ message: String, hint: String? = nil, errno: Int32? = nil) {
        self.message = message
        self.hint = hint
        self.errno = errno
    }

    /// `"cannot <operation> '<path>': <strerror>"`, with a hint for the errnos a user can act on.
    package static func posix(_ operation: String, _ path: String, errno code: Int32) -> FileSystemError {
        let reason = String(cString: strerror(code))
        var hint: String?
        switch code {
        case ENOSPC: hint = "the disk is full; free some space and run the command again (nothing was lost)"
        case EACCES, EPERM: hint = "check the permissions of '\(path)'"
        case EROFS: hint = "the file system is read-only"
        default: hint = nil
        }
        return FileSystemError("cannot \(operation) '\(path)': \(reason)", hint: hint, errno: code)
    }
}

/// Any other failure worth telling the user about, with an optional hint.
package struct MessageError: UserFacingError, Equatable {
    package var message: String
    package var hint: String?
    package var exitCode: Int32
    package init(_ message: String, hint: String? = nil, exitCode: Int32 = 2) {
        self.message = message
        self.hint = hint
        self.exitCode = exitCode
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
