import ArgumentParser
import Foundation
import MLVKit

/// `mlv status -c`: per tracked path, what the remote lacks and what the cache lacks.
enum CloudStatusView {
    static func show(_ ws: Workspace, paths: [String], remote: String?, json: Bool, check: Bool, verify: Bool) throws {
        let (name, statuses, fromIndex) = try ws.cloudStatus(OutputSelection(paths), remote: remote, jobs: nil, verify: verify)
        let differing = statuses.filter { !$0.isInSync }
        if json {
            var obj: [String: Any] = [:]
            for s in differing {
                obj[s.target] = ["not_on_remote": s.notOnRemote, "not_in_cache": s.notInCache, "missing": s.missingEverywhere]
            }
            try Console.json(obj)
        } else if differing.isEmpty {
            let note = fromIndex > 0 ? " (\(Format.plural(fromIndex, "object")) known from its index; --verify asks the remote)" : ""
            print("Cache and remote '\(name)' are in sync\(note).")
        } else {
            for s in differing {
                var parts: [String] = []
                if s.notOnRemote > 0 { parts.append("\(Format.plural(s.notOnRemote, "object")) not on the remote (push)") }
                if s.notInCache > 0 { parts.append("\(Format.plural(s.notInCache, "object")) not in the cache (fetch)") }
                if s.missingEverywhere > 0 { parts.append("\(Format.plural(s.missingEverywhere, "object")) in neither") }
                print("\(s.target): \(parts.joined(separator: ", "))")
            }
        }
        if check && !differing.isEmpty { throw ExitCode(1) }
    }
}
