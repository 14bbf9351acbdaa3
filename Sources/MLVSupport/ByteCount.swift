/// The one way mlv writes a number of bytes for people: IEC units (KiB, MiB, GiB, TiB: powers
/// of 1024), one decimal ("1.5 GiB", "512 B"), in every command, the engine's messages included.
package enum ByteCount {
    package static func text(_ n: Int64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]
        var v = Double(n)
        var u = 0
        while abs(v) >= 1024 && u < units.count - 1 { v /= 1024; u += 1 }
        if u == 0 { return "\(n) B" }
        let tenths = (v * 10).rounded()
        let whole = Int(tenths) / 10, frac = abs(Int(tenths)) % 10
        return "\(whole).\(frac) \(units[u])"
    }

    package static func text(_ n: Int) -> String { text(Int64(n)) }
    package static func text(_ n: Double) -> String { text(n.isFinite && abs(n) < 9e18 ? Int64(n) : Int64.max) }
}
