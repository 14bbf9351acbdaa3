import MLVHTTP
import MLVSupport

/// What can go wrong talking to a remote, written for the user. Never holds a secret: S3
/// errors carry the server's code and the object's key, transport errors curl's reason.
package enum RemoteError: UserFacingError, Equatable {
    case noDefaultRemote(known: [String])
    case unknownRemote(String, known: [String])
    case remoteExists(String)
    case invalidURL(String, why: String)
    case secretNotLocal(option: String)
    case noCredentials(remote: String, profile: String)
    case signatureRejected(remote: String)
    case unknownAccessKey(remote: String)
    case accessDenied(remote: String, key: String?)
    case noSuchBucket(remote: String, bucket: String)
    case unreachable(remote: String, endpoint: String, reason: String, attempts: Int)
    case requestFailed(remote: String, object: String, code: String, status: Int, attempts: Int)
    case largerThanRecorded(remote: String, object: String, size: Int64, recorded: Int64)
    case notAFolder(remote: String, path: String)
    case abortRefused(remote: String, count: Int, key: String, reason: String, removed: Int)
    case notARegularFile(remote: String, path: String, kind: String)
    case localRemoteMissing(remote: String, path: String)
    case corruptedDownloads(remote: String, objects: [String])
    case missingOnRemote(remote: String, objects: [String])
    case missingFromCache(objects: [String])
    case invalidManifest(remote: String, object: String, reason: String)
    case gcNeedsManifests(paths: [String])

    package var message: String {
        switch self {
        case .noDefaultRemote: return "no remote given and no default remote is set"
        case .unknownRemote(let n, _): return "no remote named '\(n)'"
        case .remoteExists(let n): return "a remote named '\(n)' already exists"
        case .invalidURL(let u, let why): return "invalid remote URL '\(u)': \(why)"
        case .secretNotLocal(let o): return "'\(o)' is a secret and may only be stored with --local (in the git-ignored .mlv/config.local.yaml)"
        case .noCredentials(let r, let p): return "no AWS credentials for remote '\(r)' (looked in the environment, .mlv/config.local.yaml and profile '\(p)')"
        case .signatureRejected(let r): return "remote '\(r)' rejected the request signature (SignatureDoesNotMatch): the secret access key is wrong"
        case .unknownAccessKey(let r): return "remote '\(r)' does not know the access key id (InvalidAccessKeyId)"
        case .accessDenied(let r, let k): return "remote '\(r)' denied access\(k.map { " to '\($0)'" } ?? "") (AccessDenied)"
        case .noSuchBucket(let r, let b): return "remote '\(r)': bucket '\(b)' does not exist (NoSuchBucket)"
        case .unreachable(let r, let e, let why, let n): return "cannot reach remote '\(r)' at \(e) after \(Self.attempts(n)): \(why)"
        case .abortRefused(let r, let n, let k, let why, let removed):
            return "remote '\(r)': \(n) unfinished upload\(n == 1 ? "" : "s") could not be aborted ('\(k)': \(why)); the \(removed) unreferenced object\(removed == 1 ? " was" : "s were") removed"
        case .notAFolder(let r, let p): return "remote '\(r)': '\(p)' is a symbolic link or a file, not a folder; nothing was read or written through it"
        case .notARegularFile(let r, let p, let k): return "remote '\(r)': '\(p)' is \(k), not a regular file"
        case .largerThanRecorded(let r, let o, let s, let n):
            return "remote '\(r)': object '\(o)' is \(s) bytes there, but \(n) were recorded for it; nothing past that was written"
        case .requestFailed(let r, let o, let c, _, _) where Self.badAnswerCodes.contains(c):
            return "remote '\(r)' answered badly for '\(o)' (\(c)): the server does not follow the S3 protocol"
        case .requestFailed(let r, let o, let c, let s, let n): return "remote '\(r)': '\(o)' failed with \(c) (HTTP \(s)) after \(Self.attempts(n))"
        case .localRemoteMissing(let r, let p): return "remote '\(r)': directory '\(p)' does not exist"
        case .corruptedDownloads(let r, let os): return os.count == 1
            ? "an object from remote '\(r)' did not match its hash and was discarded: \(WorkspaceError.list(os))"
            : "\(os.count) objects from remote '\(r)' did not match their hashes and were discarded: \(WorkspaceError.list(os))"
        case .missingOnRemote(let r, let os): return "\(os.count) object\(os.count == 1 ? " is" : "s are") missing on remote '\(r)': \(WorkspaceError.list(os))"
        case .missingFromCache(let os): return "\(os.count) object\(os.count == 1 ? " is" : "s are") not in the cache and could not be pushed: \(WorkspaceError.list(os))"
        case .invalidManifest(let r, let o, let why): return "directory manifest '\(o)' from remote '\(r)' was refused: \(why)"
        case .gcNeedsManifests(let ps): return "gc --cloud must know which files these directories hold, and their manifests are not in the cache: \(WorkspaceError.list(ps))"
        }
    }

    package var hint: String? {
        switch self {
        case .noDefaultRemote(let known):
            return known.isEmpty ? "add one with `mlv remote add -d NAME s3://bucket/prefix`" : "pass -r with one of: \(known.joined(separator: ", ")), or set one with `mlv remote default NAME`"
        case .unknownRemote(_, let known):
            return known.isEmpty ? "add one with `mlv remote add NAME URL`" : "known remotes: \(known.joined(separator: ", "))"
        case .remoteExists(let n): return "change it with `mlv remote modify \(n) url URL`, or remove it first"
        case .invalidURL: return "use s3://bucket/prefix or a directory path"
        case .secretNotLocal(let o): return "run `mlv remote modify --local NAME \(o) VALUE`, or use the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)"
        case .noCredentials:
            return "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE with ~/.aws/credentials, or `mlv remote modify --local NAME access_key_id …`"
        case .signatureRejected, .unknownAccessKey:
            return "check AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, the profile, or .mlv/config.local.yaml"
        case .accessDenied: return "check that these credentials may read and write the bucket"
        case .noSuchBucket(_, let b): return "create the bucket '\(b)' first, or fix the remote's URL"
        case .unreachable: return "check the remote's endpoint_url and your network; nothing was lost, run the command again"
        case .abortRefused:
            return "aborting needs s3:AbortMultipartUpload: run gc --cloud again with credentials that have it, or let a lifecycle rule (AbortIncompleteMultipartUpload) clean up"
        case .notAFolder, .notARegularFile:
            return "someone put it into the remote's folder: remove it (the remote's folders hold only folders and objects)"
        case .largerThanRecorded:
            return "the remote's copy is not what the pointer or pipeline.lock records; push it again from a workspace that has it"
        case .requestFailed(_, _, let c, _, _) where Self.badAnswerCodes.contains(c):
            return "check that the remote's URL and endpoint name an S3 server (`mlv remote list`); running it again will not help"
        case .requestFailed: return "run the command again: what arrived is kept and only the rest is sent"
        case .localRemoteMissing: return "create the directory, or fix the remote's URL with `mlv remote modify NAME url PATH`"
        case .corruptedDownloads: return "the remote's copies are damaged; push them again from a workspace that has them"
        case .missingOnRemote: return "push them from a workspace that has them (`mlv push`)"
        case .missingFromCache: return "fetch them first, or re-create the data and run `mlv commit`"
        case .invalidManifest: return "the remote holds a manifest that mlv would not have written; nothing was checked out"
        case .gcNeedsManifests: return "run `mlv fetch` first, with the same --rev or --all-commits (nothing was removed)"
        }
    }

    static func attempts(_ n: Int) -> String { n == 1 ? "1 attempt" : "\(n) attempts" }

    /// Codes mlv gives an answer that breaks the protocol (not XML, the wrong document, a range
    /// or listing that cannot be right): a fault of the server, which retrying does not mend.
    static let badAnswerCodes: Set<String> = ["MalformedResponse", "MalformedListing", "EndlessListing"]
}
