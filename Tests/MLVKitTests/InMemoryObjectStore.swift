@testable import MLVKit
import MLVSupport
#if canImport(Glibc)
import Glibc
#endif

/// An object store in memory, for unit tests of transfer planning, the remote index and gc:
/// it counts what it is asked, and can be made to lie (`tamper`).
final class InMemoryObjectStore: ObjectStore, @unchecked Sendable {
    let remoteName: String
    let usesIndex: Bool
    private let lock = Lock()
    private(set) var objects: [ContentHash: [UInt8]] = [:]
    private(set) var side: [String: [UInt8]] = [:]
    private(set) var uploads = 0
    private(set) var downloads = 0
    private(set) var existenceQueries = 0

    init(name: String = "mem", usesIndex: Bool = false) {
        remoteName = name
        self.usesIndex = usesIndex
    }

    var largeObjectSize: Int64 { .max }

    func check(forWriting: Bool) throws {}

    func existing(_ hashes: [ContentHash], jobs: Int) throws -> Set<ContentHash> {
        if hashes.isEmpty { return [] }
        lock.lock(); defer { lock.unlock() }
        existenceQueries += 1
        return Set(hashes.filter { objects[$0] != nil })
    }

    func upload(_ hash: ContentHash, from path: String, size: Int64, jobs: Int) throws {
        let bytes = try FS.readFile(path)
        lock.lock(); defer { lock.unlock() }
        uploads += 1
        objects[hash] = bytes
    }

    func listAll() throws -> [StoredObject] {
        lock.lock(); defer { lock.unlock() }
        return objects.map { StoredObject(hash: $0.key, size: Int64($0.value.count), modified: 0) }
    }

    func delete(_ hashes: [ContentHash]) throws {
        lock.lock(); defer { lock.unlock() }
        for h in hashes { objects[h] = nil }
    }

    func download(_ hash: ContentHash, to fd: Int32, path: String, limit: Int64) throws -> Digest? {
        lock.lock()
        downloads += 1
        let bytes = objects[hash]
        lock.unlock()
        guard let bytes else { return nil }
        guard Int64(bytes.count) <= limit else {
            throw RemoteError.largerThanRecorded(remote: remoteName, object: hash.short, size: Int64(bytes.count), recorded: limit)
        }
        try bytes.withUnsafeBytes { try FS.writeAll(fd, $0, path: path) }
        return Digest(bytes: SHA256Hasher.hexBytes(bytes))
    }

    func listSide(_ folder: String, limit: Int) throws -> [String] {
        lock.lock(); defer { lock.unlock() }
        return side.keys.filter { $0.hasPrefix(folder + "/") }.map { String($0.dropFirst(folder.count + 1)) }.sorted().prefix(limit).map { $0 }
    }

    func getSide(_ key: String, limit: Int) throws -> [UInt8]? {
        lock.lock(); defer { lock.unlock() }
        return side[key].flatMap { $0.count <= limit ? $0 : nil }
    }

    func putSide(_ key: String, _ bytes: [UInt8]) throws {
        lock.lock(); defer { lock.unlock() }
        side[key] = bytes
    }

    func deleteSide(_ keys: [String]) throws {
        lock.lock(); defer { lock.unlock() }
        for k in keys { side[k] = nil }
    }

    /// Replaces an object's bytes (a remote copy gone bad, or a lie).
    func tamper(_ hash: ContentHash, with bytes: [UInt8]) {
        lock.lock(); objects[hash] = bytes; lock.unlock()
    }
}
