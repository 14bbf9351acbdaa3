import MLVSupport

/// Everything the engine reports to the user: bad params, bad data, bad checkpoints.
/// `main` prints `message` as `mlv: error: …` and `hint` below it; the exit code is 2.
public struct EngineError: UserFacingError, Equatable {
    public var message: String
    public var hint: String?

    public init(_ message: String, hint: String? = nil) {
        self.message = message
        self.hint = hint
    }
}

/// The candidate that contains `word` ("epochs" → "num_epochs"), else the closest by edit
/// distance when it is close enough to be a typo.
func closestMatch(to word: String, in candidates: [String]) -> String? {
    func distance(_ a: [Character], _ b: [Character]) -> Int {
        var prev = Array(0...b.count)
        for i in 1...max(a.count, 1) where !a.isEmpty {
            var cur = [i] + Array(repeating: 0, count: b.count)
            for j in 1...max(b.count, 1) where !b.isEmpty {
                cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            prev = cur
        }
        return prev[b.count]
    }
    let lower = word.lowercased()
    if lower.count >= 4, let containing = candidates.first(where: { $0.contains(lower) }) { return containing }
    let w = Array(lower)
    let scored = candidates.map { ($0, distance(w, Array($0))) }.sorted { $0.1 < $1.1 }
    guard let best = scored.first, best.1 <= max(2, w.count / 3) else { return nil }
    return best.0
}
