import Foundation
import MLVGit
import MLVSupport
import MLVTestSupport
import Testing

@Suite struct RevisionTests {
    @Test func readFileAtAnEarlierRevision() throws {
        try withTemporaryDirectory { dir in
            let repo = try makeRepository(in: dir)
            try gitCommit(["data.mlv": "md5: old\n", "d/e/params.yaml": "lr: 0.1\n"], message: "one", in: dir)
            let first = try git("rev-parse", "HEAD", in: dir.path).trimmingCharacters(in: .newlines)
            try git("tag", "v1", in: dir.path)
            try git("tag", "-a", "v1-annotated", "-m", "release", in: dir.path)
            try gitCommit(["data.mlv": "md5: new\n"], message: "two", in: dir)

            #expect(try repo.readFile("data.mlv", at: "HEAD") == bytes("md5: new\n"))
            #expect(try repo.readFile("data.mlv", at: "HEAD~1") == bytes("md5: old\n"))
            #expect(try repo.readFile("data.mlv", at: "main") == bytes("md5: new\n"))
            #expect(try repo.readFile("data.mlv", at: "v1") == bytes("md5: old\n"))
            #expect(try repo.readFile("data.mlv", at: "v1-annotated") == bytes("md5: old\n"))
            #expect(try repo.readFile("data.mlv", at: String(first.prefix(7))) == bytes("md5: old\n"))
            #expect(try repo.readFile("d/e/params.yaml", at: first) == bytes("lr: 0.1\n"))
            #expect(try repo.readFile("./d/e/params.yaml", at: "HEAD") == bytes("lr: 0.1\n"))
            #expect(try repo.readFile("missing.mlv", at: "HEAD") == nil)
            #expect(try repo.readFile("d/e", at: "HEAD") == nil, "a directory is not a file")
            #expect(try repo.readFile("data.mlv/x", at: "HEAD") == nil)
        }
    }

    @Test func readFileKeepsBinaryBytes() throws {
        try withTemporaryDirectory { dir in
            let repo = try makeRepository(in: dir)
            let payload: [UInt8] = [0, 255, 10, 13, 0, 128, 7]
            try AtomicFile.write(payload, to: dir.url("blob.bin"))
            try dir.gen(["empty.txt": ""])
            try repo.stage(["blob.bin", "empty.txt"])
            try repo.commit(message: "binary")
            #expect(try repo.readFile("blob.bin", at: "HEAD") == payload)
            #expect(try repo.readFile("empty.txt", at: "HEAD") == [])
        }
    }

