import ArgumentParser
import MLVEngine
import MLVGit
import MLVHTTP
import MLVKit
import MLVSupport

struct Doctor: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the linked libraries, the cache link types this file system supports, and the workspace root.")

    func run() throws {
        let report = DoctorReport.collect()
        EngineRuntime.pinKernels()  // show the kernels the engine runs
        print("mlv        \(MLV.version)")
        print("libgit2    \(GitLibrary.version)")
        print("libcrypto  \(CryptoLibrary.version)")
        print("libcurl    \(HTTPLibrary.version)")
        print("OpenBLAS   \(EngineLibraries.blasConfig) (kernels: \(EngineLibraries.blasCore), threads: \(EngineLibraries.blasThreads))")
        print("libpng     \(EngineLibraries.pngVersion)")
        print("SQLite     \(SQLiteDatabase.libraryVersion)")
        print("workspace  \(report.workspaceRoot ?? "none (run `mlv init` in a git repository)")")
        print("git repo   \(report.gitRoot ?? "none")")
        let yn = { (b: Bool) in b ? "yes" : "no" }
        print("links      reflink: \(yn(report.reflink))  hardlink: \(yn(report.hardlink))  symlink: \(yn(report.symlink))  (probed in \(report.probeDirectory))")
    }
}
