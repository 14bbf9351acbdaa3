import MLVSupport

/// Airflow task ids for stage addresses. Airflow allows `[A-Za-z0-9_.-]`, at most 250
/// characters; a stage address may also hold `@` (`foreach` items), `/` and `:` (stages of
/// pipeline files in folders) and non-ASCII letters. An address that is already a valid id is
/// its own id; any other becomes its characters with `_` for the rest, cut to fit, then `__` and
/// the first 8 hex digits of the address's SHA-256 (more when that still collides):
///
///     train@1                                 train_1__9f7c1d2e
///     pipelines/train/pipeline.yaml:train     pipelines_train_pipeline.yaml_train__41b0a3c5
///
/// The same addresses always give the same ids, and no two addresses (nor an address and a
/// reserved id) share one.
package enum AirflowTaskIDs {
    package static let maxLength = 250

    /// A valid Airflow id (task, DAG, queue or pool name).
    package static func isValid<S: StringProtocol>(_ id: S) -> Bool {
        !id.isEmpty && id.utf8.count <= maxLength && id.utf8.allSatisfy(isAllowed)
    }

    static func isAllowed(_ c: UInt8) -> Bool {
        (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x5F || c == 0x2E || c == 0x2D
    }

    /// One id per address, in the same order. `reserved`: ids taken by other tasks.
    package static func map(_ addresses: [String], reserved: Set<String> = []) -> [String] {
        var taken = reserved
        var ids = [String?](repeating: nil, count: addresses.count)
        // Valid addresses first, so that their ids never depend on the others.
        for (i, a) in addresses.enumerated() where isValid(a) && !taken.contains(a) {
            ids[i] = a
            taken.insert(a)
        }
        for (i, a) in addresses.enumerated() where ids[i] == nil {
            let id = hashed(a, avoiding: taken)
            ids[i] = id
            taken.insert(id)
        }
        return ids.map { $0! }
    }

    /// The address with `_` for characters Airflow refuses (one per UTF-8 byte), cut to fit,
    /// then `__` and 8 hex digits of its SHA-256; 16 or 64 digits, then a number, on a collision.
    static func hashed(_ address: String, avoiding taken: Set<String>) -> String {
        let digest = SHA256Hasher.hex(address)
        let base = String(decoding: address.utf8.map { isAllowed($0) ? $0 : UInt8(ascii: "_") }, as: UTF8.self)
        for digits in [8, 16, 64] {
            let id = String(base.prefix(maxLength - 2 - digits)) + "__" + digest.prefix(digits)
            if !taken.contains(id) { return id }
        }
        // Only ids made to collide get here.
        let full = String(base.prefix(maxLength - 80)) + "__" + digest
        var n = 2
        while taken.contains(full + "_\(n)") { n += 1 }
        return full + "_\(n)"
    }
}
