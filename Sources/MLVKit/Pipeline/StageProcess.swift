import Dispatch
import MLVSupport
#if canImport(Glibc)
import Glibc
#endif

/// Runs one stage command with `sh -c` in its own process group, stdin from /dev/null.
/// While any runs, Ctrl-C (SIGINT) and SIGTERM are forwarded to every running group, so the
/// whole tree a command started ends, and mlv itself lives on to leave the lock consistent.
/// When mlv dies without a chance to forward anything (kill -9, a crash), the group dies too:
/// a watcher in it waits on a pipe only mlv can write to, and kills the group when the kernel
/// closes that pipe, so no out is written after mlv is gone.
enum StageProcess {
    /// Held while pipes are made close-on-exec and while a child is spawned.
    static let spawnLock = Lock()

    enum Outcome: Equatable { case exited(Int32), signaled(Int32) }

    /// Where the child's stdout and stderr go: inherited, or both into one pipe (its write end).
    enum Streams { case inherit, pipe(Int32) }

    static func run(_ command: String, cwd: String, environment: [String: String], output: Streams) throws -> Outcome {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        // stdin is the read end of the lifeline: the script moves it to fd 3 for the watcher
        // and gives the command /dev/null.
        var lifeline: [Int32] = [0, 0]
        spawnLock.lock()
        guard pipe(&lifeline) == 0 else { spawnLock.unlock(); throw FileSystemError.posix("create a pipe for", command, errno: errno) }
        _ = fcntl(lifeline[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(lifeline[1], F_SETFD, FD_CLOEXEC)
        spawnLock.unlock()
        defer { close(lifeline[1]) }
        posix_spawn_file_actions_adddup2(&actions, lifeline[0], 0)
        if case .pipe(let fd) = output {
            posix_spawn_file_actions_adddup2(&actions, fd, 1)
            posix_spawn_file_actions_adddup2(&actions, fd, 2)
        }
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for s in [SIGINT, SIGTERM, SIGPIPE, SIGQUIT] { sigaddset(&defaults, s) }
        posix_spawnattr_setsigdefault(&attr, &defaults)
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attr, &empty)
        posix_spawnattr_setpgroup(&attr, 0)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        // Nothing but stdin, stdout and stderr reaches the command: no descriptor mlv inherited
        // or opened (a pipe another process waits on to see mlv end) outlives mlv in a stage.
        if let closeFrom = addCloseFrom { _ = closeFrom(&actions, 3) }
        var script = Self.watcher + command
        if let addchdir = addChdir {
            _ = addchdir(&actions, cwd)
        } else {
            script = Self.watcher + "cd -- '" + cwd.split(separator: "'", omittingEmptySubsequences: false).joined(separator: "'\\''") + "' || exit 127\n" + command
        }
        let envp = environment.map { "\($0.key)=\($0.value)" }.sorted()
        var pid: pid_t = 0
        spawnLock.lock()
        let rc = withCStrings(["sh", "-c", script], envp) { cargv, cenv in
            posix_spawn(&pid, "/bin/sh", &actions, &attr, cargv, cenv)
        }
        spawnLock.unlock()
        close(lifeline[0])
        guard rc == 0 else { throw FileSystemError.posix("start /bin/sh for", command, errno: rc) }
        Interrupts.register(pid)
        defer { Interrupts.unregister(pid) }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            if errno != EINTR { throw FileSystemError.posix("wait for", command, errno: errno) }
        }
        // Anything the command left running in its group ends with it.
        kill(-pid, SIGKILL)
        if status & 0x7f == 0 { return .exited((status >> 8) & 0xff) }
        return .signaled(status & 0x7f)
    }

    /// The lines before every command: the lifeline (stdin) moves to fd 3; a watcher in the
    /// background waits on it (mlv never writes) and, at end of file, meaning mlv is gone, kills
    /// the whole group; the command itself gets stdin from /dev/null and no fd 3. The watcher is
    /// started from a subshell that exits at once, so it is not the command shell's child (a
    /// `wait` in the command does not wait for it); it stays in the group. After a normal end
    /// mlv kills the group, watcher included.
    static let watcher = "exec 3<&0 </dev/null\n( (read _ <&3; kill -KILL 0) >/dev/null 2>&1 & )\nexec 3<&-\n"

