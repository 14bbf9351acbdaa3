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

    /// A folder is stored from a walk in the byte order of its paths, a few files at a time: its
    /// manifest is the one a sort of every entry gives, and its record (made in path order)
    /// has the fingerprint a breadth-first status walk finds, so status reads nothing.
    @Test func aFolderIsStoredInPathOrderAndStatusFindsItsRecord() throws {
        let (dir, bare, cache, _) = try layout()
        defer { dir.remove() }
        // A clock ahead of the files: they are old enough for their folder to be recorded.
        let state = StateIndex(path: cache.tmp + "/state-ahead.db", now: { StateIndex.realtimeNanoseconds() + 10_000_000_000 })
        let scanner = TreeScanner(root: bare.root, objectsRoot: cache.objectsRoot, state: state)
        let names = ["a.txt", "a!", "a/z", "a/b.c/d", "a/b/e", "a/b0", "a-b/c", "ab", "a0/q", "é/x", "Z", "top/inner/deep/f",
                     "top/inner.f", "top/inner-g", "top/inner/deep/g", "top/inner/h"]
        for (i, n) in names.enumerated() {
            try FS.makeDirectories(Path.parent(scanner.absolute("tricky/" + n)))
            try FS.writeFile(scanner.absolute("tricky/" + n), Array("file \(i)".utf8))
        }
        var seen: [String] = []
        var folders: [String: [String]] = [:]
        try scanner.forEachInPathOrder("tricky", folder: { folder, files -> [WorkspaceFile] in
            folders[folder] = files.map(\.path)
            return files
        }, file: { files, k in seen.append(files[k].path) })
        #expect(seen == names.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) })
        // Each folder's files as the breadth-first walk lists them (order included).
        var walked: [String: [String]] = [:]
        try scanner.forEachFolder("tricky") { folder, files in walked[folder] = files.map(\.path) }
        #expect(folders == walked)

        let linker = Linker(cache: cache, state: state, mode: .copy)
        linker.storeWindow = 3
        let tree = try scanner.scan("tricky", shownAs: "tricky", status: try #require(try FS.status(scanner.absolute("tricky"))))
        let walk = try scanner.walk("tricky")
        #expect(tree.fileCount == names.count && tree.fingerprint == TreeScanner.fingerprint(walk))
        let record = try #require(try linker.store([tree], scanner: scanner).first)
        state.flush()
        #expect(record.fileCount == names.count)
        let current = try scanner.current("tricky", HashWorker())
        #expect(record.hash == current?.hash)
        #expect(try cache.manifest(record.hash)?.entries.map(\.path) == seen)
        let known = try #require(state.directory("tricky"))
        #expect(known.hash == record.hash.description && known.fingerprint == tree.fingerprint)
        #expect(state.directoryParts("tricky").count == walked.values.filter { !$0.isEmpty }.count)
        #expect(try scanner.quickStatus("tricky", fingerprint: known.fingerprint, HashWorker()) == [])
        try FS.writeFile(scanner.absolute("tricky/a/b/e"), Array("changed".utf8))
        #expect(try scanner.quickStatus("tricky", fingerprint: known.fingerprint, HashWorker()) == ["a/b/e"])
        // What a watcher says changed: only those inner folders are read; a folder, an ignore
        // file or a path that is not a plain one inside means a walk.
        #expect(try scanner.watchedStatus("tricky", changed: ["tricky/a/b/e", "elsewhere/x"], HashWorker()) == ["a/b/e"])
        #expect(try scanner.watchedStatus("tricky", changed: ["elsewhere/x"], HashWorker()) == [])
        for walk in ["tricky/a/b", "tricky", "tricky/x/.mlvignore", "tricky/../ws/x", "tricky/a//z"] {
            #expect(try scanner.watchedStatus("tricky", changed: [walk], HashWorker()) == nil, "\(walk)")
        }
    }

    /// The objects a failed store must take back are kept 32 bytes each, spilled to an unnamed
    /// file past a threshold, and come back in the order they were noted.
    @Test func createdObjectsSpillToAFileAndComeBack() throws {
        let (dir, _, cache, _) = try layout()
        defer { dir.remove() }
        let created = CreatedObjects(spillIn: cache.tmp, spillAt: 96)
        let digests = (0..<100).map { Digest(bytes: SHA256Hasher.hexBytes(Array("object \($0)".utf8))) }
        for d in digests { created.append(d) }
        var back: [Digest] = []
        created.forEach { back.append($0) }
        #expect(back == digests)
        #expect(try FS.list(cache.tmp).allSatisfy { $0.name == "state.db" || $0.name.hasPrefix("state.db-") })
        created.removeAll()
        back = []
        created.forEach { back.append($0) }
        #expect(back.isEmpty)
        for d in digests.prefix(5) { created.append(d) }
        created.forEach { back.append($0) }
        #expect(back == Array(digests.prefix(5)))
    }
}
