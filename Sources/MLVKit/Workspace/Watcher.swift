import MLVSupport
#if canImport(Glibc)
import Glibc
#endif

/// `mlv watch`: a process that watches the workspace's folders with inotify and answers which
/// paths changed since a token it handed out, so `status` need not stat every file of a folder
/// nothing happened in (git's fsmonitor does the same). It only ever says "look here"; the files
/// it names are still compared with their records, and whenever it cannot vouch for everything
/// since a token (it restarted, the kernel's queue overflowed, a folder moved, too many
/// changes) it says "all" and status walks as without it.
///
/// It listens on an abstract Unix socket named after the workspace and the user; both sides
/// check the other's user (SO_PEERCRED), so another user can neither answer nor ask.
package final class WatchDaemon {
    private let root: String
    private let fd: Int32
    private var folders: [Int32: String] = [:]
    /// Workspace-relative paths and the sequence number of their last change.
    private var changed: [String: UInt64] = [:]
    private var seq: UInt64 = 1
    /// Tokens below this are void: what happened before was not (all) seen.
    private var validFrom: UInt64 = 1
    private let instance = String(UInt64.random(in: 0...UInt64.max), radix: 16)
    private var stopping = false

    /// Changes kept at most; past this every token is void (status walks once, then it is quiet again).
    static let changeLimit = 200_000
    static let mask: UInt32 = UInt32(IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO
        | IN_DELETE_SELF | IN_MOVE_SELF) | UInt32(IN_ONLYDIR) | UInt32(IN_DONT_FOLLOW) | UInt32(IN_EXCL_UNLINK)

    /// Watches every folder of the workspace but `.git` and `.mlv`.
    package init(root: String) throws {
        self.root = root
        fd = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        guard fd >= 0 else { throw FileSystemError.posix("start watching", root, errno: errno) }
        try watchTree("")
    }

    deinit { close(fd) }

    private func absolute(_ rel: String) -> String { rel.isEmpty ? root : root + "/" + rel }

    /// Adds a watch on `rel` and every folder below it (not following symlinks).
    private func watchTree(_ rel: String) throws {
        var pending = [rel]
        while let dir = pending.popLast() {
            let wd = inotify_add_watch(fd, absolute(dir), Self.mask)
            if wd < 0 {
                if errno == ENOENT || errno == ENOTDIR { continue }  // gone meanwhile: its parent's event says so
                if errno == ENOSPC {
                    throw MessageError("cannot watch '\(dir.isEmpty ? "." : dir)': the kernel's limit of inotify watches is reached",
                                       hint: "raise fs.inotify.max_user_watches (sysctl), or run status without `mlv watch`")
                }
                throw FileSystemError.posix("watch", absolute(dir), errno: errno)
            }
            folders[wd] = dir
            guard let handle = opendir(absolute(dir)) else { continue }
            defer { closedir(handle) }
            while let ent = readdir(handle) {
                let name = withUnsafePointer(to: ent.pointee.d_name) { $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) } }
                if name == "." || name == ".." { continue }
                if dir.isEmpty && (name == ".git" || name == ".mlv") { continue }
                var isDir = Int32(ent.pointee.d_type) == Int32(DT_DIR)
                if Int32(ent.pointee.d_type) == Int32(DT_UNKNOWN) { isDir = (try? FS.status(absolute(dir.isEmpty ? name : dir + "/" + name)))??.kind == .directory }
                if isDir { pending.append(dir.isEmpty ? name : dir + "/" + name) }
            }
        }
    }

    /// Forgets every change and voids every token handed out so far.
    private func reset() {
        changed.removeAll()
        seq += 1
        validFrom = seq
    }

    private func note(_ rel: String) {
        seq += 1
        changed[rel] = seq
        if changed.count > Self.changeLimit { reset() }
    }

    /// Reads every event queued (inotify queues them as the change is made, so after this every
    /// change made before the call is noted).
    private func drain() throws {
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN { return }
                throw FileSystemError.posix("read events", root, errno: errno)
            }
            if n == 0 { return }
            var moved = false
            try buffer.withUnsafeBytes { raw in
                var at = 0
                while at + 16 <= n {
                    let wd = raw.loadUnaligned(fromByteOffset: at, as: Int32.self)
                    let mask = raw.loadUnaligned(fromByteOffset: at + 4, as: UInt32.self)
                    let len = Int(raw.loadUnaligned(fromByteOffset: at + 12, as: UInt32.self))
                    var name = ""
                    if len > 0 {
                        let bytes = UnsafeRawBufferPointer(rebasing: raw[(at + 16)..<min(n, at + 16 + len)])
                        name = String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
                    }
                    at += 16 + len
                    if mask & UInt32(IN_Q_OVERFLOW) != 0 { reset(); continue }
                    guard let dir = folders[wd] else { continue }
                    if mask & UInt32(IN_IGNORED) != 0 {
                        folders[wd] = nil
                        if dir.isEmpty { stopping = true }
                        continue
                    }
                    let rel = name.isEmpty ? dir : (dir.isEmpty ? name : dir + "/" + name)
                    if mask & UInt32(IN_MOVE_SELF | IN_DELETE_SELF) != 0 {
                        if dir.isEmpty { stopping = true }   // the workspace itself went
                        if mask & UInt32(IN_MOVE_SELF) != 0 { moved = true }
                        note(rel)
                        continue
                    }
                    note(rel)
                    if mask & UInt32(IN_ISDIR) != 0 {
                        // A folder moved away keeps its watches under its old path: start over.
                        if mask & UInt32(IN_MOVED_FROM) != 0 { moved = true }
                        if mask & UInt32(IN_CREATE | IN_MOVED_TO) != 0 { try watchTree(rel) }
                    }
                }
            }
            if moved {
                for wd in folders.keys { inotify_rm_watch(fd, wd) }
                folders.removeAll()
                try watchTree("")
                reset()
            }
        }
    }

    /// The answer to `since TOKEN`: a fresh token, then "*" (everything may have changed) or
    /// the paths changed since, each followed by NUL.
    private func answer(since token: String) -> [UInt8] {
        var out = Array("\(instance).\(seq)".utf8) + [0]
        let parts = token.split(separator: ".")
        guard parts.count == 2, parts[0] == instance, let t = UInt64(parts[1]), t >= validFrom else { return out + [42, 0] }
        for (path, s) in changed where s > t { out += Array(path.utf8) + [0] }
        return out
    }

    /// Serves until `stop` is asked or the workspace goes away.
    package func serve(onReady: () -> Void) throws {
        let server = try WatchSocket.listen(root: root)
        defer { close(server) }
        // Holding no folder of the workspace open, so removing it is seen (and ends the watcher).
        _ = chdir("/")
        onReady()
        var polls = [pollfd(fd: server, events: Int16(POLLIN), revents: 0), pollfd(fd: fd, events: Int16(POLLIN), revents: 0)]
        while !stopping {
            let r = poll(&polls, 2, -1)
            if r < 0 { if errno == EINTR { continue }; throw FileSystemError.posix("wait for events", root, errno: errno) }
            if polls[1].revents != 0 { try drain() }
            guard polls[0].revents != 0 else { continue }
            let client = accept(server, nil, nil)
            guard client >= 0 else { continue }
            defer { close(client) }
            _ = fcntl(client, F_SETFD, FD_CLOEXEC)
            guard WatchSocket.peerIsMe(client) else { continue }
            WatchSocket.setTimeout(client, seconds: 2)
            guard let request = WatchSocket.readAll(client, limit: 4096), let text = String(validating: request, as: UTF8.self) else { continue }
            try drain()
            if text == "stop" {
                stopping = true
                WatchSocket.writeAll(client, Array("stopped".utf8))
            } else if text.hasPrefix("since ") {
                WatchSocket.writeAll(client, answer(since: String(text.dropFirst(6))))
            }
        }
    }
}

/// What the watcher says changed since a token.
package struct WatchChanges: Equatable {
    /// The token to ask with next time (valid for what happens after it was given).
    package var token: String
    /// nil: it cannot say (everything may have changed). Otherwise workspace-relative paths.
    package var paths: [String]?

    /// Asks the workspace's watcher, if one runs; nil when none answers (within two seconds).
    package static func ask(root: String, since token: String?) -> WatchChanges? {
        guard let reply = WatchSocket.request(root: root, Array("since \(token ?? "-")".utf8)) else { return nil }
        var fields = reply.split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
        guard fields.count >= 2, fields.removeLast().isEmpty else { return nil }
        let token = fields.removeFirst()
        if fields == ["*"] { return WatchChanges(token: token, paths: nil) }
        return WatchChanges(token: token, paths: fields)
    }
}

/// The watcher's socket: abstract (nothing on disk), named after the workspace and the user.
package enum WatchSocket {
    static func address(root: String) -> (sockaddr_un, socklen_t) {
        let name = Array("mlv-watch-\(SHA256Hasher.hex("\(getuid())\n\(root)").prefix(32))".utf8)
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { p in
            p[0] = 0  // abstract namespace
            for (i, b) in name.enumerated() { p[1 + i] = b }
        }
        return (addr, socklen_t(MemoryLayout<sa_family_t>.size + 1 + name.count))
    }

    static func listen(root: String) throws -> Int32 {
        let s = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard s >= 0 else { throw FileSystemError.posix("open a socket for", root, errno: errno) }
        var (addr, len) = address(root: root)
        let bound = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(s, $0, len) } }
        guard bound == 0, Glibc.listen(s, 16) == 0 else {
            let e = errno
            close(s)
            if e == EADDRINUSE { throw MessageError("a watcher already runs for this workspace", hint: "`mlv watch stop` stops it") }
            throw FileSystemError.posix("listen for", root, errno: e)
        }
        return s
    }

    /// Sends `message`, then reads the reply to its end; nil when no watcher of this user answers.
    package static func request(root: String, _ message: [UInt8]) -> [UInt8]? {
        let s = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard s >= 0 else { return nil }
        defer { close(s) }
        setTimeout(s, seconds: 2)  // a watcher that does not answer (a full backlog too) costs two seconds, then a walk
        var (addr, len) = address(root: root)
        let connected = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(s, $0, len) } }
        guard connected == 0, peerIsMe(s) else { return nil }
        writeAll(s, message)
        shutdown(s, Int32(SHUT_WR))
        return readAll(s, limit: 64 << 20)
    }

    /// The other end runs as this user (SO_PEERCRED: pid, uid, gid).
    static func peerIsMe(_ s: Int32) -> Bool {
        var cred = (Int32(0), UInt32.max, UInt32.max)
        var len = socklen_t(MemoryLayout.size(ofValue: cred))
        guard getsockopt(s, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 else { return false }
        return cred.1 == getuid()
    }

    static func setTimeout(_ s: Int32, seconds: Int) {
        var tv = timeval(tv_sec: seconds, tv_usec: 0)
        setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    static func writeAll(_ s: Int32, _ bytes: [UInt8]) {
        var at = 0
        while at < bytes.count {
            let n = bytes[at...].withUnsafeBytes { send(s, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return }
            at += n
        }
    }

    /// Everything until the other end closes; nil on a timeout, an error or more than `limit`.
    static func readAll(_ s: Int32, limit: Int) -> [UInt8]? {
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(s, $0.baseAddress, $0.count, 0) }
            if n < 0 && errno == EINTR { continue }
            if n < 0 { return nil }
            if n == 0 { return out }
            out += chunk[..<n]
            if out.count > limit { return nil }
        }
    }
}

