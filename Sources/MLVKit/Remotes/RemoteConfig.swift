import MLVSupport

/// Where a remote keeps its objects: an S3 bucket and key prefix, or a local directory.
package enum RemoteURL: Equatable, Sendable {
    case s3(bucket: String, prefix: String)
    case local(path: String)

    /// `s3://bucket[/prefix]`, or a directory path (absolute, or relative to the workspace root).
    package static func parse(_ text: String, workspaceRoot: String) throws -> RemoteURL {
        if text.hasPrefix("s3://") {
            let rest = text.dropFirst(5)
            let parts = rest.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
            let bucket = String(parts[0])
            guard Self.isValidBucket(bucket) else { throw RemoteError.invalidURL(text, why: "'\(bucket)' is not a valid bucket name") }
            var prefix = parts.count > 1 ? String(parts[1]) : ""
            while prefix.hasSuffix("/") { prefix.removeLast() }
            guard !prefix.split(separator: "/", omittingEmptySubsequences: false).contains(where: { $0 == "." || $0 == ".." || $0.isEmpty }) || prefix.isEmpty
            else { throw RemoteError.invalidURL(text, why: "the prefix has an empty, '.' or '..' part") }
            return .s3(bucket: bucket, prefix: prefix)
        }
        if let colon = text.firstIndex(of: ":"), text[..<colon].allSatisfy({ $0.isLetter }), text[text.index(after: colon)...].hasPrefix("//") {
            throw RemoteError.invalidURL(text, why: "only s3:// URLs and local directories are supported")
        }
        guard !text.isEmpty else { throw RemoteError.invalidURL(text, why: "it is empty") }
        return .local(path: Path.normalize(Path.absolute(text, relativeTo: workspaceRoot)))
    }

    /// 3–63 characters of lowercase letters, digits, dots and hyphens (S3's rule, loosely).
    static func isValidBucket(_ b: String) -> Bool {
        (3...63).contains(b.utf8.count) && b.utf8.allSatisfy { (97...122).contains($0) || (48...57).contains($0) || $0 == 46 || $0 == 45 }
    }
}

