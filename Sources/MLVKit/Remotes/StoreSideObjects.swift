import MLVHTTP
import MLVSupport
#if canImport(Glibc)
import Glibc
#endif

// Small objects a remote keeps beside the content objects, under the same root or prefix:
// `index/<name>` (RemoteIndex) and `runs/ab/cdef…(key)/<entry>` (run-cache entries). Keys are
// relative to the store's root and made by mlv; what a listing returns is untrusted, and the
// callers check every key's shape and every body's hash before using it.

extension S3Remote {
    package var usesIndex: Bool { true }

    var sideBase: String { prefix.isEmpty ? "" : prefix + "/" }

    /// Up to `limit` keys below `folder/`, a ListObjectsV2 page (1,000 keys) a request.
    package func listSide(_ folder: String, limit: Int) throws -> [String] {
        let base = sideBase + folder + "/"
        var out: [String] = []
        try mapped(key: nil) {
            try client.forEachPage(prefix: base, maxKeys: listPageSize) { page in
                for o in page.objects where o.key.hasPrefix(base) && out.count < limit { out.append(String(o.key.dropFirst(base.count))) }
                return out.count < limit
            }
        }
        return out
    }

    package func getSide(_ key: String, limit: Int) throws -> [UInt8]? {
        do {
            return try mapped(key: sideBase + key) { try client.getObject(key: sideBase + key, limit: limit) }
        } catch RemoteError.requestFailed(_, _, let code, let status, _) where status == 404 && code == "NoSuchKey" {
            return nil
        }
    }

    package func putSide(_ key: String, _ bytes: [UInt8]) throws {
        try mapped(key: sideBase + key) { try client.putObject(key: sideBase + key, bytes: bytes) }
    }

    /// DeleteObjects, 1,000 keys a request.
    package func deleteSide(_ keys: [String]) throws {
        for start in stride(from: 0, to: keys.count, by: 1000) {
            let batch = keys[start..<min(start + 1000, keys.count)].map { sideBase + $0 }
            let failed = try mapped(key: nil) { try client.deleteObjects(keys: batch) }
            if let f = failed.first {
                throw RemoteError.requestFailed(remote: remoteName, object: f.key, code: f.code, status: 200, attempts: 1)
            }
        }
    }
}
