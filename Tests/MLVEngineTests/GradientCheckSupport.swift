@testable import MLVEngine

/// A Float buffer for tests that frees itself (the engine's own buffers live in ConvNet).
final class TestBuffer {
    let p: UnsafeMutablePointer<Float>
    let count: Int
    init(_ count: Int) {
        self.count = count
        p = .allocate(capacity: max(count, 1))
        p.initialize(repeating: 0, count: max(count, 1))
    }
    convenience init(random count: Int, rng: inout SplitMix64, scale: Float = 1) {
        self.init(count)
        for i in 0..<count { p[i] = rng.nextFloat(bound: scale) }
    }
    deinit { p.deallocate() }
    var array: [Float] { Array(UnsafeBufferPointer(start: p, count: count)) }
    subscript(i: Int) -> Float {
        get { p[i] }
        set { p[i] = newValue }
    }
}

/// Σ out[i]·r[i] in Double: a scalar whose gradient with respect to `out` is `r`.
func dot(_ a: TestBuffer, _ r: TestBuffer) -> Double {
    var s: Double = 0
    for i in 0..<a.count { s += Double(a[i]) * Double(r[i]) }
    return s
}

/// Central finite differences of `loss` for every element of `x`, compared with `analytic`:
/// returns max |numeric - analytic| / max(max |analytic|, 1e-3). Float32 throughout, so with
/// h = 1e-2 on piecewise-linear layers the error is round-off, well under 1e-3.
func gradientError(of x: TestBuffer, analytic: [Float], h: Float, loss: () -> Double) -> Double {
    var worst: Double = 0
    var scale: Double = 1e-3
    for a in analytic { scale = max(scale, Double(abs(a))) }
    for i in 0..<x.count {
        let saved = x[i]
        x[i] = saved + h
        let plus = loss()
        x[i] = saved - h
        let minus = loss()
        x[i] = saved
        let numeric = (plus - minus) / Double(2 * h)
        worst = max(worst, abs(numeric - Double(analytic[i])))
    }
    return worst / scale
}
