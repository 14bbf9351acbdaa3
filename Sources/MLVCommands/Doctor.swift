import ArgumentParser
import MLVEngine
import MLVGit
import MLVHTTP
import MLVKit
import MLVSupport

struct Doctor: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Show the linked libraries, the cache link types this file system supports, and the workspace root.")

    func run() throws {
        let report = DoctorReport.collect()
        // Show the kernels the engine runs; a missing OpenBLAS fails the command after the report.
        var blasError: Error?
        do { try EngineRuntime.pinKernels() } catch { blasError = error }
        print("mlv        \(MLV.version)")
        print("libgit2    \(GitLibrary.version)")
        print("libcrypto  \(CryptoLibrary.version)")
        print("libcurl    \(HTTPLibrary.version)")
        if blasError == nil {
            print("OpenBLAS   \(EngineLibraries.blasConfig) (kernels: \(EngineLibraries.blasCore), threads per call: \(EngineLibraries.blasThreads))")
            print("engine     \(EngineLibraries.reproducibility)")
        } else {
            print("OpenBLAS   not loadable")
        }
        print("libpng     \(EngineLibraries.pngVersion)")
        print("SQLite     \(SQLiteDatabase.libraryVersion)")
        print("workspace  \(report.workspaceRoot ?? "none (run `mlv init` in a git repository)")")
        print("git repo   \(report.gitRoot ?? "none")")
        let yn = { (b: Bool) in b ? "yes" : "no" }
        print("links      reflink: \(yn(report.reflink))  hardlink: \(yn(report.hardlink))  symlink: \(yn(report.symlink))  (probed in \(report.probeDirectory))")
        if let blasError { throw blasError }
    }
}
