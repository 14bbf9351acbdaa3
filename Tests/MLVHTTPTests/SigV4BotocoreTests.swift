import Foundation
import MLVHTTP
import MLVSupport
import MLVTestSupport
import Testing

/// Differential test: 400 random S3 requests (odd keys, unicode, spaces, query strings, tokens,
/// bodies) signed by botocore's S3SigV4Auth at a fixed time (scripts/sigv4-botocore.py, run
/// with the repository's .venv, where botocore is installed if missing) and by mlv's signer.
@Suite struct SigV4BotocoreTests {
    static func botocoreCases(count: Int, seed: Int) throws -> [[String: Any]] {
        let root = S3TestServer.repositoryRoot
        let python = root + "/.venv/bin/python"
        let hasBotocore = try FS.exists(python) && runProcess(python, ["-c", "import botocore"], cwd: root).status == 0
        if !hasBotocore {
            if !FS.exists(python) { _ = try runProcess("/usr/bin/env", ["python3", "-m", "venv", root + "/.venv"], cwd: root) }
            let r = try runProcess(root + "/.venv/bin/pip", ["install", "-q", "botocore"], cwd: root)
            guard r.status == 0 else { throw MessageError("cannot install botocore: \(r.stderr)") }
        }
        let r = try runProcess(python, [root + "/scripts/sigv4-botocore.py", String(count), String(seed)], cwd: root)
        guard r.status == 0 else { throw MessageError("sigv4-botocore.py failed: \(r.stderr)") }
        return try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [[String: Any]]
    }

    @Test func matchesBotocoreOnRandomRequests() throws {
        let cases = try Self.botocoreCases(count: 400, seed: 20261127)
        #expect(cases.count == 400)
        var mismatches = 0
        for c in cases {
            let pairs = { (key: String) in (c[key] as! [[String]]).map { (name: $0[0], value: $0[1]) } }
            let credentials = AWSCredentials(accessKeyID: c["access_key"] as! String, secretAccessKey: c["secret_key"] as! String,
                                             sessionToken: c["token"] as? String)
            let signer = SigV4Signer(credentials: credentials, region: c["region"] as! String)
            let request = SigV4Signer.Request(method: c["method"] as! String, path: c["path"] as! String, query: pairs("query"), headers: pairs("headers"))
            let signed = signer.signedHeaders(request, payloadHash: c["payload_hash"] as! String,
                                              date: SigningTime(secondsSince1970: c["timestamp"] as! Double))
            let ours = signed.first { $0.name == "Authorization" }?.value
            if ours != c["authorization"] as? String {
                mismatches += 1
                if mismatches <= 3 {
                    Issue.record("differs from botocore for \(c["method"]!) \(c["path"]!) \(c["query"]!):\n ours: \(ours ?? "-")\n boto: \(c["authorization"]!)")
                }
            }
        }
        #expect(mismatches == 0)
    }
}