    @Test func unknownRevisionsAreNamed() throws {
        try withTemporaryDirectory { dir in
            let repo = try makeRepository(in: dir)
            #expect(throws: GitError("unknown revision 'HEAD'", hint: "the repository has no commits yet")) {
                try repo.readFile("a", at: "HEAD")
            }
            try gitCommit(["a.txt": "a\n"], message: "one", in: dir)
            #expect(throws: GitError("unknown revision 'nope'")) { try repo.readFile("a.txt", at: "nope") }
            #expect(throws: GitError("unknown revision 'HEAD~5'")) { try repo.resolve("HEAD~5") }
            #expect(throws: GitError("unknown revision 'deadbeef'")) { try repo.listFiles(at: "deadbeef", suffix: ".mlv") }
            #expect(throws: GitError("unknown revision 'a..b..c'")) { try repo.resolve("a..b..c") }
            #expect(throws: GitError("revision 'HEAD:a.txt' is not a commit")) { try repo.resolve("HEAD:a.txt") }
        }
    }

    @Test func resolveGivesFullCommitIds() throws {
        try withTemporaryDirectory { dir in
            let repo = try makeRepository(in: dir)
            try gitCommit(["a.txt": "1\n"], message: "one", in: dir)
            try git("tag", "-a", "v1", "-m", "release", in: dir.path)
            try gitCommit(["a.txt": "2\n"], message: "two", in: dir)
            let head = try git("rev-parse", "HEAD", in: dir.path).trimmingCharacters(in: .newlines)
            let first = try git("rev-parse", "HEAD~1", in: dir.path).trimmingCharacters(in: .newlines)
            #expect(try repo.resolve("HEAD") == head)
            #expect(try repo.resolve("main") == head)
            #expect(try repo.resolve(String(head.prefix(8))) == head)
            #expect(try repo.resolve("HEAD~1") == first)
            #expect(try repo.resolve("v1") == first, "an annotated tag resolves to its commit")
        }
    }

    @Test func listFilesBySuffixInNestedDirectories() throws {
        try withTemporaryDirectory { dir in
            let repo = try makeRepository(in: dir)
            try gitCommit(["a.mlv": "", "data/b.mlv": "", "data/raw/c.mlv": "", "data/raw/c.csv": "",
                           "pipeline.lock": "", "stages/train/pipeline.lock": "", "notes.mlv.txt": ""],
                          message: "one", in: dir)
            try git("rm", "-q", "data/b.mlv", in: dir.path)
            try gitCommit(["z/new.mlv": ""], message: "two", in: dir)

            #expect(try repo.listFiles(at: "HEAD", suffix: ".mlv") == ["a.mlv", "data/raw/c.mlv", "z/new.mlv"])
            #expect(try repo.listFiles(at: "HEAD~1", suffix: ".mlv") == ["a.mlv", "data/b.mlv", "data/raw/c.mlv"])
            #expect(try repo.listFiles(at: "HEAD", suffix: "pipeline.lock") == ["pipeline.lock", "stages/train/pipeline.lock"])
            #expect(try repo.listFiles(at: "HEAD", suffix: ".yaml") == [])
        }
    }

    @Test func allCommitsCoversEveryBranchAndTag() throws {
        try withTemporaryDirectory { dir in
            let repo = try makeRepository(in: dir)
            #expect(try repo.allCommits() == [])
            try gitCommit(["a.txt": "1\n"], message: "base", in: dir)
            try git("checkout", "-q", "-b", "experiment", in: dir.path)
            try gitCommit(["a.txt": "exp\n"], message: "experiment", in: dir)
            try git("checkout", "-q", "main", in: dir.path)
            try gitCommit(["a.txt": "2\n"], message: "main work", in: dir)
            // A commit reachable only from a tag.
            try git("checkout", "-q", "--orphan", "tmp", in: dir.path)
            try gitCommit(["t.txt": "t\n"], message: "tagged only", in: dir)
            try git("tag", "-a", "snapshot", "-m", "snap", in: dir.path)
            try git("checkout", "-q", "main", in: dir.path)
            try git("branch", "-q", "-D", "tmp", in: dir.path)
            // A tag on a blob is not a commit and is skipped.
            let blob = try git("rev-parse", "HEAD:a.txt", in: dir.path).trimmingCharacters(in: .newlines)
            try git("tag", "blob-tag", blob, in: dir.path)

            let expected = try git("rev-list", "--branches", "--tags", in: dir.path).split(separator: "\n").map(String.init)
            let all = try repo.allCommits()
            #expect(all.count == 4)
            #expect(Set(all) == Set(expected))
            #expect(all.count == Set(all).count, "no duplicates")
        }
    }

    @Test func allCommitsIncludesADetachedHead() throws {
        try withTemporaryDirectory { dir in
            let repo = try makeRepository(in: dir)
            try gitCommit(["a.txt": "1\n"], message: "base", in: dir)
            try git("checkout", "-q", "--detach", in: dir.path)
            try gitCommit(["a.txt": "2\n"], message: "detached", in: dir)
            let head = try git("rev-parse", "HEAD", in: dir.path).trimmingCharacters(in: .newlines)
            #expect(try repo.allCommits().first == head)
            #expect(try repo.allCommits().count == 2)
        }
    }
}
