import MLVSupport

extension PipelineError {
    /// Reads a file of the pipeline that another person may have written (pipeline.yaml, params,
    /// metrics, a lock, a run-cache entry): a regular file, symlinks followed, of at most `limit`
    /// bytes, checked on the open descriptor (never a FIFO or a device, never more than it
    /// said). `shown` names it in errors.
    static func readFile(_ abs: String, shown: String, limit: Int = 64 << 20) throws -> [UInt8] {
        do {
            return try UntrustedFile.bytes(abs, shownAs: shown, limit: limit, followSymlinks: true)
        } catch UntrustedFile.Refusal.notRegular {
            throw PipelineError.notARegularFile(path: shown)
        } catch UntrustedFile.Refusal.tooLarge {
            throw PipelineError.fileTooLarge(path: shown, limit: "\(limit >> 20) MiB")
        }
    }

    /// Params, vars, metrics and plots files are read like deps: `abs` (inside `root`), its
    /// symlinks followed, must stay inside the workspace and out of `.git` and `.mlv`.
    static func checkInside(_ abs: String, root: String, shown: String) throws {
        guard let real = FS.realPath(abs) else { return }  // missing: the caller says so
        let top = FS.realPath(root) ?? root
        guard let rel = Path.relative(real, to: top), rel != ".", WorkspacePath.protectedComponent(in: rel) == nil else {
            throw PipelineError.readsOutside(path: shown)
        }
    }

    static func readText(_ abs: String, shown: String, limit: Int = 64 << 20) throws -> String {
        String(decoding: try readFile(abs, shown: shown, limit: limit), as: UTF8.self)
    }

    /// `readText` for a file whose text becomes values (params): bytes that are not UTF-8, or a
    /// NUL byte, are refused with the file named instead of being read as something else.
    static func readStrictText(_ abs: String, shown: String, limit: Int = 64 << 20) throws -> String {
        let bytes = try readFile(abs, shown: shown, limit: limit)
        if let nul = bytes.firstIndex(of: 0) { throw PipelineError.notText(path: shown, reason: "a NUL byte at offset \(nul)") }
        guard let text = String(validating: bytes, as: UTF8.self) else { throw PipelineError.notText(path: shown, reason: "bytes that are not UTF-8") }
        return text
    }
}
