internal import CCrypto

/// Streaming MD5 through OpenSSL's EVP interface. Not for integrity (SHA-256 is): only to
/// compare a local part with the ETag S3 returns for an uploaded part (the hex MD5 of its bytes).
package final class MD5Hasher {
    private let context: OpaquePointer

    package init() {
        guard let context = EVP_MD_CTX_new() else { fatalError("EVP_MD_CTX_new: out of memory") }
        self.context = context
        EVP_DigestInit_ex(context, EVP_md5(), nil)
    }

    deinit { EVP_MD_CTX_free(context) }

    package func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        EVP_DigestUpdate(context, base, bytes.count)
    }

    package func update(_ bytes: [UInt8]) { bytes.withUnsafeBytes { update($0) } }

    /// The digest as 32 lowercase hex digits; the hasher is reset afterwards.
    package func finalizeHex() -> String {
        var digest = [UInt8](repeating: 0, count: 16)
        var length: UInt32 = 0
        EVP_DigestFinal_ex(context, &digest, &length)
        EVP_DigestInit_ex(context, EVP_md5(), nil)
        return Hex.encode(digest)
    }

    package static func hex(_ bytes: [UInt8]) -> String {
        let h = MD5Hasher()
        h.update(bytes)
        return h.finalizeHex()
    }
}
