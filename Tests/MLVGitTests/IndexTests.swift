import MLVGit
import MLVSupport
import MLVTestSupport
import Testing

@Suite struct IndexTests {
    @Test func firstCommitOnAnUnbornHeadThenASecondOne() throws {
        try withTemporaryDirectory { dir in
            let repo = try makeRepository(in: dir)
            #expect(try repo.hasStagedChanges() == false)

            try dir.gen(["data.mlv": "md5: 1\n", "nested/dir/notes.txt": "first\n"])
            try repo.stage(["data.mlv", "nested/dir/notes.txt"])
            #expect(try repo.hasStagedChanges())
            let first = try repo.commit(message: "Track data")
            #expect(first.count == 40)
            #expect(try git("rev-parse", "HEAD", in: dir.path) == first + "\n")
            #expect(try git("rev-parse", "--abbrev-ref", "HEAD", in: dir.path) == "main\n")
            #expect(try repo.hasStagedChanges() == false)

            try dir.gen(["data.mlv": "md5: 2\n"])
            #expect(try repo.hasStagedChanges() == false, "an unstaged edit is not a staged change")
            try repo.stage(["data.mlv"])
            #expect(try repo.hasStagedChanges())
            let second = try repo.commit(message: "Update data\n\nwith a body")
            #expect(second != first)

            #expect(try git("log", "--format=%s", in: dir.path) == "Update data\nTrack data\n")
            #expect(try git("log", "-1", "--format=%B", in: dir.path) == "Update data\n\nwith a body\n\n")
            #expect(try git("log", "-1", "--format=%an <%ae>|%cn <%ce>", in: dir.path)
                == "Ada Lovelace <ada@example.com>|Ada Lovelace <ada@example.com>\n")
            #expect(try git("rev-parse", "HEAD~1", in: dir.path) == first + "\n")
            #expect(try git("show", "HEAD:data.mlv", in: dir.path) == "md5: 2\n")
            #expect(try git("show", "HEAD~1:data.mlv", in: dir.path) == "md5: 1\n")
            #expect(try git("show", "HEAD:nested/dir/notes.txt", in: dir.path) == "first\n")
            #expect(try git("status", "--porcelain", in: dir.path) == "", "the written index matches the work tree")
        }
    }

    @Test func stagingADeletedFileRemovesItFromTheIndex() throws {
        try withTemporaryDirectory { dir in
            let repo = try makeRepository(in: dir)
            try gitCommit(["keep.txt": "k\n", "gone.mlv": "g\n", "old/a.txt": "a\n", "old/b.txt": "b\n"],
                          message: "setup", in: dir)
            try FS.remove(dir.url("gone.mlv"))
            try FS.removeTree(dir.url("old"))
            try repo.stage(["gone.mlv", "old", "never-existed.txt"])
            #expect(try repo.hasStagedChanges())
            try repo.commit(message: "Remove")
            #expect(try git("ls-tree", "-r", "--name-only", "HEAD", in: dir.path) == "keep.txt\n")
            #expect(try git("status", "--porcelain", in: dir.path) == "")
        }
    }

    @Test func stagingADirectoryAddsItsFilesButNotIgnoredOnes() throws {
        try withTemporaryDirectory { dir in
            let repo = try makeRepository(in: dir)
            try dir.gen([".gitignore": "*.tmp\n", "models/a.mlv": "a\n", "models/deep/b.mlv": "b\n",
                         "models/scratch.tmp": "t\n", "other.txt": "o\n"])
            try repo.stage(["models/", ".gitignore"])
            try repo.commit(message: "Models")
            #expect(try git("ls-tree", "-r", "--name-only", "HEAD", in: dir.path)
                == ".gitignore\nmodels/a.mlv\nmodels/deep/b.mlv\n")
        }
    }

    @Test func stagingAnIgnoredFileByNameAddsIt() throws {
        try withTemporaryDirectory { dir in
            let repo = try makeRepository(in: dir)
            try dir.gen([".gitignore": "*.lock\n", "pipeline.lock": "v1\n"])
            try repo.stage(["pipeline.lock"])
            try repo.commit(message: "Lock")
            #expect(try git("show", "HEAD:pipeline.lock", in: dir.path) == "v1\n")
        }
    }

    @Test func stagingSeesChangesMadeByGitMeanwhile() throws {
        try withTemporaryDirectory { dir in
            let repo = try makeRepository(in: dir)
            try dir.gen(["a.txt": "a\n", "b.txt": "b\n"])
            try repo.stage(["a.txt"])
            try git("add", "b.txt", in: dir.path)
            try repo.stage(["a.txt"])
            try repo.commit(message: "Both")
            #expect(try git("ls-tree", "-r", "--name-only", "HEAD", in: dir.path) == "a.txt\nb.txt\n")
        }
    }

    @Test func emptyMessageIsRefused() throws {
        try withTemporaryDirectory { dir in
            let repo = try makeRepository(in: dir)
            #expect(throws: GitError("cannot commit with an empty message")) {
                try repo.commit(message: "  \n")
            }
        }
    }
}
