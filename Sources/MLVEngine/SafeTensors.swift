import Foundation
import MLVSupport

/// The safetensors file format (https://github.com/huggingface/safetensors): an 8-byte
/// little-endian header length, a JSON header naming each tensor's dtype, shape and byte range
/// (`data_offsets`, relative to the end of the header) plus a `__metadata__` map of strings,
/// padded with spaces to a multiple of 8 bytes, then the raw little-endian data.
enum SafeTensors {
    struct Tensor {
        var name: String
        var shape: [Int]
        var values: [Float]
    }

    /// The file's bytes. Header keys come in a fixed order (`__metadata__` first, its keys
    /// sorted, then the tensors in the order given), so equal inputs give equal bytes.
    static func encode(_ tensors: [Tensor], metadata: [String: String]) -> [UInt8] {
        var entries: [(String, String)] = [
            ("__metadata__", JSONText.object(metadata.keys.sorted().map { ($0, JSONText.string(metadata[$0]!)) })),
        ]
        var offset = 0
        for t in tensors {
            let bytes = t.values.count * 4
            entries.append((t.name, JSONText.object([
                ("dtype", JSONText.string("F32")),
                ("shape", JSONText.array(t.shape.map(String.init))),
                ("data_offsets", JSONText.array([String(offset), String(offset + bytes)])),
            ])))
            offset += bytes
        }
        var header = Array(JSONText.object(entries).utf8)
        while header.count % 8 != 0 { header.append(0x20) }
        var out = [UInt8]()
        out.reserveCapacity(8 + header.count + offset)
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(contentsOf: header)
        for t in tensors {
            for v in t.values { withUnsafeBytes(of: v.bitPattern.littleEndian) { out.append(contentsOf: $0) } }
        }
        return out
    }

    /// The tensors (F32 only) and metadata of a safetensors file; `path` names it in errors.
    static func decode(_ bytes: [UInt8], path: String) throws -> (tensors: [String: Tensor], metadata: [String: String]) {
        func bad(_ why: String) -> EngineError {
            EngineError("\(path): not a safetensors checkpoint (\(why))", hint: "pass the model.safetensors written by `mlv train`")
        }
        guard bytes.count >= 8 else { throw bad("file too short") }
        var n: UInt64 = 0
        for i in 0..<8 { n |= UInt64(bytes[i]) << (8 * UInt64(i)) }
        guard n > 0, n <= UInt64(bytes.count - 8), n < 100_000_000 else { throw bad("bad header length") }
        let headerEnd = 8 + Int(n)
        guard let json = try? JSONSerialization.jsonObject(with: Data(bytes[8..<headerEnd])),
              let header = json as? [String: Any] else { throw bad("header is not a JSON object") }
        let metadata = header["__metadata__"] as? [String: String] ?? [:]
        let dataCount = bytes.count - headerEnd
        var tensors: [String: Tensor] = [:]
        for (name, value) in header where name != "__metadata__" {
            guard let info = value as? [String: Any], let dtype = info["dtype"] as? String,
                  let shape = info["shape"] as? [Int], let range = info["data_offsets"] as? [Int],
                  range.count == 2 else { throw bad("malformed entry for \(name)") }
            guard dtype == "F32" else { throw bad("\(name) has dtype \(dtype), expected F32") }
            // Every number came from the file: no product or difference before it is checked.
            guard shape.count <= 8, shape.allSatisfy({ $0 >= 0 }) else {
                throw bad("\(name) has an invalid shape \(shape)")
            }
            var count = 1
            for d in shape {
                let (p, overflow) = count.multipliedReportingOverflow(by: d)
                guard !overflow, p <= dataCount / 4 else { throw bad("\(name) has a shape \(shape) larger than the file") }
                count = p
            }
            guard range[0] >= 0, range[1] >= range[0], range[1] <= dataCount, range[1] - range[0] == count * 4 else {
                throw bad("\(name) has a byte range that does not fit its shape")
            }
            var values = [Float](repeating: 0, count: count)
            for i in 0..<count {
                let b = headerEnd + range[0] + 4 * i
                let bits = UInt32(bytes[b]) | UInt32(bytes[b + 1]) << 8 | UInt32(bytes[b + 2]) << 16 | UInt32(bytes[b + 3]) << 24
                values[i] = Float(bitPattern: bits)
            }
            tensors[name] = Tensor(name: name, shape: shape, values: values)
        }
        return (tensors, metadata)
    }
}
