/// A workspace-relative path that came from a user, a pointer, a manifest, a lock, a pipeline
/// file or a remote and was checked: relative, no empty, "." or ".." component, no NUL byte, no
/// CR or LF byte (unless `allowingLineBreaks`: names inside a tracked folder, which its manifest
/// stores percent-encoded), and no component naming `.git` or `.mlv` in any spelling. The checks
/// work on the UTF-8 bytes ("\r\n" is one Character, so a check over Characters lets it
/// through). `init(validating:)` is the way in; the static checks below are what it applies.
package struct WorkspacePath: Hashable, Sendable, CustomStringConvertible {
    package let string: String
    package var description: String { string }

    /// Why a path was refused.
    package enum Invalid: Error, Equatable {
        /// Absolute, empty, with an empty, "." or ".." component, or a CR, LF or NUL byte.
        case unsafe
        /// A component names `.git` or `.mlv` (the component as written).
        case protected(component: String)
        /// A CR, LF or NUL byte (reported apart: the path is safe but cannot be a line).
        case lineBreak
    }

    package init(validating path: String, allowingLineBreaks: Bool = false) throws(Invalid) {
        if !allowingLineBreaks && WorkspacePath.hasLineBreakOrNUL(path) && WorkspacePath.isSafeRelative(path, allowingLineBreaks: true) {
            throw .lineBreak
        }
        guard WorkspacePath.isSafeRelative(path, allowingLineBreaks: allowingLineBreaks) else { throw .unsafe }
        if let part = WorkspacePath.protectedComponent(in: path) { throw .protected(component: part) }
        string = path
    }

    /// The last component.
    package var name: String { string.split(separator: "/").last.map(String.init) ?? string }

    /// The folder holding it ("." at the top).
    package var parent: String {
        guard let slash = string.lastIndex(of: "/") else { return "." }
        return String(string[..<slash])
    }

    /// A non-empty relative path with no empty, "." or ".." components and no NUL byte; nor a
    /// CR or LF byte unless `allowingLineBreaks` (names inside a tracked folder, which its
    /// manifest stores percent-encoded). Works on the UTF-8 bytes: "\r\n" is one Character, so
    /// a check over Characters lets it through.
    package static func isSafeRelative(_ path: String, allowingLineBreaks: Bool = false) -> Bool {
        var path = path
        return path.withUTF8 { b in
            if b.isEmpty || b[0] == 47 { return false }
            var start = 0
            for i in 0...b.count {
                if i < b.count && (b[i] == 0 || (!allowingLineBreaks && (b[i] == 10 || b[i] == 13))) { return false }
                guard i == b.count || b[i] == 47 else { continue }
                let length = i - start
                if length == 0 { return false }                                           // "//" or trailing "/"
                if length == 1 && b[start] == 46 { return false }                         // "."
                if length == 2 && b[start] == 46 && b[start + 1] == 46 { return false }   // ".."
                start = i + 1
            }
            return true
        }
    }

    /// A safe relative path (see `isSafeRelative`) none of whose components is a protected name
    /// (see `protectedComponent`): the rule for every output path another person wrote.
    package static func isSafeOutput(_ path: String, allowingLineBreaks: Bool = false) -> Bool {
        isSafeRelative(path, allowingLineBreaks: allowingLineBreaks) && protectedComponent(in: path) == nil
    }

    /// `text` with CR, LF and NUL written as `\r`, `\n` and `\0` (per scalar: "\r\n" is one
    /// Character), for a message on one line.
    package static func escapingLineBreaks(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        for u in text.unicodeScalars {
            switch u {
            case "\n": out.append(contentsOf: "\\n".unicodeScalars)
            case "\r": out.append(contentsOf: "\\r".unicodeScalars)
            case "\0": out.append(contentsOf: "\\0".unicodeScalars)
            default: out.append(u)
            }
        }
        return String(out)
    }

    /// True when `text` holds a CR, LF or NUL byte: such a name cannot be a line of `.gitignore`,
    /// a pointer, a lock or a pipeline file.
    package static func hasLineBreakOrNUL(_ text: String) -> Bool {
        text.utf8.contains { $0 == 10 || $0 == 13 || $0 == 0 }
    }

    /// The first component of `path` that names `.git` or `.mlv` in any spelling a file system
    /// may map to them: any letter case (case-insensitive mounts), trailing dots or spaces
    /// (NTFS, SMB) and the 8.3 short names `GIT~1` / `MLV~1`. Nil when there is none.
    package static func protectedComponent(in path: String) -> String? {
        // Walks the bytes without splitting: this runs for every file of every tracked folder.
        let utf8 = path.utf8
        var start = utf8.startIndex
        while start < utf8.endIndex {
            let end = utf8[start...].firstIndex(of: 47) ?? utf8.endIndex
            if end > start {
                let part = Substring(utf8[start..<end])
                if isProtected(part) { return String(part) }
            }
            start = end == utf8.endIndex ? end : utf8.index(after: end)
        }
        return nil
    }

    /// True when one path component reaches `.git` or `.mlv` (see `protectedComponent`).
    package static func isProtected<S: StringProtocol>(_ component: S) -> Bool {
        var s = String(component)
        return s.withUTF8 { isProtected(bytes: $0) }
    }

    /// The same on the component's UTF-8 bytes.
    package static func isProtected(bytes b: UnsafeBufferPointer<UInt8>) -> Bool {
        guard b.count >= 4, b[0] == 46 || b[0] | 32 == 103 || b[0] | 32 == 109 else { return false }
        var n = b.count
        while n > 0, b[n - 1] == 46 || b[n - 1] == 32 { n -= 1 }   // "x. " → "x"
        func lower(_ i: Int) -> UInt8 { b[i] >= 65 && b[i] <= 90 ? b[i] + 32 : b[i] }
        func equals(_ word: StaticString) -> Bool {
            guard n == word.utf8CodeUnitCount else { return false }
            return (0..<n).allSatisfy { lower($0) == word.utf8Start[$0] }
        }
        return equals(".git") || equals(".mlv") || equals("git~1") || equals("mlv~1")
    }

    /// `isSafeOutput` on raw bytes, which must also be valid UTF-8 (paths read from a file
    /// another person wrote: a manifest).
    package static func isSafeOutput(bytes b: UnsafeBufferPointer<UInt8>, allowingLineBreaks: Bool) -> Bool {
        if b.isEmpty || b[0] == 47 { return false }
        var start = 0, ascii = true
        for i in 0...b.count {
            if i < b.count {
                let c = b[i]
                if c == 0 || (!allowingLineBreaks && (c == 10 || c == 13)) { return false }
                if c >= 128 { ascii = false }
                guard c == 47 else { continue }
            }
            let length = i - start
            if length == 0 { return false }                                           // "//" or trailing "/"
            if length == 1 && b[start] == 46 { return false }                         // "."
            if length == 2 && b[start] == 46 && b[start + 1] == 46 { return false }   // ".."
            if isProtected(bytes: UnsafeBufferPointer(rebasing: b[start..<i])) { return false }
            start = i + 1
        }
        return ascii || String(validating: b, as: UTF8.self) != nil
    }
}
