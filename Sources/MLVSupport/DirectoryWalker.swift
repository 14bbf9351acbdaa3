import Dispatch
#if canImport(Glibc)
import Glibc
#endif

/// Lists every non-directory entry below a folder with its `lstat`, fast: entries are stat'ed
/// relative to their open directory (`fstatat`), and the directories of one level are read in
/// parallel. The order is deterministic for an unchanged tree: directories sorted by path, and
/// within a directory the file system's own order.
package enum DirectoryWalker {
    package struct Entry: Sendable {
        /// Path relative to the walked folder.
        package var path: String
        package var status: FileStatus
    }

    /// A file name that is not valid UTF-8: mlv records names as UTF-8 text, so such a file is
    /// refused by name rather than silently left out.
    package struct InvalidName: Error {
        /// Relative path, the invalid bytes written as `\xNN`.
        package var path: String

        package static func escaped(_ bytes: [UInt8]) -> String {
            var out = ""
            var i = 0
            while i < bytes.count {
                // Longest valid UTF-8 run first, then one escaped byte.
                var j = bytes.count
                while j > i, String(validating: bytes[i..<j], as: UTF8.self) == nil { j -= 1 }
                if j > i { out += String(decoding: bytes[i..<j], as: UTF8.self); i = j; continue }
                out += "\\x" + String(bytes[i], radix: 16, uppercase: true).leftPadded(2)
                i += 1
            }
            return out
        }
    }

    package static func walk(_ root: String, workers: Int = Parallel.defaultWorkers) throws -> [Entry] {
        let rootFD = try FS.openFile(root, O_RDONLY | O_DIRECTORY)
        defer { close(rootFD) }
        var results: [String: [Entry]] = [:]
        var level = [""]
        while !level.isEmpty {
            var files = [[Entry]](repeating: [], count: level.count)
            var subdirs = [[String]](repeating: [], count: level.count)
            try Parallel.forEach(count: level.count, workers: level.count < 4 ? 1 : workers, makeContext: { () }) { i, _ in
                (files[i], subdirs[i]) = try read(rootFD: rootFD, root: root, dir: level[i])
            }
            for (i, d) in level.enumerated() { results[d] = files[i] }
            level = subdirs.flatMap { $0 }
        }
        var out: [Entry] = []
        for d in results.keys.sorted() { out += results[d]! }
        return out
    }

    /// The same entries, one folder at a time, in memory that does not grow with the tree: the
    /// folders of one depth are taken in path order, `chunk` of them read in parallel, and
    /// `body` gets each folder's files (folder path "" for the root) in that order, shallower
    /// folders first. The order is deterministic for an unchanged tree.
    package static func forEachFolder(_ root: String, workers: Int = Parallel.defaultWorkers, chunk: Int = 64,
                                      _ body: (String, [Entry]) throws -> Void) throws {
        let rootFD = try FS.openFile(root, O_RDONLY | O_DIRECTORY)
        defer { close(rootFD) }
        var level = [""]
        while !level.isEmpty {
            var next: [String] = []
            for start in stride(from: 0, to: level.count, by: chunk) {
                let part = level[start..<min(start + chunk, level.count)]
                var files = [[Entry]](repeating: [], count: part.count)
                var subdirs = [[String]](repeating: [], count: part.count)
                try Parallel.forEach(count: part.count, workers: part.count < 4 ? 1 : workers, makeContext: { () }) { i, _ in
                    (files[i], subdirs[i]) = try read(rootFD: rootFD, root: root, dir: part[part.startIndex + i])
                }
                for i in part.indices {
                    let k = i - part.startIndex
                    try body(part[i], files[k])
                    files[k] = []
                    next += subdirs[k]
                }
            }
            level = next.sorted()
        }
    }

    /// The non-directory entries of one folder below `root` ("" for `root` itself), in the
    /// order `forEachFolder` gives them.
    package static func list(_ root: String, folder: String) throws -> [Entry] {
        try Root(root).read(folder).files
    }

    /// A folder opened once for reading many folders below it, one at a time (a depth-first
    /// walk), each relative to its descriptor and never through a symlink.
    package final class Root {
        let fd: Int32
        let path: String

        package init(_ path: String) throws {
            fd = try FS.openFile(path, O_RDONLY | O_DIRECTORY)
            self.path = path
        }

        deinit { close(fd) }

        /// One folder's non-directory entries (in `forEachFolder`'s order) and the folders in
        /// it, both as paths relative to the root ("" for the root itself).
        package func read(_ folder: String) throws -> (files: [Entry], folders: [String]) {
            try DirectoryWalker.read(rootFD: fd, root: path, dir: folder)
        }
    }

    private static func read(rootFD: Int32, root: String, dir: String) throws -> ([Entry], [String]) {
        let fd = dir.isEmpty ? dup(rootFD) : openat(rootFD, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0, let handle = fdopendir(fd) else {
            let e = errno
            if fd >= 0 { close(fd) }
            throw FileSystemError.posix("open directory", dir.isEmpty ? root : root + "/" + dir, errno: e)
        }
        defer { closedir(handle) }
        if dir.isEmpty { rewinddir(handle) }
        var files: [Entry] = []
        var subdirs: [String] = []
        var st = stat()
        while let ent = readdir(handle) {
            let (decoded, isDot) = withUnsafePointer(to: ent.pointee.d_name) { p -> (String?, Bool) in
                p.withMemoryRebound(to: CChar.self, capacity: 256) { c in
                    let dot = c[0] == 46 && (c[1] == 0 || (c[1] == 46 && c[2] == 0))
                    return (dot ? "" : String(validatingCString: c), dot)
                }
            }
            if isDot { continue }
            guard let name = decoded else {
                let raw = withUnsafePointer(to: ent.pointee.d_name) { p in
                    p.withMemoryRebound(to: UInt8.self, capacity: 256) { Array(UnsafeBufferPointer(start: $0, count: strlen(UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self)))) }
                }
                throw InvalidName(path: (dir.isEmpty ? "" : dir + "/") + InvalidName.escaped(raw))
            }
            let rel = dir.isEmpty ? name : dir + "/" + name
            if Int32(ent.pointee.d_type) == Int32(DT_DIR) { subdirs.append(rel); continue }
            if fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0 {
                if errno == ENOENT { continue }
                throw FileSystemError.posix("stat", root + "/" + rel, errno: errno)
            }
            let status = FileStatus(st)
            if status.kind == .directory { subdirs.append(rel); continue }
            files.append(Entry(path: rel, status: status))
        }
        return (files, subdirs)
    }
}

extension String {
    fileprivate func leftPadded(_ n: Int) -> String { count >= n ? self : String(repeating: "0", count: n - count) + self }
}
