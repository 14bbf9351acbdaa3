import MLVSupport
import MLVTestSupport
import Testing

@Suite struct CLITests {
    @Test func helpListsCommands() throws {
        try withTemporaryDirectory { dir in
            let r = try runMLV(["--help"], cwd: dir.path)
            #expect(r.status == 0, "\(r)")
            #expect(r.stdout.contains("USAGE: mlv <subcommand>"))
            #expect(r.stdout.contains("doctor"))
        }
    }

    @Test func doctorNamesEveryLinkedLibrary() throws {
        try withTemporaryDirectory { dir in
            let r = try runMLV(["doctor"], cwd: dir.path)
            #expect(r.status == 0, "\(r)")
            for lib in ["libgit2    1.", "libcrypto  OpenSSL 3", "libcurl    libcurl/7", "OpenBLAS   OpenBLAS 0.3", "libpng     1.6", "SQLite     3."] {
                #expect(r.stdout.contains(lib), "missing \(lib) in \(r.stdout)")
            }
            #expect(r.stdout.contains("workspace  none"))
            #expect(r.stdout.contains("git repo   none"))
        }
    }

    @Test func commandHelpAndCompletion() throws {
        try withTemporaryDirectory { dir in
            let help = try runMLV(["add", "--help"], cwd: dir.path)
            #expect(help.status == 0)
            #expect(help.stdout.contains("USAGE: mlv add <paths> ... [--message <message>]"))
            let completion = try runMLV(["--generate-completion-script", "bash"], cwd: dir.path)
            #expect(completion.status == 0)
            #expect(completion.stdout.contains("checkout") && completion.stdout.contains("verify"))
        }
    }

    @Test func unknownCommandFails() throws {
        try withTemporaryDirectory { dir in
            let r = try runMLV(["frobnicate"], cwd: dir.path)
            #expect(r.status != 0)
            #expect(r.stderr.contains("frobnicate"))
        }
    }
}

@Suite struct DoctorInWorkspaceTests {
    @Test func doctorShowsRoots() throws {
        let ws = try TestWorkspace()
        try FS.makeDirectories(ws.path("sub"))
        let r = try ws.mlv(["doctor"], cwd: "sub")
        #expect(r.status == 0)
        #expect(r.stdout.contains("workspace  \(ws.root)\n") || r.stdout.contains("workspace  \(FS.realPath(ws.root)!)\n"), "\(r)")
        #expect(r.stdout.contains("git repo   \(FS.realPath(ws.root)!)"), "\(r)")
        #expect(r.stdout.contains("hardlink: yes"))
    }
}
