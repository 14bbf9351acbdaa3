import Foundation
import MLVSupport
import MLVTestSupport
import Testing

/// `mlv model`: versions and stages as git tags in GTO's format, read back by git itself.
@Suite struct ModelRegistryTests {
    func twoModels() throws -> TestWorkspace {
        let ws = try TestWorkspace()
        try ws.gen(["models/m.bin": "weights 1"])
        try ws.write("pipeline.yaml", "artifacts:\n  clf:\n    path: models/m.bin\n    type: model\n")
        #expect(try ws.mlv(["add", "models/m.bin"]).status == 0)
        #expect(try ws.git(["add", "-A"]).status == 0 && ws.git(["commit", "-qm", "v1"]).status == 0)
        #expect(try ws.mlv(["model", "register", "clf"]).stdout.hasPrefix("registered clf@v0.0.1 at "))
        try ws.gen(["models/m.bin": "weights 2"])
        #expect(try ws.mlv(["commit"]).status == 0 && ws.git(["commit", "-qam", "v2"]).status == 0)
        #expect(try ws.mlv(["model", "register", "clf", "--version", "v1.0.0"]).status == 0)
        return ws
    }

    @Test func versionsAndStagesAreGTOTags() throws {
        let ws = try twoModels()
        #expect(try ws.mlv(["model", "promote", "clf", "v0.0.1", "--stage", "prod"]).stdout == "clf@v0.0.1 is in prod (clf#prod#1)\n")
        #expect(try ws.mlv(["model", "promote", "clf", "v1.0.0", "--stage", "prod"]).stdout == "clf@v1.0.0 is in prod (clf#prod#2)\n")
        #expect(try ws.mlv(["model", "promote", "clf", "v0.0.1", "--stage", "staging"]).status == 0)
        // git sees annotated tags on the right commits, with GTO's messages.
        #expect(try ws.git(["tag"]).stdout == "clf#prod#1\nclf#prod#2\nclf#staging#1\nclf@v0.0.1\nclf@v1.0.0\n")
        #expect(try ws.git(["rev-parse", "clf@v1.0.0^{commit}"]).stdout == ws.git(["rev-parse", "HEAD"]).stdout)
        #expect(try ws.git(["rev-parse", "clf#staging#1^{commit}"]).stdout == ws.git(["rev-parse", "HEAD~1"]).stdout)
        #expect(try ws.git(["cat-file", "-p", "clf@v1.0.0"]).stdout.contains("Registering artifact clf version v1.0.0"))
        #expect(try ws.mlv(["model", "list"]).stdout == "clf  v1.0.0  (prod: v1.0.0, staging: v0.0.1)\n")
        let show = try ws.mlv(["model", "show", "clf"]).stdout.split(separator: "\n")
        #expect(show.count == 2 && show[0].hasPrefix("clf@v0.0.1  ") && show[0].hasSuffix("[staging]") && show[1].hasSuffix("[prod]"), "\(show)")
        // get fetches by hash: the staging version, from the cache, whatever the workspace holds.
        #expect(try ws.mlv(["model", "get", "clf", "--stage", "staging", "-o", "staging.bin"]).status == 0)
        #expect(try ws.read("staging.bin") == "weights 1")
        #expect(try ws.mlv(["model", "get", "clf", "-o", "latest.bin"]).status == 0)
        #expect(try ws.read("latest.bin") == "weights 2")
    }

    @Test func badNamesVersionsAndPathsAreRefused() throws {
        let ws = try twoModels()
        let bad = BadInputTests()
        try bad.expectRefused(ws, ["model", "register", "clf", "--version", "1.2"], message: "'1.2' is not a version", hint: "versions are semver with a v: v1.2.0")
        try bad.expectRefused(ws, ["model", "register", "clf", "--version", "v1.0.0"], message: "clf@v1.0.0 is already registered", hint: "give another --version")
        try bad.expectRefused(ws, ["model", "register", "other"], message: "no path for model 'other'",
                              hint: "give --path PATH (data mlv tracks), or declare it under artifacts: in pipeline.yaml")
        try ws.write("notes.txt", "n")
        try bad.expectRefused(ws, ["model", "register", "other", "--path", "notes.txt"], message: "'notes.txt' is not tracked by mlv at HEAD",
                              hint: "track it with `mlv add` or as a stage's out, commit, then register")
        try bad.expectRefused(ws, ["model", "register", "a#b", "--path", "models/m.bin"], message: "invalid model name 'a#b'", hint: "use letters, digits, '-' and '_'")
        try bad.expectRefused(ws, ["model", "promote", "clf", "v9.9.9", "--stage", "prod"], message: "clf@v9.9.9 is not registered", hint: "see `mlv model show clf`")
        try bad.expectRefused(ws, ["model", "get", "clf", "--stage", "prod"], message: "no version of 'clf' is in stage 'prod'",
                              hint: "promote one with `mlv model promote clf VERSION --stage prod`")
        try bad.expectRefused(ws, ["model", "show", "none"], message: "no model 'none' is registered", hint: "register it with `mlv model register none --path PATH`")
    }
}
