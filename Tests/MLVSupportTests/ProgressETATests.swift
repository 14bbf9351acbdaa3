@testable import MLVSupport
import Testing

@Suite struct ProgressETATests {
    func snapshot(files: Int = 0, totalFiles: Int = 10, bytes: Int64, totalBytes: Int64, elapsed: Double) -> ProgressCounter.Snapshot {
        ProgressCounter.Snapshot(label: "push", files: files, totalFiles: totalFiles, bytes: bytes, totalBytes: totalBytes, elapsed: elapsed)
    }

    @Test func etaFromTheAverageRate() {
        // 100 of 1,000 bytes in 2 s: 50 B/s, 18 s left.
        let s = snapshot(files: 1, bytes: 100, totalBytes: 1000, elapsed: 2)
        #expect(s.rate == 50)
        #expect(s.secondsLeft == 18)
        #expect(s.etaText == "ETA 18s")
        #expect(snapshot(bytes: 10, totalBytes: 1000, elapsed: 2).etaText == "ETA 3:18")   // 990 B at 5 B/s
        #expect(snapshot(bytes: 1, totalBytes: 10_000, elapsed: 1).etaText == "ETA 2:46:39")
    }

    @Test func filesWhenTheSizeIsUnknown() {
        let s = snapshot(files: 5, totalFiles: 20, bytes: 0, totalBytes: 0, elapsed: 1)
        #expect(s.rate == 5)
        #expect(s.etaText == "ETA 3s")
    }

    @Test func unknownBeforeAnythingMovedAndAfterAllDid() {
        #expect(snapshot(bytes: 0, totalBytes: 1000, elapsed: 5).etaText == "ETA --")
        #expect(snapshot(bytes: 10, totalBytes: 1000, elapsed: 0.1).etaText == "ETA --")
        #expect(snapshot(bytes: 1000, totalBytes: 1000, elapsed: 3).etaText == "ETA --")
        #expect(snapshot(bytes: 1, totalBytes: Int64.max, elapsed: 1).etaText == "ETA --")
        #expect(snapshot(bytes: 0, totalBytes: 0, elapsed: 0).rate == 0)
    }
}