/// One remote's settings, from `remote.NAME.*` in the merged config, with the environment
/// (AWS_ENDPOINT_URL, AWS_REGION) filling what the config leaves unset.
package struct RemoteSettings: Equatable, Sendable {
    package var name: String
    package var url: RemoteURL
    package var endpointURL: String?
    package var region: String
    package var profile: String?
    package var addressing: String
    package var jobs: Int
    package var retries: Int
    package var readTimeout: Double
    package var multipartThreshold: Int64
    package var multipartChunk: Int64
    /// Uploads sent with `x-amz-content-sha256: UNSIGNED-PAYLOAD` (the server does not check
    /// their bytes against the signature); off unless the user opts in.
    package var unsignedPayload = false

    /// The option names `mlv remote modify` accepts (secrets only with --local).
    package static let options = ["url", "endpoint_url", "region", "profile", "addressing", "jobs", "retries", "read_timeout",
                                 "multipart_threshold", "multipart_chunk", "unsigned_payload", "access_key_id", "secret_access_key", "session_token"]
    package static let secretOptions: Set<String> = ["access_key_id", "secret_access_key", "session_token"]

    /// Checks one option's value before it is written.
    package static func validate(option: String, value: String) throws {
        let key = "remote.<name>.\(option)"
        switch option {
        case "addressing":
            guard value == "path" || value == "virtual" else { throw WorkspaceError.invalidConfigValue(key: key, value: value, expected: "path or virtual") }
        case "jobs", "retries":
            guard let n = Int(value), n >= (option == "jobs" ? 1 : 0), n <= 1024 else {
                throw WorkspaceError.invalidConfigValue(key: key, value: value, expected: option == "jobs" ? "a whole number from 1 to 1024" : "a whole number from 0 to 1024")
            }
        case "read_timeout":
            guard let s = Double(value), s > 0, s <= 86_400 else { throw WorkspaceError.invalidConfigValue(key: key, value: value, expected: "a number of seconds") }
        case "multipart_threshold", "multipart_chunk":
            guard let n = parseSize(value), n >= 5 << 20, n <= 5 << 30 else {
                throw WorkspaceError.invalidConfigValue(key: key, value: value, expected: "a size from 5MiB to 5GiB (e.g. 64MiB)")
            }
        case "unsigned_payload":
            guard value == "true" || value == "false" else { throw WorkspaceError.invalidConfigValue(key: key, value: value, expected: "true or false") }
        case "endpoint_url":
            guard value.hasPrefix("http://") || value.hasPrefix("https://") else {
                throw WorkspaceError.invalidConfigValue(key: key, value: value, expected: "an http:// or https:// URL")
            }
        default: break
        }
    }

    /// "64MiB", "5 GiB", "1048576".
    /// Settings for a place that is no configured remote (an `import-url` bucket, a source
    /// repository's cache): `url` with every other option as `load` defaults it.
    static func unconfigured(_ name: String, url: String, workspaceRoot: String,
                             environment: (String) -> String? = Environment.get) throws -> RemoteSettings {
        try load(name, config: WorkspaceConfig(values: ["remote.\(name).url": url]), workspaceRoot: workspaceRoot, environment: environment)
    }

    package static func parseSize(_ text: String) -> Int64? {
        let t = text.filter { $0 != " " }
        let units: [(String, Int64)] = [("KiB", 1 << 10), ("MiB", 1 << 20), ("GiB", 1 << 30), ("TiB", 1 << 40),
                                        ("KB", 1000), ("MB", 1_000_000), ("GB", 1_000_000_000), ("TB", 1_000_000_000_000), ("B", 1)]
        for (u, m) in units where t.hasSuffix(u) {
            guard let n = Int64(t.dropLast(u.count)), n >= 0, n <= Int64.max / m else { return nil }
            return n * m
        }
        return Int64(t)
    }

    /// The names of the configured remotes, sorted.
    package static func names(in config: WorkspaceConfig) -> [String] {
        Set(config.values.keys.compactMap { key -> String? in
            let p = key.split(separator: ".")
            return p.count == 3 && p[0] == "remote" && p[2] == "url" ? String(p[1]) : nil
        }).sorted()
    }

    /// The remote `name`, or the default (`core.remote`) when nil.
    package static func load(_ name: String?, config: WorkspaceConfig, workspaceRoot: String,
                            environment: (String) -> String? = Environment.get) throws -> RemoteSettings {
        guard let name = name ?? config.values["core.remote"] else { throw RemoteError.noDefaultRemote(known: names(in: config)) }
        let v = { (option: String) in config.values["remote.\(name).\(option)"] }
        guard let urlText = v("url") else { throw RemoteError.unknownRemote(name, known: names(in: config)) }
        for option in options where option != "url" { if let value = v(option) { try validate(option: option, value: value) } }
        return RemoteSettings(
            name: name,
            url: try RemoteURL.parse(urlText, workspaceRoot: workspaceRoot),
            endpointURL: v("endpoint_url") ?? environment("AWS_ENDPOINT_URL_S3") ?? environment("AWS_ENDPOINT_URL"),
            region: v("region") ?? environment("AWS_REGION") ?? environment("AWS_DEFAULT_REGION") ?? "us-east-1",
            profile: v("profile"),
            addressing: v("addressing") ?? "path",
            jobs: v("jobs").flatMap { Int($0) } ?? Self.defaultJobs,
            retries: v("retries").flatMap { Int($0) } ?? 5,
            readTimeout: v("read_timeout").flatMap { Double($0) } ?? 60,
            multipartThreshold: v("multipart_threshold").flatMap(parseSize) ?? 64 << 20,
            multipartChunk: v("multipart_chunk").flatMap(parseSize) ?? 16 << 20,
            unsignedPayload: v("unsigned_payload") == "true")
    }

    /// 16 × cores: transfers of small objects wait on the network and the server, not our CPU.
    /// Measured against SeaweedFS on 2 cores (5,000 small files, runs alternated): 32 jobs
    /// pulled in 2.7–3.1 s where 8 took 3.6–4.1 s, and pushed in 2.8–2.9 s against 3.0–3.2 s;
    /// the server spent less CPU per request with more of them in flight.
    package static var defaultJobs: Int { 16 * Parallel.defaultWorkers }

    /// Parallel parts or ranges of one large object: at most 4 × cores (the ranges of one
    /// download are hashed in order by one worker; more only wait).
    package static func largeObjectJobs(_ jobs: Int) -> Int { max(1, min(jobs, 4 * Parallel.defaultWorkers)) }
}
