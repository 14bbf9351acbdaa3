import MLVSupport
#if canImport(Glibc)
import Glibc
#endif

/// `mlv install`: git hooks that keep data in step with git, as DVC's do. `post-checkout` runs
/// `mlv checkout` after a branch switch, `pre-commit` warns (without stopping the commit) when
/// tracked data or stages changed since they were recorded, `pre-push` runs `mlv push` (a failed
/// push stops git's). A hook already there is kept and chained: it is renamed `NAME.pre-mlv`
/// and run first, with the same arguments; `--uninstall` puts it back and removes only mlv's.
package struct GitHooks {
    package let ws: Workspace
    package init(_ ws: Workspace) { self.ws = ws }

    static let marker = "# installed by `mlv install` (mlv's hook; `mlv install --uninstall` removes it)"
    static let chainedSuffix = ".pre-mlv"

    /// What each hook runs, in the workspace's folder.
    static let bodies: [(name: String, body: String)] = [
        ("post-checkout", """
            # $3 is 1 for a branch checkout (0 for a file checkout: nothing to do).
            [ "$3" = "1" ] || exit 0
            mlv checkout || echo "mlv: the data was not checked out; run \\`mlv checkout\\` (with --force to drop changes)" >&2
            exit 0
            """),
        ("pre-commit", """
            if ! mlv status --check >/dev/null 2>&1; then
                echo "mlv: warning: tracked data or pipeline stages changed since they were recorded:" >&2
                mlv status >&2
            fi
            exit 0
            """),
        ("pre-push", """
            exec mlv push
            """),
    ]

    package struct Change: Sendable, Equatable {
        package var hook: String
        /// A hook that was there before, now chained (install) or put back (uninstall).
        package var chained: Bool
    }

    /// Writes the hooks; one already installed is rewritten, one of someone else's chained.
    /// Every existing hook is checked before any is written.
    package func install() throws -> [Change] {
        let dir = try hooksDirectory()
        var plans: [Change] = []
        for (name, _) in Self.bodies {
            let path = Path.join(dir, name)
            guard let st = try FS.status(path) else { plans.append(Change(hook: name, chained: false)); continue }
            if try isOurs(path) { plans.append(Change(hook: name, chained: FS.exists(path + Self.chainedSuffix))); continue }
            guard st.kind == .file, let head = try? UntrustedFile.bytes(path, shownAs: name, limit: 1 << 20, followSymlinks: false),
                  head.starts(with: Array("#!".utf8)) else {
                throw MessageError("'\(shown(path))' is a hook mlv cannot chain (not a script starting with #!)",
                                   hint: "move it away (and call it from your own script), or add `mlv` to it by hand, then run `mlv install` again")
            }
            if FS.exists(path + Self.chainedSuffix) {
                throw MessageError("'\(shown(path))\(Self.chainedSuffix)' already exists", hint: "a hook chained before is still there: look at both, keep one, then run `mlv install` again")
            }
            plans.append(Change(hook: name, chained: true))
        }
        try FS.makeDirectories(dir)
        let folder = try ws.git().flatMap { Path.relative(ws.root, to: $0.workdir) } ?? "."
        for (plan, (name, body)) in zip(plans, Self.bodies) {
            let path = Path.join(dir, name)
            if plan.chained, !(try isOurs(path)) { try FS.rename(path, path + Self.chainedSuffix) }
            let cd = folder == "." ? "" : "cd \(shellQuoted(folder)) || exit 0\n"
            let text = """
                #!/bin/sh
                \(Self.marker)
                if [ -x "$0\(Self.chainedSuffix)" ]; then "$0\(Self.chainedSuffix)" "$@" || exit $?; fi
                cd "$(git rev-parse --show-toplevel)" || exit 0
                \(cd)\(body)

                """
            try AtomicFile.write(text, to: path, mode: 0o755)
        }
        return plans
    }

    /// Removes mlv's hooks and puts chained ones back; hooks that are not mlv's stay.
    package func uninstall() throws -> [Change] {
        let dir = try hooksDirectory()
        var done: [Change] = []
        for (name, _) in Self.bodies {
            let path = Path.join(dir, name)
            guard (try FS.status(path)) != nil, try isOurs(path) else { continue }
            try FS.remove(path)
            let chained = (try FS.status(path + Self.chainedSuffix)) != nil
            if chained { try FS.rename(path + Self.chainedSuffix, path) }
            done.append(Change(hook: name, chained: chained))
        }
        return done
    }

    private func hooksDirectory() throws -> String {
        guard let git = try ws.git() else {
            throw MessageError("mlv install writes git hooks, and this workspace is not in a git repository", hint: "run `git init` first")
        }
        return try git.hooksDirectory()
    }

    private func isOurs(_ path: String) throws -> Bool {
        guard let bytes = try? UntrustedFile.bytes(path, shownAs: Path.base(path), limit: 1 << 20, followSymlinks: false) else { return false }
        return String(decoding: bytes, as: UTF8.self).contains(Self.marker)
    }

    private func shown(_ path: String) -> String { Path.relative(path, to: ws.root) ?? path }

    private func shellQuoted(_ s: String) -> String { "'" + s.split(separator: "'", omittingEmptySubsequences: false).joined(separator: "'\\''") + "'" }
}
