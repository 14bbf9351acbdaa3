internal import CGit2
import MLVSupport

/// A failed git operation, written for the user.
///
/// `call` names the libgit2 function that failed (`"git_index_write"`), or nil when mlv itself
/// refused (an unknown revision, a missing identity). Tests compare `message` and `hint` exactly.
package struct GitError: UserFacingError, Equatable {
    package var message: String
    package var hint: String?
    package var call: String?

    package init(_ message: String, hint: String? = nil, call: String? = nil) {
        self.message = message
        self.hint = hint
        self.call = call
    }

    /// The error libgit2 reports for the thread's last failed `call` (which returned `code`).
    static func last(call: String, code: Int32) -> GitError {
        var detail = "error \(code)"
        if let last = git_error_last(), let text = last.pointee.message {
            detail = String(cString: text)
        }
        return GitError("\(call) failed: \(detail)", call: call)
    }

    static func unknownRevision(_ revision: String, hint: String? = nil) -> GitError {
        GitError("unknown revision '\(revision)'", hint: hint)
    }
}

/// The one door every libgit2 return code goes through: negative means failure, and the
/// message comes from `git_error_last()` on this thread.
@discardableResult
func check(_ call: String, _ code: Int32) throws -> Int32 {
    guard code < 0 else { return code }
    throw GitError.last(call: call, code: code)
}

/// Whether `code` is libgit2's `GIT_ENOTFOUND`.
func isNotFound(_ code: Int32) -> Bool { code == GIT_ENOTFOUND.rawValue }

/// Owns one libgit2 pointer and frees it exactly once, in `deinit`.
///
/// Borrowed pointers derived from `pointer` (tree entries, blob contents, strings) are only valid
/// while the handle lives; use them inside `withExtendedLifetime(handle)`.
final class GitHandle<Pointer> {
    let pointer: Pointer
    private let free: (Pointer) -> Void

    init(_ pointer: Pointer, free: @escaping (Pointer) -> Void) {
        self.pointer = pointer
        self.free = free
    }

    deinit { free(pointer) }

    /// Runs a libgit2 constructor `call` that writes an owned pointer to its out-parameter.
    static func make(
        _ call: String, free: @escaping (Pointer) -> Void, _ body: (inout Pointer?) -> Int32
    ) throws -> GitHandle {
        var out: Pointer?
        try check(call, body(&out))
        guard let out else { throw GitError("\(call) returned no object", call: call) }
        return GitHandle(out, free: free)
    }
}

typealias Handle = GitHandle<OpaquePointer>

/// A `git_buf` filled by libgit2, copied out as a String and disposed of.
func withGitBuffer(_ call: String, _ body: (UnsafeMutablePointer<git_buf>) -> Int32) throws -> String {
    var buf = git_buf()
    defer { git_buf_dispose(&buf) }
    try check(call, body(&buf))
    guard let ptr = buf.ptr else { return "" }
    return String(cString: ptr)
}

/// The 40-character hex form of an object id.
func hex(_ oid: git_oid) -> String {
    var oid = oid
    var chars = [CChar](repeating: 0, count: Int(GIT_OID_HEXSZ) + 1)
    git_oid_fmt(&chars, &oid)
    return String(cString: chars)
}
