import MLVGit
import MLVSupport
import MLVTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite struct RepositoryTests {
    @Test func discoverFindsTheRepositoryFromASubdirectory() throws {
        try withTemporaryDirectory { dir in
            _ = try makeRepository(in: dir)
            try FS.makeDirectories(dir.url("data/raw"))
            let repo = try #require(try GitRepository.discover(from: dir.url("data/raw")))
            #expect(repo.workdir == FS.realPath(dir.path))
            #expect(!repo.workdir.hasSuffix("/"))
        }
    }

    @Test func discoverReturnsNilOutsideARepository() throws {
        try withTemporaryDirectory { dir in
            try FS.makeDirectories(dir.url("plain"))
            #expect(try GitRepository.discover(from: dir.url("plain")) == nil)
        }
    }

    @Test func initializeCreatesARepositoryGitRecognises() throws {
        try withTemporaryDirectory { dir in
            let repo = try GitRepository.initialize(at: dir.url("project"))
            #expect(repo.workdir == FS.realPath(dir.url("project")))
            let top = try git("rev-parse", "--show-toplevel", in: dir.url("project"))
            #expect(top == repo.workdir + "\n")
            #expect(try repo.allCommits().isEmpty)
            #expect(try repo.hasStagedChanges() == false)
        }
    }

    @Test func identityComesFromTheRepositoryConfig() throws {
        try withTemporaryDirectory { dir in
            let repo = try makeRepository(in: dir)
            let identity = try repo.identity()
            #expect(identity.name == "Ada Lovelace")
            #expect(identity.email == "ada@example.com")
        }
    }

    @Test func isIgnoredFollowsGitignore() throws {
        try withTemporaryDirectory { dir in
            let repo = try makeRepository(in: dir)
            try dir.gen([".gitignore": "*.bin\n!keep.bin\n/data/\n", "models/.gitignore": "/weights\n"])
            #expect(try repo.isIgnored("model.bin"))
            #expect(try repo.isIgnored("sub/model.bin"))
            #expect(try repo.isIgnored("keep.bin") == false)
            #expect(try repo.isIgnored("data/"))
            #expect(try repo.isIgnored("data/train.csv"))
            #expect(try repo.isIgnored("src/data/train.csv") == false)
            #expect(try repo.isIgnored("models/weights"))
            #expect(try repo.isIgnored("weights") == false)
            #expect(try repo.isIgnored(dir.url("model.bin")))
            #expect(try repo.isIgnored("README.md") == false)
        }
    }

    @Test(.enabled(if: getuid() == 0, "needs root to hand the repository to another user"))
    func aRepositoryOwnedByAnotherUserNamesSafeDirectory() throws {
        try withTemporaryDirectory { dir in
            try git("init", "-q", in: dir.path)
            let root = try #require(FS.realPath(dir.path))
            #expect(chown(root, 65534, 65534) == 0)
            #expect(chown(root + "/.git", 65534, 65534) == 0)
            #expect(throws: GitError(
                "the repository at '\(root)' is owned by another user",
                hint: "if you trust it, run: git config --global --add safe.directory '\(root)'",
                call: "git_repository_open")) { try GitRepository.discover(from: root) }
        }
    }

    @Test func pathsOutsideTheRepositoryAreRejected() throws {
        try withTemporaryDirectory { dir in
            let repo = try makeRepository(in: dir)
            #expect(throws: GitError("'../x' is outside the repository at '\(repo.workdir)'")) {
                try repo.isIgnored("../x")
            }
        }
    }
}

/// Changes libgit2's process-wide config search paths, so these tests run one at a time; every
/// other test gives its repository a local identity and does not depend on the global config.
@Suite(.serialized) struct IdentityIsolationTests {
    /// Points the global, XDG and system config levels at an empty directory for `body`.
    func withoutUserConfig(_ body: (TemporaryDirectory) throws -> Void) throws {
        try withTemporaryDirectory { empty in
            let saved = try GitLibrary.ConfigLevel.allCases.map { ($0, try GitLibrary.configSearchPath($0)) }
            defer { for (level, path) in saved { try? GitLibrary.setConfigSearchPath(level, to: path) } }
            for level in GitLibrary.ConfigLevel.allCases {
                try GitLibrary.setConfigSearchPath(level, to: empty.path)
                #expect(try GitLibrary.configSearchPath(level) == empty.path)
            }
            try withTemporaryDirectory(body)
        }
    }

    @Test func missingIdentityNamesTheCommandsToRun() throws {
        try withoutUserConfig { dir in
            let repo = try makeRepository(in: dir, identity: false)
            let expected = GitError(
                "git identity is not configured: user.name and user.email are not set",
                hint: """
                    mlv commits as your git identity; set it with
                      git config --global user.name "Your Name"
                      git config --global user.email "you@example.com"
                    (or without --global, in this repository only)
                    """)
            #expect(throws: expected) { try repo.identity() }
            #expect(throws: expected) { try repo.commit(message: "no identity") }
        }
    }

    @Test func missingEmailAloneIsNamed() throws {
        try withoutUserConfig { dir in
            let repo = try makeRepository(in: dir, identity: false)
            try git("config", "user.name", "Ada Lovelace", in: dir.path)
            let reopened = try GitRepository.open(dir.path)
            #expect(throws: GitError(
                "git identity is not configured: user.email is not set",
                hint: """
                    mlv commits as your git identity; set it with
                      git config --global user.email "you@example.com"
                    (or without --global, in this repository only)
                    """)) { try reopened.identity() }
            _ = repo
        }
    }

    @Test func globalConfigIsReadFromTheSearchPath() throws {
        try withoutUserConfig { dir in
            try dir.gen([".gitconfig": "[user]\n\tname = Grace Hopper\n\temail = grace@example.com\n"])
            try GitLibrary.setConfigSearchPath(.global, to: dir.path)
            try FS.makeDirectories(dir.url("work"))
            try git("init", "-q", in: dir.url("work"))
            let repo = try GitRepository.open(dir.url("work"))
            let identity = try repo.identity()
            #expect(identity.name == "Grace Hopper")
            #expect(identity.email == "grace@example.com")
        }
    }
}
