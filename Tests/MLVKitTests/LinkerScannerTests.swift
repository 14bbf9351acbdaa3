import Foundation
@testable import MLVKit
import MLVSupport
import MLVTestSupport
import Testing

/// The cache mechanics without the binary: the tree scanner's records and fingerprints, and the
/// linker storing and materialising objects in each link mode.
@Suite struct LinkerScannerTests {
    /// A bare layout: `ws/` with files, `ws/.mlv/cache`, `ws/.mlv/tmp`.
    func layout() throws -> (TemporaryDirectory, TreeScanner, ObjectCache, StateIndex) {
        let dir = try TemporaryDirectory(prefix: "mlv-linker")
        let root = FS.realPath(dir.path)! + "/ws"
        for f in ["data/a.txt": "alpha", "data/sub/b.txt": "beta", "single.bin": "one"] {
            try FS.makeDirectories(Path.parent(root + "/" + f.key))
            try FS.writeFile(root + "/" + f.key, Array(f.value.utf8))
        }
        let cache = ObjectCache(root: root + "/.mlv/cache", tmp: root + "/.mlv/tmp")
        try FS.makeDirectories(cache.objectsRoot)
        try FS.makeDirectories(cache.tmp)
        let state = StateIndex(path: cache.tmp + "/state.db")
        return (dir, TreeScanner(root: root, objectsRoot: cache.objectsRoot, state: state), cache, state)
    }

    @Test func theScannerRecordsFilesAndFoldersAsTheirManifestsSay() throws {
        let (dir, scanner, _, _) = try layout()
        defer { dir.remove() }
        let worker = HashWorker()
        let file = try #require(try scanner.current("single.bin", worker))
        #expect(file.hash == ContentHash(Digest(bytes: SHA256Hasher.hexBytes(Array("one".utf8)))) && file.size == 3 && file.fileCount == nil)
        let folder = try #require(try scanner.current("data", worker))
        #expect(folder.hash.isDirectory && folder.size == 9 && folder.fileCount == 2)
        // The folder's hash is its manifest's: entries sorted by path, each with its digest and size.
        let manifest = DirectoryManifest(entries: [
            .init(path: "a.txt", digest: Digest(bytes: SHA256Hasher.hexBytes(Array("alpha".utf8))), size: 5),
            .init(path: "sub/b.txt", digest: Digest(bytes: SHA256Hasher.hexBytes(Array("beta".utf8))), size: 4),
        ])
        #expect(folder.hash == ContentHash(Digest(bytes: SHA256Hasher.hexBytes(manifest.serialized())), isDirectory: true))
        #expect(try scanner.current("missing", worker) == nil)
        // A change of one byte changes the folder's hash and fingerprint.
        let before = TreeScanner.fingerprint(try scanner.walk("data"))
        try FS.writeFile(scanner.absolute("data/a.txt"), Array("alphA!".utf8))
        let after = TreeScanner.fingerprint(try scanner.walk("data"))
        #expect(before != after)
        #expect(try scanner.current("data", worker)?.hash != folder.hash)
    }

    @Test(arguments: [LinkType.copy, .hardlink, .symlink])
    func theLinkerStoresAndMaterialisesInEachMode(_ mode: LinkType) throws {
        let (dir, scanner, cache, state) = try layout()
        defer { dir.remove() }
        let linker = Linker(cache: cache, state: state, mode: mode)
        let tree = try scanner.scan("data", shownAs: "data", status: try #require(try FS.status(scanner.absolute("data"))))
        let stored = try linker.store([tree], scanner: scanner)
        let record = try #require(stored.first)
        #expect(record.hash.isDirectory && record.fileCount == 2)
        let manifest = try #require(try cache.manifest(record.hash))
        #expect(manifest.entries.map(\.path) == ["a.txt", "sub/b.txt"])
        for e in manifest.entries { #expect(cache.contains(ContentHash(e.digest))) }
        // The workspace files are linked back per the mode.
        let st = try #require(try FS.status(scanner.absolute("data/a.txt")))
        switch mode {
        case .symlink: #expect(st.kind == .symlink)
        case .hardlink:
            let objectInode = try FS.status(cache.path(ContentHash(manifest.entries[0].digest)))?.inode
            #expect(st.kind == .file && st.inode == objectInode)
        default: #expect(st.kind == .file)
        }
        // Materialising an object writes its bytes under a new name, verified.
        let handle = try #require(try DirectoryHandle.open(scanner.root).descend("data", create: false))
        try linker.materialize(manifest.entries[1].digest, into: handle, name: "copy-of-b", shownAs: "data/copy-of-b", HashWorker())
        #expect(try FS.readText(scanner.absolute("data/copy-of-b")) == "beta")
    }

    @Test func aCorruptedObjectIsNeverMaterialised() throws {
        let (dir, scanner, cache, state) = try layout()
        defer { dir.remove() }
        let linker = Linker(cache: cache, state: state, mode: .copy)
        let tree = try scanner.scan("single.bin", shownAs: "single.bin", status: try #require(try FS.status(scanner.absolute("single.bin"))))
        let record = try #require(try linker.store([tree], scanner: scanner).first)
        let object = cache.path(record.hash)
        try FS.chmod(object, 0o644)
        try FS.writeFile(object, Array("two".utf8))
        let handle = try DirectoryHandle.open(scanner.root)
        #expect(throws: WorkspaceError.self) {
            try linker.materialize(record.hash.digest, into: handle, name: "restored", shownAs: "restored", HashWorker())
        }
        #expect(!FS.exists(scanner.absolute("restored")))
    }
}