extension WatchDaemon {
    /// Whether a watcher answers for the workspace at `root`.
    package static func isRunning(root: String) -> Bool { WatchChanges.ask(root: root, since: nil) != nil }

    /// Starts `executable watch run` in its own session (it outlives this process and the
    /// terminal), its output in `log`, and waits until it answers. Returns its process id.
    package static func startInBackground(root: String, executable: String, log: String) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        // Nothing else this process holds (a pipe or socket its caller waits on) outlives it.
        if let closeFrom = StageProcess.addCloseFrom { _ = closeFrom(&actions, 3) }
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        // Its own session, the default signal dispositions and no signal blocked: it outlives the
        // terminal, and `kill` stops it.
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for s in [SIGINT, SIGTERM, SIGPIPE, SIGQUIT, SIGHUP] { sigaddset(&defaults, s) }
        posix_spawnattr_setsigdefault(&attr, &defaults)
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attr, &empty)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK) | 0x80)  // 0x80: POSIX_SPAWN_SETSID (not exported to Swift)
        let argv = [executable, "watch", "run"]
        var cArgs = argv.map { strdup($0) } + [nil]
        defer { for p in cArgs { free(p) } }
        var pid = pid_t()
        let rc = posix_spawn(&pid, executable, &actions, &attr, &cArgs, environ)
        guard rc == 0 else { throw FileSystemError.posix("start", executable, errno: rc) }
        let deadline = MonotonicClock.monotonicSeconds() + 60
        while MonotonicClock.monotonicSeconds() < deadline {
            if isRunning(root: root) { return pid }
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid {
                let said = (try? FS.readText(log))?.split(separator: "\n").last.map(String.init) ?? ""
                throw MessageError("the watcher stopped as it started" + (said.isEmpty ? "" : ": \(said)"), hint: "its output is in \(log)")
            }
            usleep(20_000)
        }
        kill(pid, SIGTERM)
        throw MessageError("the watcher did not answer within a minute", hint: "its output is in \(log)")
    }
}
