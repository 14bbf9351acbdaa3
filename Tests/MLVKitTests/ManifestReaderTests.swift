@testable import MLVKit
import MLVSupport
import MLVTestSupport
import Testing

/// A `.dir` object read from the cache entry by entry: the same entries as parsing it whole,
/// lines split across the reader's buffer, and a corrupted object named as that.
@Suite struct ManifestReaderTests {
    func cache() throws -> (TemporaryDirectory, ObjectCache) {
        let dir = try TemporaryDirectory(prefix: "mlv-manifest-reader")
        let cache = ObjectCache(root: dir.path + "/cache", tmp: dir.path + "/tmp")
        try FS.makeDirectories(cache.objectsRoot)
        try FS.makeDirectories(cache.tmp)
        return (dir, cache)
    }

    /// 40,000 entries (about 4 MiB: four buffers, lines cut at each edge), some names escaped.
    func bigManifest() -> DirectoryManifest {
        DirectoryManifest(entries: (0..<40_000).map { i in
            .init(path: "d\(i / 1000)/f\(i)\(i % 7 == 0 ? "\t%\n" : "").bin", digest: Digest(bytes: SHA256Hasher.hexBytes(Array("\(i)".utf8))), size: Int64(i))
        })
    }

    @Test func readsAnObjectInChunksAsParsingItWhole() throws {
        let (dir, cache) = try cache()
        defer { dir.remove() }
        let manifest = bigManifest()
        #expect(manifest.serialized().count > 3 * ManifestReader.chunk)
        let hash = try cache.store(bytes: manifest.serialized(), isDirectory: true)
        let reader = try #require(try cache.manifestReader(hash))
        var read: [DirectoryManifest.Entry] = []
        while try reader.next() { read.append(reader.entry) }
        #expect(read == manifest.entries)
        #expect(try cache.manifest(hash) == manifest)
        #expect(reader.count == 40_000 && reader.totalSize == manifest.totalSize)
        #expect(try cache.manifestReader(ContentHash(Digest(bytes: SHA256Hasher.hexBytes([1])), isDirectory: true)) == nil)
    }

    @Test func aCorruptedObjectIsNamedAsCorruptedWhateverItsBytesSay() throws {
        let (dir, cache) = try cache()
        defer { dir.remove() }
        let manifest = bigManifest()
        // A digit changed, a path made unsafe, the last line cut short.
        for (offset, byte) in [(3 * ManifestReader.chunk + 5, UInt8(ascii: "0")), (2 * ManifestReader.chunk, UInt8(ascii: "/")), (-1, 0)] {
            let hash = try cache.store(bytes: manifest.serialized(), isDirectory: true)
            var bytes = manifest.serialized()
            if offset < 0 { bytes.removeLast(10) } else { bytes[offset] = bytes[offset] == byte ? byte + 1 : byte }
            try FS.chmod(cache.path(hash), 0o644)
            try FS.writeFile(cache.path(hash), bytes)
            let reader = try #require(try cache.manifestReader(hash))
            do {
                while try reader.next() {}
                Issue.record("a corrupted object was read to its end (offset \(offset))")
            } catch let e as WorkspaceError {
                #expect(e.message.contains("is corrupted (its content no longer matches its hash)"))
            }
            try FS.remove(cache.path(hash))
        }
    }

    @Test func refusesALineLongerThanItsBuffer() throws {
        let (dir, cache) = try cache()
        defer { dir.remove() }
        let name = String(repeating: "n", count: ManifestReader.chunk)
        let bytes = Array("mlv-manifest 1\n\(SHA256Hasher.hex("x"))\t1\t\(name)\n".utf8)
        let hash = try cache.store(bytes: bytes, isDirectory: true)
        let reader = try #require(try cache.manifestReader(hash))
        do {
            while try reader.next() {}
            Issue.record("a line longer than the buffer was read")
        } catch let e as DirectoryManifest.Invalid {
            #expect(e.message == "directory manifest '\(hash.short)…' is invalid: line 2 is longer than \(ManifestReader.chunk) bytes")
        }
    }
}
