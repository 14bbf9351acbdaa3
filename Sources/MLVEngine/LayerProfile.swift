internal import CBLAS
import Dispatch

/// Wall time per layer and pass, collected when a run is profiled (`MLV_ENGINE_PROFILE=1`),
/// plus the time of `cblas_sgemm` alone on each conv layer's GEMM shapes, for comparison.
package final class LayerProfile {
    struct Entry {
        var seconds = 0.0
        var calls = 0
        var flops = 0.0
        /// The fastest single call's rate (the machine is shared: the mean includes the noise).
        var bestRate = 0.0
    }

    private(set) var order: [String] = []
    private var entries: [String: Entry] = [:]

    package init() {}

    /// Runs `body`, adding its time (and `flops` floating-point operations) to `name`.
    func measure(_ name: String, flops: Double = 0, _ body: () -> Void) {
        let start = DispatchTime.now().uptimeNanoseconds
        body()
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        if entries[name] == nil { order.append(name) }
        entries[name, default: Entry()].seconds += seconds
        entries[name, default: Entry()].calls += 1
        entries[name, default: Entry()].flops += flops
        if flops > 0 { entries[name]!.bestRate = max(entries[name]!.bestRate, flops / max(seconds, 1e-12)) }
    }

    /// GFLOP/s of layer `i`'s forward and backward calls together, each at its best call's rate,
    /// for the batch-`N` work of `arch`; nil when the layer was not profiled.
    func convBestRate(_ i: Int, _ arch: Architecture, N: Int) -> Double? {
        guard let f = entries["conv\(i + 1) forward"], let b = entries["conv\(i + 1) backward"],
              f.bestRate > 0, b.bestRate > 0 else { return nil }
        let blk = arch.convBlocks[i]
        let forward = 2.0 * Double(blk.outChannels * blk.inChannels * 9 * N * blk.size * blk.size)
        let backward = forward * (i > 0 ? 2 : 1)
        return (forward + backward) / (forward / f.bestRate + backward / b.bestRate) / 1e9
    }

    /// One line per layer: total seconds, share, GFLOP/s where it does GEMMs.
    package var report: String {
        let total = entries.values.reduce(0) { $0 + $1.seconds }
        var out = "layer                      seconds   share   GFLOP/s  (best call)\n"
        for name in order {
            let e = entries[name]!
            let rate = e.flops > 0 ? String(format: "%9.1f  %9.1f", e.flops / e.seconds / 1e9, e.bestRate / 1e9) : "        -"
            out += name.padding(toLength: 24, withPad: " ", startingAt: 0)
                + String(format: "%10.3f  %5.1f%%  ", e.seconds, 100 * e.seconds / max(total, 1e-12)) + rate + "\n"
        }
        return out
    }

    /// GFLOP/s of cblas_sgemm alone on the three products of each conv layer of `arch` at batch
    /// `N` (forward, weight gradient, input gradient), best of `repeats`, in the same layouts.
    package static func sgemmAlone(_ arch: Architecture, N: Int, repeats: Int = 3) -> [(layer: String, gflops: Double)] {
        var out: [(String, Double)] = []
        for (i, b) in arch.convBlocks.enumerated() {
            let L = N * b.size * b.size, K = b.inChannels * 9, OC = b.outChannels
            let a = UnsafeMutablePointer<Float>.allocate(capacity: OC * K)
            let col = UnsafeMutablePointer<Float>.allocate(capacity: K * L)
            let c = UnsafeMutablePointer<Float>.allocate(capacity: max(OC * L, K * L))
            a.initialize(repeating: 0.01, count: OC * K)
            col.initialize(repeating: 0.02, count: K * L)
            c.initialize(repeating: 0, count: max(OC * L, K * L))
            defer { a.deallocate(); col.deallocate(); c.deallocate() }
            var best = Double.infinity
            for _ in 0..<repeats {
                let start = DispatchTime.now().uptimeNanoseconds
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(OC), Int32(L), Int32(K),
                            1, a, Int32(K), col, Int32(L), 0, c, Int32(L))
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(OC), Int32(K), Int32(L),
                            1, c, Int32(L), col, Int32(L), 0, a, Int32(K))
                if i > 0 {
                    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(K), Int32(L), Int32(OC),
                                1, a, Int32(K), c, Int32(L), 0, col, Int32(L))
                }
                best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
            }
            let flops = 2.0 * Double(OC * K * L) * (i > 0 ? 3 : 2)
            out.append(("conv\(i + 1)", flops / best / 1e9))
        }
        return out
    }
}
