import MLVSupport
import MLVTestSupport
import Testing
@testable import MLVEngine

@Suite struct ImageFolderTests {
    func message(_ body: () throws -> Void) -> String? {
        do { try body(); return nil } catch let e as EngineError { return e.message } catch { return "\(error)" }
    }

    @Test func flatFolderIsSplitBySeedDeterministically() throws {
        try withTemporaryDirectory { dir in
            try makeImageFolder(dir.path, classes: 3, perClass: 20)
            let a = try ImageFolder.scan(dir.path, seed: 1), b = try ImageFolder.scan(dir.path, seed: 1)
            let c = try ImageFolder.scan(dir.path, seed: 2)
            #expect(a.classNames == ["c0", "c1", "c2"] && !a.hasSplitFolders)
            #expect(a.items(.train).count == 48 && a.items(.val).count == 6 && a.items(.test).count == 6)
            #expect(a.splits == b.splits)
            #expect(a.items(.val) != c.items(.val))
            let all = Set((a.items(.train) + a.items(.val) + a.items(.test)).map(\.path))
            #expect(all.count == 60) // a partition: nothing lost or repeated
        }
    }

    @Test func splitFoldersAreUsedAsGiven() throws {
        try withTemporaryDirectory { dir in
            try makeImageFolder(dir.path, classes: 2, perClass: 3, splits: ["train", "val"])
            let f = try ImageFolder.scan(dir.path, seed: 1)
            #expect(f.hasSplitFolders && f.classNames == ["c0", "c1"])
            #expect(f.items(.train).count == 6 && f.items(.val).count == 6 && f.items(.test).isEmpty)
            #expect(f.items(.val).allSatisfy { $0.path.contains("/val/") })
        }
    }

    @Test func badFoldersAreNamed() throws {
        try withTemporaryDirectory { dir in
            try makeImageFolder(dir.path, classes: 2, perClass: 2)
            try FS.makeDirectories(dir.url("c2"))
            #expect(message { _ = try ImageFolder.scan(dir.path, seed: 1) } == "\(dir.url("c2")): empty class folder")
            try dir.gen(["c2/notes.txt": "hello"])
            #expect(message { _ = try ImageFolder.scan(dir.path, seed: 1) } == "\(dir.url("c2/notes.txt")): not a PNG file")
            #expect(message { _ = try ImageFolder.scan(dir.url("nope"), seed: 1) } == "\(dir.url("nope")): no such data folder")
        }
    }

    @Test func corruptPNGIsNamedWhenLoading() throws {
        try withTemporaryDirectory { dir in
            try makeImageFolder(dir.path, classes: 2, perClass: 3)
            let good = try FS.readFile(dir.url("c1/img1.png"))
            try AtomicFile.write(Array(good.prefix(good.count / 2)), to: dir.url("c1/img1.png"))
            let f = try ImageFolder.scan(dir.path, seed: 1)
            let all = f.items(.train) + f.items(.val) + f.items(.test)
            let m = message { _ = try ImageSet.load(all, size: 8, channels: 1, threads: 2) }
            #expect(m?.hasPrefix("\(dir.url("c1/img1.png")): corrupt PNG") == true, "\(m ?? "")")
        }
    }

    @Test func loadingResizesConvertsAndKeepsOrder() throws {
        try withTemporaryDirectory { dir in
            // A 2×2 RGB image: red, green / blue, white.
            let px: [UInt8] = [255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255]
            try FS.makeDirectories(dir.url("a"))
            try AtomicFile.write(try PNGImage.encode(width: 2, height: 2, channels: 3, pixels: px), to: dir.url("a/x.png"))
            let item = ImageFolder.Item(path: dir.url("a/x.png"), label: 0)
            let gray = try ImageSet.load([item], size: 2, channels: 1, threads: 1)
            #expect(gray.pixels.map { ($0 * 1000).rounded() } == [299, 587, 114, 1000])
            let up = try ImageSet.load([item, item], size: 4, channels: 3, threads: 2)
            #expect(up.count == 2 && up.pixels.count == 2 * 3 * 16)
            // Red channel, first row at 4 px: source x = 0, 0.25, 0.75, 1 → 1, 0.75, 0.25, 0.
            #expect(Array(up.pixels[0..<4]) == [1, 0.75, 0.25, 0])
            #expect(Array(up.pixels[0..<48]) == Array(up.pixels[48..<96]))
        }
    }
}