    /// glibc's `posix_spawn_file_actions_addchdir_np` (2.29+), which Swift's Glibc module does
    /// not export; looked up once. Without it the shell changes into the folder itself.
    private static let addChdir: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32)? = {
        guard let sym = dlsym(nil, "posix_spawn_file_actions_addchdir_np") else { return nil }
        return unsafeBitCast(sym, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32).self)
    }()

    /// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34+), looked up the same way.
    static let addCloseFrom: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32)? = {
        guard let sym = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") else { return nil }
        return unsafeBitCast(sym, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32).self)
    }()

    private static func withCStrings<R>(_ a: [String], _ b: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>, UnsafePointer<UnsafeMutablePointer<CChar>?>) -> R) -> R {
        let ca = a.map { strdup($0) } + [nil]
        let cb = b.map { strdup($0) } + [nil]
        defer { (ca + cb).forEach { free($0) } }
        return ca.withUnsafeBufferPointer { pa in cb.withUnsafeBufferPointer { pb in body(pa.baseAddress!, pb.baseAddress!) } }
    }
}

/// The process groups of running stage commands, and a SIGINT/SIGTERM handler that forwards
/// the signal to them. Only async-signal-safe work happens in the handler: reading a fixed
/// table of pids and calling kill(2).
enum Interrupts {
    static let capacity = 64
    nonisolated(unsafe) static let table: UnsafeMutablePointer<Int32> = {
        let p = UnsafeMutablePointer<Int32>.allocate(capacity: capacity)
        p.initialize(repeating: 0, count: capacity)
        return p
    }()
    nonisolated(unsafe) static let received: UnsafeMutablePointer<Int32> = {
        let p = UnsafeMutablePointer<Int32>.allocate(capacity: 1)
        p.initialize(to: 0)
        return p
    }()
    static let lock = Lock()

    static func register(_ pid: pid_t) {
        lock.lock(); defer { lock.unlock() }
        for i in 0..<capacity where table[i] == 0 { table[i] = pid; break }
        if received.pointee != 0 { kill(-pid, received.pointee) }
    }

    static func unregister(_ pid: pid_t) {
        lock.lock(); defer { lock.unlock() }
        for i in 0..<capacity where table[i] == pid { table[i] = 0 }
    }

    /// The signal received since `install`, or 0.
    static var signal: Int32 { received.pointee }

    /// Installs the forwarding handler (idempotent).
    static func install() {
        _ = table
        _ = received
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { sig in
            // A second Ctrl-C ends mlv at once (the lock on disk is always a whole one).
            if Interrupts.received.pointee != 0 {
                Glibc.signal(sig, SIG_DFL)
                raise(sig)
            }
            Interrupts.received.pointee = sig
            for i in 0..<Interrupts.capacity {
                let pid = Interrupts.table[i]
                if pid > 0 { kill(-pid, sig) }
            }
        }
        sigemptyset(&action.sa_mask)
        action.sa_flags = SA_RESTART
        sigaction(SIGINT, &action, nil)
        sigaction(SIGTERM, &action, nil)
        // A parent may have started mlv with these blocked (test runners do); a user's Ctrl-C must work.
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGTERM)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
    }
}

extension StageProcess {
    /// `run` with the command's stdout and stderr read through one pipe: every chunk as it
    /// arrives to `chunk` (a log), each complete line to `line`. `name` names it in errors.
    static func runLines(_ command: String, cwd: String, environment: [String: String], name: String,
                         chunk: ((UnsafeRawBufferPointer) -> Void)? = nil, line: @escaping (String) -> Void) throws -> Outcome {
        var fds: [Int32] = [0, 0]
        // Close-on-exec before any other command starts, so no other child holds this pipe open.
        spawnLock.lock()
        guard pipe(&fds) == 0 else { spawnLock.unlock(); throw FileSystemError.posix("create a pipe for", name, errno: errno) }
        _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
        spawnLock.unlock()
        let readEnd = fds[0], writeEnd = fds[1]
        // The reader blocks in read() for as long as the command runs: a thread of its own.
        let reader = DispatchSemaphore(value: 0)
        let thread = PosixThread.start {
            defer { reader.signal() }
            var pending: [UInt8] = []
            var buf = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = buf.withUnsafeMutableBytes { read(readEnd, $0.baseAddress, 65536) }
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { break }
                if let chunk { buf.withUnsafeBytes { chunk(UnsafeRawBufferPointer(rebasing: $0[0..<n])) } }
                pending.append(contentsOf: buf[0..<n])
                while let nl = pending.firstIndex(of: 10) {
                    line(String(decoding: pending[..<nl], as: UTF8.self))
                    pending.removeSubrange(...nl)
                }
            }
            if !pending.isEmpty { line(String(decoding: pending, as: UTF8.self)) }
            close(readEnd)
        }
        guard let thread else {
            close(readEnd)
            close(writeEnd)
            throw PipelineError.noThread(stage: name)
        }
        pthread_detach(thread)
        let outcome: Outcome
        do {
            outcome = try run(command, cwd: cwd, environment: environment, output: .pipe(writeEnd))
        } catch {
            close(writeEnd)
            reader.wait()
            throw error
        }
        close(writeEnd)
        reader.wait()
        return outcome
    }
}
