import MLVSupport
#if canImport(Glibc)
import Glibc
#endif

/// Results of earlier runs: (cmd, deps' hashes, params' values, declared outs) → the outs it
/// produced. One small file per run, named by its own SHA-256, in a folder named by the key:
///
///     .mlv/cache/runs/ab/cdef…(key)/<sha256 of the entry>
///
///     mlv-run 1
///     <hash>\t<size>\t<nfiles or ->\t<out path>
///
/// Content-addressed both ways, so entries from several machines merge by copying files (what
/// a remote push/pull of `runs/` needs). Entries are untrusted: only paths that are the stage's
/// declared outs are accepted.
struct RunCache {
    let root: String

    static let header = "mlv-run 1\n"

    /// The key of one run.
    static func key(_ stage: Stage, deps: [Lockfile.Entry], params: [(file: String, values: [(key: String, value: ParamValue)])]) -> String {
        var text = "mlv-run-key 1\n"
        for c in stage.cmd { text += "cmd " + JSONText.string(c) + "\n" }
        text += "wdir " + JSONText.string(stage.wdir) + "\n"
        for d in deps.sorted(by: { $0.path.utf8.lexicographicallyPrecedes($1.path.utf8) }) {
            text += "dep " + JSONText.string(d.path) + " " + d.hash.description + "\n"
        }
        for f in params.sorted(by: { $0.file.utf8.lexicographicallyPrecedes($1.file.utf8) }) {
            for (k, v) in f.values.sorted(by: { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }) {
                text += "param " + JSONText.string(f.file) + " " + JSONText.string(k) + " " + v.canonical + "\n"
            }
        }
        for o in stage.outs.map(\.path).sorted() { text += "out " + JSONText.string(o) + "\n" }
        return SHA256Hasher.hex(text)
    }

    func folder(_ key: String) -> String { root + "/" + key.prefix(2) + "/" + key.dropFirst(2) }

    /// Recorded results for `key`, each with exactly the stage's declared outs; at most 16 read.
    func entries(_ key: String, outs declared: [String]) -> [[Lockfile.Entry]] {
        let dir = folder(key)
        guard let names = try? FS.list(dir) else { return [] }
        var out: [[Lockfile.Entry]] = []
        for name in names.map(\.name).filter({ $0.utf8.count == 64 }).sorted().prefix(16) {
            let path = dir + "/" + name
            guard let bytes = try? UntrustedFile.read(path, shownAs: name, what: "a run-cache entry", limit: (1 << 20) - 1),
                  SHA256Hasher.hex(bytes) == name,
                  let entry = RunCache.parse(bytes, declared: declared)
            else { continue }
            out.append(entry)
        }
        return out
    }

    /// An entry's outs. `declared`: the stage's outs, which the entry must name exactly; nil
    /// (an entry from a remote, its stage not known yet): any outs with safe workspace paths.
    static func parse(_ bytes: [UInt8], declared: [String]?) -> [Lockfile.Entry]? {
        let text = String(decoding: bytes, as: UTF8.self)
        guard text.hasPrefix(header) else { return nil }
        var entries: [Lockfile.Entry] = []
        for line in text.dropFirst(header.count).split(separator: "\n") {
            let f = line.split(separator: "\t", maxSplits: 3, omittingEmptySubsequences: false)
            guard f.count == 4, let hash = ContentHash(string: String(f[0])), let size = Int64(f[1]), size >= 0 else { return nil }
            let count: Int? = f[2] == "-" ? nil : Int(f[2])
            if f[2] != "-", count == nil || count! < 0 { return nil }
            let path = String(f[3])
            guard declared?.contains(path) ?? ((try? WorkspacePath(validating: path)) != nil), !entries.contains(where: { $0.path == path }) else { return nil }
            entries.append(Lockfile.Entry(path: path, hash: hash, size: size, fileCount: count))
        }
        guard declared.map({ entries.count == $0.count }) ?? !entries.isEmpty else { return nil }
        return entries
    }

    func save(_ key: String, outs: [Lockfile.Entry]) throws {
        guard !outs.contains(where: { $0.path.contains("\n") || $0.path.contains("\t") }) else { return }
        var text = RunCache.header
        for o in outs.sorted(by: { $0.path.utf8.lexicographicallyPrecedes($1.path.utf8) }) {
            text += "\(o.hash)\t\(o.size)\t\(o.fileCount.map(String.init) ?? "-")\t\(o.path)\n"
        }
        let dir = folder(key)
        let name = SHA256Hasher.hex(text)
        if FS.exists(dir + "/" + name) { return }
        try FS.makeDirectories(dir)
        // Renamed into place but not fsynced: after a crash an entry may be empty or torn, and
        // then its bytes no longer hash to its name and `entries` skips it.
        let tmp = dir + "/." + name + ".tmp-\(getpid())"
        try FS.writeFile(tmp, Array(text.utf8), mode: 0o444)
        try FS.rename(tmp, dir + "/" + name)
    }
}
