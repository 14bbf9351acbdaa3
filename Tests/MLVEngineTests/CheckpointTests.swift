import MLVSupport
import MLVTestSupport
import Testing
@testable import MLVEngine

@Suite struct CheckpointTests {
    func sample() -> Checkpoint {
        let arch = Architecture(imageSize: 12, inputChannels: 3, convFilters: [4, 8], fcSizes: [16],
                                dropoutRates: [0.25, 0.3], classCount: 3)
        var rng = SplitMix64(seed: 9)
        return Checkpoint(architecture: arch, classNames: ["cat", "dog", "émeu \"x\""],
                          normalization: Normalization(mean: [0.1, 0.2, 0.3], std: [0.5, 0.25, 1]),
                          paramsJSON: TrainParams().asJSON,
                          weights: (0..<arch.parameterCount).map { _ in rng.nextFloat(bound: 1) })
    }

    @Test func safetensorsRoundTripIsExact() throws {
        let c = sample()
        let bytes = c.encoded()
        #expect(try Checkpoint.decode(bytes, path: "m") == c)
        #expect(c.encoded() == bytes) // deterministic bytes
    }

    @Test func layoutIsStandardSafetensors() throws {
        let bytes = sample().encoded()
        var n = 0
        for i in 0..<8 { n |= Int(bytes[i]) << (8 * i) }
        #expect(n % 8 == 0)
        let header = String(decoding: bytes[8..<(8 + n)], as: UTF8.self)
        #expect(header.hasPrefix("{\"__metadata__\": {\"format\": \"pt\", \"mlv.architecture\": "))
        #expect(header.contains("\"conv1.weight\": {\"dtype\": \"F32\", \"shape\": [4, 3, 3, 3], \"data_offsets\": [0, 432]}"))
        #expect(header.contains("\"fc1.weight\": {\"dtype\": \"F32\", \"shape\": [16, 72]"))
        #expect(bytes.count == 8 + n + 4 * sample().architecture.parameterCount)
    }

    @Test func brokenCheckpointsAreRejected() {
        let bytes = sample().encoded()
        #expect(throws: EngineError.self) { try Checkpoint.decode(Array(bytes.prefix(100)), path: "m") }
        #expect(throws: EngineError.self) { try Checkpoint.decode(Array(bytes.dropLast(4)), path: "m") }
        #expect(throws: EngineError.self) { try Checkpoint.decode([1, 2, 3], path: "m") }
    }
}
