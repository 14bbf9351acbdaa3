/// The one seeded pseudo-random generator of a training run (Steele, Lea & Flood 2014; the same
/// 15 lines as swift-argument-parser's `Examples/roll/SplitMix64.swift`).
///
/// Everything random in a run comes from it, in a fixed order: the initial weights, then for each
/// epoch the shuffle of the training set followed by every dropout mask of every batch. Nothing
/// draws from it on more than one thread, so a seed gives one sequence of numbers everywhere.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform Float in [0, 1) with 24 random bits (every value exactly representable).
    @inline(__always)
    public mutating func nextUnitFloat() -> Float {
        Float(next() >> 40) * (1.0 / 16_777_216.0)
    }

    /// A uniform Float in [-bound, bound).
    public mutating func nextFloat(bound: Float) -> Float {
        (nextUnitFloat() * 2 - 1) * bound
    }

    /// A uniform integer in 0..<n (rejection sampling, no modulo bias).
    public mutating func nextIndex(below n: Int) -> Int {
        precondition(n > 0)
        let bound = UInt64(n)
        let limit = UInt64.max - UInt64.max % bound
        while true {
            let x = next()
            if x < limit { return Int(x % bound) }
        }
    }

    /// Fisher-Yates shuffle, drawing one `nextIndex` per position from the end.
    public mutating func shuffle<T>(_ items: inout [T]) {
        var i = items.count - 1
        while i > 0 {
            let j = nextIndex(below: i + 1)
            items.swapAt(i, j)
            i -= 1
        }
    }
}
