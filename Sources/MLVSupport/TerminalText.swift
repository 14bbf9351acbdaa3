/// Text from files made safe to show on a terminal: control characters (C0 but tab and, where
/// kept, line feed; DEL; C1) and the bidirectional overrides that reorder what a reader sees
/// are written as `\u` and four hex digits (`\u001B`), so nothing a file holds reaches the terminal as a control sequence.
/// The form is JSON's own escape, so a JSON document stays valid and means the same.
package enum TerminalText {
    package static func visible(_ s: String, keepingLineBreaks: Bool = false) -> String {
        guard s.unicodeScalars.contains(where: { needsEscape($0, keepingLineBreaks) }) else { return s }
        var out = String.UnicodeScalarView()
        for u in s.unicodeScalars {
            guard needsEscape(u, keepingLineBreaks) else { out.append(u); continue }
            let hex = String(u.value, radix: 16, uppercase: true)
            out.append(contentsOf: ("\\u" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex).unicodeScalars)
        }
        return String(out)
    }

    static func needsEscape(_ u: Unicode.Scalar, _ keepingLineBreaks: Bool) -> Bool {
        switch u.value {
        case 0x09: return false
        case 0x0A: return !keepingLineBreaks
        case 0x00...0x1F, 0x7F...0x9F: return true
        case 0x200E, 0x200F, 0x202A...0x202E, 0x2066...0x2069: return true
        default: return false
        }
    }
}
