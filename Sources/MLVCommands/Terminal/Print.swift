import Foundation
import MLVSupport

/// The one writer of command results to stdout: text that came from a file cannot move the
/// cursor, clear the screen or reorder what the user reads (see TerminalText); line breaks the
/// command prints are kept.
enum Console {
    static func line(_ text: String, terminator: String = "\n") {
        Swift.print(TerminalText.visible(text, keepingLineBreaks: true), terminator: terminator)
    }

    /// A line written at once (unbuffered), so it interleaves correctly with what stage commands
    /// print. `escaping: false` only for a stage command's own output, passed through as the
    /// command wrote it (its colours included), as when it writes to the terminal itself.
    static func now(_ text: String, escaping: Bool = true) {
        Swift.print("", terminator: "")
        fflush(stdout)
        var t = (escaping ? TerminalText.visible(text) : text) + "\n"
        t.withUTF8 { buf in
            var off = 0
            while off < buf.count {
                let n = write(1, buf.baseAddress! + off, buf.count - off)
                if n < 0 { if errno == EINTR { continue }; return }
                off += n
            }
        }
    }

    /// The one `--json` printer: keys sorted, indented, slashes as they are.
    static func json(_ object: Any) throws {
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])
        line(String(decoding: data, as: UTF8.self))
    }
}

/// Shadows the standard library's `print` in this module, so that every `print` in a command
/// goes through `Console` (types with a `print` method of their own call `Console.line`).
func print(_ items: Any..., separator: String = " ", terminator: String = "\n") {
    Console.line(items.map { "\($0)" }.joined(separator: separator), terminator: terminator)
}
