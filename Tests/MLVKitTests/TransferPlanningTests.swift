@testable import MLVKit
import MLVSupport
import MLVTestSupport
import Testing

/// Push and fetch planned against an in-memory store: what is sent, what is skipped, what a
/// lying store gets refused for. No server, no binary for the transfers themselves.
@Suite struct TransferPlanningTests {
    static let settings = RemoteSettings(name: "mem", url: .local(path: "/nonexistent"), endpointURL: nil, region: "us-east-1", profile: nil,
                                         addressing: "path", jobs: 4, retries: 0, readTimeout: 5,
                                         multipartThreshold: 64 << 20, multipartChunk: 16 << 20)

    /// A workspace with a file and a folder of 5 files added (7 objects with the manifest).
    func workspace() throws -> (TestWorkspace, Workspace) {
        let ws = try TestWorkspace()
        var files = ["model.bin": "weights"]
        for i in 0..<5 { files["data/f\(i)"] = "file \(i)" }
        try ws.gen(files)
        #expect(try ws.mlv(["add", "model.bin", "data"]).status == 0)
        return (ws, try Workspace.open(from: ws.root))
    }

    @Test(arguments: [false, true]) func pushSendsWhatIsMissingOnce(_ usesIndex: Bool) throws {
        let (ws, w) = try workspace()
        defer { withExtendedLifetime(ws) {} }
        let store = InMemoryObjectStore(usesIndex: usesIndex)
        let set = try SpooledObjects(OutputSelection.workspace(at: w.root).outputs(in: w), cache: w.cache)
        var manifests: [Bool] = []
        try set.forEachObject { h, _ in manifests.append(h.isDirectory) }
        #expect(manifests.filter { !$0 }.count == 6 && manifests.filter { $0 }.count == 1)
        let first = try RemoteSession(w, settings: Self.settings, store: store, jobs: 4).push(set, verify: false)
        #expect(first.transferred == 7 && store.uploads == 7 && store.objects.count == 7)
        let queriesBefore = store.existenceQueries
        let again = try RemoteSession(w, settings: Self.settings, store: store, jobs: 4).push(set, verify: false)
        #expect(again.transferred == 0 && again.skipped == 7 && store.uploads == 7)
        // With an index, the second push needs no existence query at all.
        if usesIndex { #expect(store.existenceQueries == queriesBefore) }
    }

    @Test func fetchVerifiesEveryObjectAndRefusesLies() throws {
        let (ws, w) = try workspace()
        let store = InMemoryObjectStore()
        let tracked = try OutputSelection.workspace(at: w.root).outputs(in: w)
        _ = try RemoteSession(w, settings: Self.settings, store: store, jobs: 4).push(try SpooledObjects(tracked, cache: w.cache), verify: false)
        try FS.removeTree(ws.path(".mlv/cache"))
        try FS.makeDirectories(ws.path(".mlv/cache/sha256"))
        let fetched = try RemoteSession(w, settings: Self.settings, store: store, jobs: 4).fetchObjects(tracked).get()
        #expect(fetched.transferred == 7)
        #expect(try tracked.allSatisfy { try w.isCached($0.hash) })

        // A copy gone bad is reported and not kept; one larger than recorded is refused.
        let model = try #require(tracked.first { $0.path == "model.bin" })
        try FS.removeTree(ws.path(".mlv/cache"))
        try FS.makeDirectories(ws.path(".mlv/cache/sha256"))
        store.tamper(model.hash, with: Array("weightz".utf8))
        let outcome = try RemoteSession(w, settings: Self.settings, store: store, jobs: 4).fetchObjects(tracked.filter { $0.path == "model.bin" })
        #expect(outcome.corrupted == ["model.bin"])
        #expect(!w.cache.contains(model.hash))
        store.tamper(model.hash, with: Array("weights, and then some".utf8))
        #expect(throws: RemoteError.largerThanRecorded(remote: "mem", object: model.hash.short, size: 22, recorded: 7)) {
            _ = try RemoteSession(w, settings: Self.settings, store: store, jobs: 1).fetchObjects(tracked.filter { $0.path == "model.bin" })
        }
    }
}
