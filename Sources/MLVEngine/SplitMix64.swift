/// The one seeded pseudo-random generator of a training run (Steele, Lea & Flood 2014; the same
/// 15 lines as swift-argument-parser's `Examples/roll/SplitMix64.swift`).
///
/// Everything random in a run comes from it, in a fixed order: the initial weights, then for each
/// epoch the shuffle of the training set followed by every dropout mask of every batch. Nothing
/// draws from it on more than one thread, so a seed gives one sequence of numbers everywhere.
package struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    package init(seed: UInt64) { state = seed }

    static let gamma: UInt64 = 0x9E37_79B9_7F4A_7C15

    package mutating func next() -> UInt64 {
        state &+= Self.gamma
        return Self.mix(state)
    }

    @inline(__always)
    static func mix(_ x: UInt64) -> UInt64 {
        var z = x
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// The generator is a counter: the k-th number from now (k = 1, 2, …) is `peek(k)`, without
    /// drawing. Lets several threads fill one batch's dropout masks with exactly the numbers a
    /// single thread would draw; `skip(count)` then moves past them.
    @inline(__always)
    func peek(_ k: Int) -> UInt64 { Self.mix(state &+ UInt64(k) &* Self.gamma) }

    package mutating func skip(_ count: Int) { state &+= UInt64(count) &* Self.gamma }

    /// A uniform Float in [0, 1) with 24 random bits (every value exactly representable).
    @inline(__always)
    package mutating func nextUnitFloat() -> Float {
        Float(next() >> 40) * (1.0 / 16_777_216.0)
    }

    /// A uniform Float in [-bound, bound).
    package mutating func nextFloat(bound: Float) -> Float {
        (nextUnitFloat() * 2 - 1) * bound
    }

    /// A uniform integer in 0..<n (rejection sampling, no modulo bias).
    package mutating func nextIndex(below n: Int) -> Int {
        precondition(n > 0)
        let bound = UInt64(n)
        let limit = UInt64.max - UInt64.max % bound
        while true {
            let x = next()
            if x < limit { return Int(x % bound) }
        }
    }

    /// Fisher-Yates shuffle, drawing one `nextIndex` per position from the end.
    package mutating func shuffle<T>(_ items: inout [T]) {
        var i = items.count - 1
        while i > 0 {
            let j = nextIndex(below: i + 1)
            items.swapAt(i, j)
            i -= 1
        }
    }
}
