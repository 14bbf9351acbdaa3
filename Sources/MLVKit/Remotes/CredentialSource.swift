import MLVHTTP
import MLVSupport

/// Finds a remote's AWS credentials, in this order: the environment (AWS_ACCESS_KEY_ID,
/// AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN); `.mlv/config.local.yaml` (`remote.NAME.access_key_id`…,
/// written by `mlv remote modify --local`); then the profile (`remote.NAME.profile`, else
/// AWS_PROFILE, else "default") in `~/.aws/credentials` and `~/.aws/config`.
enum CredentialSource {
    static func resolve(remote: RemoteSettings, localConfig: WorkspaceConfig,
                        environment: (String) -> String? = Environment.get) throws -> AWSCredentials {
        if let id = environment("AWS_ACCESS_KEY_ID"), let secret = environment("AWS_SECRET_ACCESS_KEY"), !id.isEmpty, !secret.isEmpty {
            return AWSCredentials(accessKeyID: id, secretAccessKey: secret, sessionToken: environment("AWS_SESSION_TOKEN").flatMap { $0.isEmpty ? nil : $0 })
        }
        let local = { (o: String) in localConfig.values["remote.\(remote.name).\(o)"] }
        if let id = local("access_key_id"), let secret = local("secret_access_key") {
            return AWSCredentials(accessKeyID: id, secretAccessKey: secret, sessionToken: local("session_token"))
        }
        let profile = remote.profile ?? environment("AWS_PROFILE") ?? "default"
        let home = environment("HOME") ?? ""
        let credentialsFile = environment("AWS_SHARED_CREDENTIALS_FILE") ?? Path.join(home, ".aws/credentials")
        let configFile = environment("AWS_CONFIG_FILE") ?? Path.join(home, ".aws/config")
        // ~/.aws/credentials names sections "[name]"; ~/.aws/config names them "[profile name]" (but "[default]").
        for (file, section) in [(credentialsFile, profile), (configFile, profile == "default" ? "default" : "profile \(profile)")] {
            guard FS.exists(file), let text = try? FS.readText(file) else { continue }
            let values = INIFile.section(section, in: text)
            if let id = values["aws_access_key_id"], let secret = values["aws_secret_access_key"] {
                return AWSCredentials(accessKeyID: id, secretAccessKey: secret, sessionToken: values["aws_session_token"])
            }
        }
        throw RemoteError.noCredentials(remote: remote.name, profile: profile)
    }
}

/// The `key = value` lines of one `[section]` of an AWS-style INI file (comments with # or ;).
enum INIFile {
    static func section(_ name: String, in text: String) -> [String: String] {
        var current: String?
        var out: [String: String] = [:]
        for raw in text.split(whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" }) {
            let line = raw.trimmingCharacters(in: " \t")
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("[") && line.hasSuffix("]") {
                current = Substring(line.dropFirst().dropLast()).trimmingCharacters(in: " \t")
                continue
            }
            guard current == name, let eq = line.firstIndex(of: "=") else { continue }
            let key = line[..<eq].trimmingCharacters(in: " \t").lowercased()
            out[key] = line[line.index(after: eq)...].trimmingCharacters(in: " \t")
        }
        return out
    }
}
