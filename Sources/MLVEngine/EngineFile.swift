import Foundation
import MLVSupport
#if canImport(Glibc)
import Glibc
#endif

/// Reading the files the engine is given (params, images, checkpoints), which other people wrote:
/// only regular files, each kind under a size cap, checked on the open descriptor before a byte
/// is read, so a FIFO, a device such as /dev/zero or a huge file is an error, never a hang or an
/// allocation that brings the machine down.
enum EngineFile {
    /// params.yaml: a few hundred bytes in practice.
    static let maxParamsBytes = 1 << 20
    /// One PNG image (its decoded size has its own cap, `PNGImage.maxPixels`).
    static let maxImageBytes = 256 << 20
    /// model.safetensors: the largest network the params' ranges allow that fits in memory is
    /// far smaller.
    static let maxModelBytes = 4 << 30

    /// The bytes of `path`, which must be a regular file (a symlink to one is fine) of at most
    /// `limit` bytes; `what` names the kind of file in errors ("image", "checkpoint").
    /// An image of a dataset, as training, evaluation and `validate` all read it: symlinks
    /// followed (a checkout in symlink mode is links into the cache), at most `maxImageBytes`.
    static func readImage(_ path: String) throws -> [UInt8] {
        try read(path, what: "image", limit: maxImageBytes, hint: "images must be PNG files")
    }

    static func read(_ path: String, what: String, limit: Int, hint: String? = nil) throws -> [UInt8] {
        do {
            return try UntrustedFile.bytes(path, shownAs: path, limit: limit, followSymlinks: true)
        } catch UntrustedFile.Refusal.notRegular(let kind) {
            throw EngineError("\(path): is \(kind), not a regular \(what) file", hint: hint)
        } catch UntrustedFile.Refusal.tooLarge(let size, _) {
            throw EngineError("\(path): \(ByteCount.text(size)) is too large for \(what == "image" ? "an" : "a") \(what) file (at most \(ByteCount.text(limit)))", hint: hint)
        }
    }
}
