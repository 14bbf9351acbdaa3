import MLVGit
import MLVSupport
import MLVTestSupport

/// Runs the real `/usr/bin/git` to set up and check repositories (the product itself never does).
@discardableResult
func git(_ args: String..., in dir: String) throws -> String {
    let env = [
        "GIT_AUTHOR_NAME": "Setup", "GIT_AUTHOR_EMAIL": "setup@example.com",
        "GIT_COMMITTER_NAME": "Setup", "GIT_COMMITTER_EMAIL": "setup@example.com",
    ]
    let result = try runProcess("/usr/bin/git", args, cwd: dir, env: env)
    guard result.status == 0 else {
        throw MessageError("git \(args.joined(separator: " ")) failed\n\(result)")
    }
    return result.stdout
}

/// A fresh repository on branch `main` with a local identity ("Ada Lovelace"), opened with libgit2.
func makeRepository(in dir: TemporaryDirectory, identity: Bool = true) throws -> GitRepository {
    try git("init", "-q", "-b", "main", in: dir.path)
    if identity {
        try git("config", "user.name", "Ada Lovelace", in: dir.path)
        try git("config", "user.email", "ada@example.com", in: dir.path)
    }
    return try GitRepository.open(dir.path)
}

/// Writes `files`, stages them with `git add -A` and commits with the real git.
func gitCommit(_ files: [String: String], message: String, in dir: TemporaryDirectory) throws {
    try dir.gen(files)
    try git("add", "-A", in: dir.path)
    try git("commit", "-q", "-m", message, in: dir.path)
}

func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }
