extension ProgressCounter.Snapshot {
    /// Bytes a second since the start (files a second when the total size is unknown or zero).
    package var rate: Double {
        elapsed > 0 ? (totalBytes > 0 ? Double(bytes) : Double(files)) / elapsed : 0
    }

    /// Seconds left at the average rate so far; nil until something has moved for a while
    /// (a quarter second), and once everything has.
    package var secondsLeft: Double? {
        let (done, total) = totalBytes > 0 ? (Double(bytes), Double(totalBytes)) : (Double(files), Double(totalFiles))
        guard elapsed >= 0.25, done > 0, done < total else { return nil }
        return (total - done) / (done / elapsed)
    }

    /// "ETA 45s", "ETA 3:07", "ETA 1:02:03", or "ETA --" when not known yet.
    package var etaText: String {
        guard let s = secondsLeft, s.isFinite, s < 360_000 else { return "ETA --" }
        let t = Int(s.rounded(.up))
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        if t < 60 { return "ETA \(t)s" }
        if t < 3600 { return "ETA \(t / 60):\(two(t % 60))" }
        return "ETA \(t / 3600):\(two(t / 60 % 60)):\(two(t % 60))"
    }
}
