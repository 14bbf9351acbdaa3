import MLVHTTP
import MLVSupport
#if canImport(Glibc)
import Glibc
#endif

/// A DVC remote read in DVC's own layout, with mlv's S3 client or from a local folder, so
/// `mlv migrate --from-remote NAME` needs no DVC: objects lie at `files/md5/ab/cdef…` below
/// the remote's URL (DVC 3), or at `ab/cdef…` (DVC 2).
struct DVCRemote {
    enum Store {
        case s3(S3Remote, S3Client, prefix: String)
        case local(String)
    }

    let name: String
    let store: Store

    /// `settings`: the remote as mlv's config names it after conversion (URL, endpoint,
    /// region); `localConfig`: where its credentials are (`.mlv/config.local.yaml`'s keys).
    init(name: String, settings: RemoteSettings, localConfig: WorkspaceConfig) throws {
        self.name = name
        switch settings.url {
        case .local(let path): store = .local(path)
        case .s3(_, let prefix):
            let client = try settings.s3Client(localConfig: localConfig)
            store = .s3(S3Remote(name: name, client: client, prefix: prefix), client, prefix: prefix)
        }
    }

    /// The keys where `hash` may lie, DVC 3's first.
    static func keys(_ hash: DVCHash) -> [String] { ["files/md5/" + hash.objectName, hash.objectName] }

    /// Downloads the object into the open, empty file `fd` (at most `limit` bytes); false when the
    /// remote has it under neither layout.
    func download(_ hash: DVCHash, to fd: Int32, path: String, limit: Int64) throws -> Bool {
        for key in Self.keys(hash) {
            try FS.rewind(fd, path: path)
            switch store {
            case .local(let root):
                let source = Path.join(root, key)
                guard let st = try FS.status(source), st.kind == .file else { continue }
                guard st.size <= limit else { return false }
                _ = try HashWorker().copyHashing(from: source, toDescriptor: fd)
                return true
            case .s3(let remote, let client, let prefix):
                let full = prefix.isEmpty ? key : prefix + "/" + key
                do {
                    _ = try remote.mapped(key: full) { try client.getObject(key: full, to: fd, path: path, limit: limit) }
                    return true
                } catch let e as RemoteError where e.isNotFound {
                    continue
                }
            }
        }
        return false
    }
}

extension RemoteError {
    /// A 404 from the store (the object is not there).
    var isNotFound: Bool {
        if case .requestFailed(_, _, _, let status, _) = self { return status == 404 }
        return false
    }
}
