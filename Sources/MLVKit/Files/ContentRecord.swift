/// The one record of tracked content, whoever keeps it: where it is, its content's hash (a
/// folder's is its `.dir` manifest's), its size and, for a folder, its number of files. A pointer
/// file holds one (`PointerFile`, its path relative to the pointer's folder), a `pipeline.lock`
/// entry is one (`Lockfile.Entry`), and an `Output` carries one.
package struct ContentRecord: Equatable, Sendable {
    package var path: String
    package var hash: ContentHash
    package var size: Int64
    /// For folders: the number of files.
    package var fileCount: Int?

    package init(path: String, hash: ContentHash, size: Int64, fileCount: Int?) {
        self.path = path
        self.hash = hash
        self.size = size
        self.fileCount = fileCount
    }
}
