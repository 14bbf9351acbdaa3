import Testing
@testable import MLVEngine

@Suite struct PNGImageTests {
    @Test func grayRGBAndRGBARoundTrip() throws {
        let gray: [UInt8] = [0, 64, 128, 255, 10, 20]
        let g = try PNGImage.decode(try PNGImage.encode(width: 3, height: 2, channels: 1, pixels: gray), path: "g.png")
        #expect(g.width == 3 && g.height == 2 && g.channels == 1 && g.pixels == gray.map { Float($0) / 255 })

        let rgb: [UInt8] = (0..<12).map { UInt8($0 * 20) }
        let c = try PNGImage.decode(try PNGImage.encode(width: 2, height: 2, channels: 3, pixels: rgb), path: "c.png")
        #expect(c.channels == 3 && c.pixels == rgb.map { Float($0) / 255 })

        // Alpha is dropped, the colour underneath kept (also where alpha is 0).
        let rgba: [UInt8] = [255, 0, 0, 255, 0, 255, 0, 0]
        let a = try PNGImage.decode(try PNGImage.encode(width: 2, height: 1, channels: 4, pixels: rgba), path: "a.png")
        #expect(a.channels == 3 && a.pixels == [1, 0, 0, 0, 1, 0])
    }

    @Test func paletteAndSixteenBit() throws {
        let palette: [UInt8] = [255, 0, 0, 0, 0, 255]
        let p = try PNGImage.decode(try PNGImage.encodePalette(width: 3, height: 1, indices: [0, 1, 0], palette: palette), path: "p.png")
        #expect(p.channels == 3 && p.pixels == [1, 0, 0, 0, 0, 1, 1, 0, 0])

        let wide = try PNGImage.decode(try PNGImage.encode16(width: 3, height: 1, pixels: [0, 32768, 65535]), path: "w.png")
        #expect(wide.channels == 1)
        #expect(wide.pixels == [0, Float(32768) / 65535, 1]) // raw values, no gamma change
    }

    @Test func garbageIsReportedWithThePath() {
        #expect(throws: EngineError.self) { try PNGImage.decode(Array("not a png".utf8), path: "cats/x.png") }
        do {
            _ = try PNGImage.decode(Array("not a png".utf8), path: "cats/x.png")
        } catch let e as EngineError {
            #expect(e.message.hasPrefix("cats/x.png: not a readable PNG"))
        } catch {}
    }

    @Test func claimedPixelsReadsTheHeaderWithoutTrusting() throws {
        #expect(PNGImage.claimedPixels(try PNGImage.encode(width: 3, height: 5, channels: 1, pixels: Array(repeating: 0, count: 15))) == 15)
        #expect(PNGImage.claimedPixels([1, 2, 3]) == 0)
        var forged = [UInt8](repeating: 0, count: 24)
        for k in 16..<24 { forged[k] = 0xFF }
        #expect(PNGImage.claimedPixels(forged) == Int.max) // (2³² - 1)² does not fit: no trap
        forged[16] = 0
        #expect(PNGImage.claimedPixels(forged) == 0x00FF_FFFF * 0xFFFF_FFFF)
    }
}
