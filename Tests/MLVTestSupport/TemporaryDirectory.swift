import Foundation
import MLVSupport

/// A fresh directory under the system temp dir, removed by `remove()`.
/// `gen` writes files from a map of relative path → contents, like DVC's `tmp_dir.gen`.
package struct TemporaryDirectory {
    package let path: String

    package init(prefix: String = "mlv-test", in parent: String? = nil) throws {
        let base = parent ?? ProcessInfo.processInfo.environment["TMPDIR"] ?? "/tmp"
        var template = Array("\(base)/\(prefix)-XXXXXX".utf8CString)
        guard let p = mkdtemp(&template) else { throw MessageError("mkdtemp failed") }
        path = String(cString: p)
    }

    package func remove() { try? FS.removeTree(path) }

    package func url(_ relative: String) -> String { Path.join(path, relative) }

    package func gen(_ files: [String: String]) throws {
        for (relative, text) in files {
            let full = url(relative)
            try FS.makeDirectories(Path.parent(full))
            try FS.writeFile(full, Array(text.utf8))
        }
    }

    package func read(_ relative: String) throws -> String { try FS.readText(url(relative)) }

    package func exists(_ relative: String) -> Bool { (try? FS.status(url(relative))) ?? nil != nil }
}

/// Runs `body` with a temporary directory that is removed afterwards.
package func withTemporaryDirectory<T>(_ body: (TemporaryDirectory) throws -> T) throws -> T {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    return try body(dir)
}
