@testable import MLVKit
import MLVSupport
import MLVTestSupport
import Testing

@Suite struct PipelineFileTests {
    func parse(_ text: String, files: [String: String] = [:]) throws -> PipelineFile {
        try withTemporaryDirectory { dir in
            try dir.gen(files)
            return try PipelineFile.parse(text, root: dir.path)
        }
    }

    func error(_ text: String, files: [String: String] = [:]) -> YAMLError? {
        do { _ = try parse(text, files: files); return nil } catch let e as YAMLError { return e } catch { return nil }
    }

    @Test func stageFieldsAndPaths() throws {
        let p = try parse("""
        stages:
          train:
            cmd: [python train.py, echo done]
            wdir: src
            deps: [train.py, ../data/features]
            params: [train.lr, {conf/model.yaml: [layers]}, {extra.json: }]
            outs: [../model.bin, {../cache-free: {cache: false, persist: true, push: false, desc: tmp}}]
            metrics: [{../metrics.json: {cache: false}}]
            plots: [{../plots.csv: {x: step, y: loss, template: linear}}]
            frozen: true
            always_changed: false
            desc: trains
            meta: {owner: me}
        """)
        let s = try #require(p.stages.first)
        #expect(s.name == "train" && s.cmd == ["python train.py", "echo done"] && s.wdir == "src")
        #expect(s.deps == ["src/train.py", "data/features"])
        #expect(s.params == [ParamDependency(file: "src/params.yaml", keys: ["train.lr"]),
                             ParamDependency(file: "src/conf/model.yaml", keys: ["layers"]),
                             ParamDependency(file: "src/extra.json", keys: nil)])
        #expect(s.outs.map(\.path) == ["model.bin", "cache-free", "metrics.json", "plots.csv"])
        #expect(s.outs[1].cache == false && s.outs[1].persist && !s.outs[1].push && s.outs[1].desc == "tmp")
        #expect(s.outs[2].kind == .metric && !s.outs[2].cache && s.outs[3].kind == .plot)
        #expect(s.frozen && !s.alwaysChanged && s.desc == "trains")
    }

    @Test func interpolationFromParamsAndVars() throws {
        let p = try parse("""
        vars:
        - local: {name: net, sizes: [8, 16]}
        - conf.yaml:opt
        stages:
          train:
            cmd: python t.py --lr ${train.lr} --first ${local.sizes[0]} --opt ${opt.name} \\${HOME} ${train}
            outs: ['${local.name}.bin']
        """, files: ["params.yaml": "train:\n  lr: 0.010\n  aug: true\n", "conf.yaml": "opt:\n  name: adam\nother: 1\n"])
        #expect(p.stages[0].cmd == ["python t.py --lr 0.01 --first 8 --opt adam ${HOME} --lr 0.01 --aug"])
        #expect(p.stages[0].outs.map(\.path) == ["net.bin"])
    }

    @Test func foreachOverListDictAndVariable() throws {
        let p = try parse("""
        vars:
        - models: [cnn, mlp]
        stages:
          prep:
            foreach: [a, b]
            do: {cmd: 'echo ${item}', outs: ['out-${item}']}
          fit:
            foreach: {small: {n: 1}, large: {n: 9}}
            do: {cmd: 'fit ${key} ${item.n}', outs: ['fit-${key}']}
          eval:
            foreach: ${models}
            do: {cmd: 'eval ${item}'}
        """)
        #expect(p.stages.map(\.name) == ["prep@a", "prep@b", "fit@small", "fit@large", "eval@cnn", "eval@mlp"])
        #expect(p.stages[3].cmd == ["fit large 9"] && p.stages[1].outs.map(\.path) == ["out-b"])
        #expect(p.stages[0].group == "prep")
    }

    @Test func matrixNamesEveryCombination() throws {
        let p = try parse("""
        stages:
          train:
            matrix: {model: [cnn, mlp], opt: [adam, sgd]}
            cmd: train ${item.model} ${item.opt}
            outs: ['m-${item.model}-${item.opt}']
        """)
        #expect(p.stages.map(\.name) == ["train@cnn-adam", "train@cnn-sgd", "train@mlp-adam", "train@mlp-sgd"])
        #expect(p.stages[1].cmd == ["train cnn sgd"])
    }

    @Test func keysAreInterpolatedToo() throws {
        // An out with options is written as a one-key mapping: its path is the key (DVC resolves keys).
        let p = try parse("""
        vars:
        - n: 3
        stages:
          gen:
            matrix: {size: [small, big]}
            cmd: gen ${item.size}
            outs:
            - m_${item.size}.json: {cache: false}
            metrics:
            - scores/${n}.json: {cache: false}
        """)
        #expect(p.stages.map(\.name) == ["gen@small", "gen@big"])
        #expect(p.stages[1].outs.map(\.path) == ["m_big.json", "scores/3.json"])
        #expect(p.stages[1].outs.allSatisfy { !$0.cache })
        #expect(throws: (any Error).self) {
            try parse("""
            vars:
            - l: [1, 2]
            stages:
              gen:
                cmd: gen
                outs:
                - ${l}: {cache: false}
            """)
        }
        // An interpolated key is a path like any other: it may not leave the workspace or reach .git.
        func pipeline(_ key: String) -> String {
            "vars:\n- up: '..'\n- g: .git\n- e: ''\nstages:\n  gen:\n    cmd: gen\n    outs:\n    - \(key): {cache: false}\n"
        }
        #expect(try parse(pipeline("out${e}.json")).stages[0].outs.map(\.path) == ["out.json"])
        for key in ["${up}/x", "${g}/hooks/x", "${e}"] {
            #expect(throws: (any Error).self) { try parse(pipeline(key)) }
        }
    }

    @Test func topLevelParamsMetricsPlotsAndArtifacts() throws {
        let p = try parse("""
        vars:
        - dir: models
        params: [conf.yaml]
        metrics: [eval/metrics.json]
        plots:
        - eval/roc.csv
        - accuracy: {x: epoch, y: {train.csv: acc, val.csv: acc}, template: linear, title: Accuracy}
        - eval/confusion.png
        artifacts:
          cnn:
            path: ${dir}/cnn.safetensors
            type: model
            desc: the classifier
            labels: [cv, small]
        stages: {}
        """)
        #expect(p.stages.isEmpty && p.paramsFiles == ["conf.yaml"] && p.metricsFiles == ["eval/metrics.json"])
        #expect(p.artifacts == [PipelineFile.Artifact(name: "cnn", path: "models/cnn.safetensors", type: "model", desc: "the classifier", labels: ["cv", "small"])])
        #expect(error("artifacts:\n  m: {path: ../x}\n")?.description == "pipeline.yaml:2:13: path '../x' escapes the workspace")
        #expect(error("artifacts:\n  m: {paht: x}\n")?.hint == "did you mean 'path'?")
    }

    /// DVC's example-get-started dvc.yaml, renamed: every key is understood.
    @Test func dvcGetStartedPipeline() throws {
        let p = try parse("""
        stages:
          prepare:
            cmd: python src/prepare.py data/data.xml
            deps:
            - data/data.xml
            - src/prepare.py
            params:
            - prepare.seed
            - prepare.split
            outs:
            - data/prepared
          featurize:
            cmd: python src/featurization.py data/prepared data/features
            deps:
            - data/prepared
            - src/featurization.py
            params:
            - featurize.max_features
            - featurize.ngrams
            outs:
            - data/features
          train:
            cmd: python src/train.py data/features model.pkl
            deps:
            - data/features
            - src/train.py
            params:
            - train.min_split
            - train.n_est
            - train.seed
            outs:
            - model.pkl
          evaluate:
            cmd: python src/evaluate.py model.pkl data/features
            deps:
            - data/features
            - model.pkl
            - src/evaluate.py
            outs:
            - eval/importance.png
            - eval/live/plots:
                cache: false
            - eval/prc:
                cache: false
            metrics:
            - eval/live/metrics.json:
                cache: false
        metrics:
        - eval/live/metrics.json
        plots:
        - ROC:
            template: simple
            x: fpr
            y:
              eval/live/plots/sklearn/roc/train.json: tpr
              eval/live/plots/sklearn/roc/test.json: tpr
        - Confusion-Matrix:
            template: confusion
            x: actual
            y:
              eval/live/plots/sklearn/cm/train.json: predicted
              eval/live/plots/sklearn/cm/test.json: predicted
        - eval/importance.png
        """)
        #expect(p.stages.map(\.name) == ["prepare", "featurize", "train", "evaluate"])
        let g = try StageGraph(p.stages)
        #expect(g.upstream[3].map { g.stages[$0].name } == ["featurize", "train"])
        #expect(p.stages[3].outs.map(\.cache) == [true, false, false, false])
        #expect(p.plots.map(\.id) == ["ROC", "Confusion-Matrix", "eval/importance.png"])
        #expect(p.plots[0].x == ["eval/live/plots/sklearn/roc/train.json": "fpr", "eval/live/plots/sklearn/roc/test.json": "fpr"])
        #expect(p.plots[1].template == .confusion && p.plots[1].y.count == 2 && p.plots[2].isImage)
    }

    @Test func errorsSayWhere() throws {
        #expect(error("stages:\n  a:\n    cmd: x\n    dep: [y]\n")?.description == "pipeline.yaml:4:5: unknown key 'dep' in stage 'a'")
        #expect(error("stages:\n  a:\n    cmd: x\n    dep: [y]\n")?.hint == "did you mean 'deps'?")
        #expect(error("stages:\n  a:\n    cmd: echo ${nope}\n")?.description == "pipeline.yaml:3:10: unknown variable 'nope' in '${nope}'")
        #expect(error("stages:\n  a:\n    cmd: x\n    outs: [../up]\n")?.description == "pipeline.yaml:4:12: path '../up' escapes the workspace")
        #expect(error("stages:\n  a:\n    cmd: x\n    outs: [/etc/x]\n")?.description == "pipeline.yaml:4:12: path '/etc/x' escapes the workspace")
        #expect(error("stages:\n  a:\n    cmd: x\n    deps: [d/.git/config]\n")?.description == "pipeline.yaml:4:12: path 'd/.git/config' is inside .git or .mlv, which are not data")
        #expect(error("stages:\n  a:\n    cmd: [x\n")?.description.hasPrefix("pipeline.yaml:4:1: invalid YAML") == true)
        #expect(error("stages:\n  a:\n    outs: [x]\n")?.description == "pipeline.yaml:3:5: stage 'a' has no 'cmd'")
        #expect(error("stages:\n  a:\n    cmd: x\n    frozen: maybe\n")?.description == "pipeline.yaml:4:13: 'frozen' must be true or false")
        #expect(error("stagez: {}\n")?.hint == "did you mean 'stages'?")
    }

    @Test func paramValuesAreTypedAsYAMLReadsThem() {
        #expect(ParamValue.typed("0.20") == .double(0.2))
        #expect(ParamValue.typed("1e-3") == .double(0.001))
        #expect(ParamValue.typed("12") == .int(12))
        #expect(ParamValue.typed("true") == .bool(true))
        #expect(ParamValue.typed("1.2.3") == .string("1.2.3"))
        #expect(ParamValue.typed("~") == .null)
        #expect(ParamValue.dict([("a", .list([.int(1), .dict([("b", .string("x"))])]))]).lookup("a[1].b") == .string("x"))
        #expect(ParamValue.dict([("a", .int(1))]).lookup("a..b") == nil)
    }
}

@Suite struct LockfileTests {
    @Test func roundTripsWithSortedStableBytes() throws {
        let h = try #require(ContentHash(string: SHA256Hasher.hex("x")))
        let d = try #require(ContentHash(string: SHA256Hasher.hex("d") + ".dir"))
        let lock = Lockfile(stages: [
            .init(name: "train", cmd: ["python t.py"],
                  deps: [.init(path: "z.py", hash: h, size: 1, fileCount: nil), .init(path: "data", hash: d, size: 9, fileCount: 2)],
                  params: [("params.yaml", [("train.lr", .double(0.2)), ("train.name", .string("0.3")), ("a", .bool(true))])],
                  outs: [.init(path: "model", hash: h, size: 1, fileCount: nil)]),
        ])
        let text = try lock.serialized()
        #expect(text == """
        schema: '1'
        stages:
          train:
            cmd: python t.py
            deps:
            - path: data
              hash: sha256
              sha256: \(d)
              size: 9
              nfiles: 2
            - path: z.py
              hash: sha256
              sha256: \(h)
              size: 1
            params:
              params.yaml:
                a: true
                train.lr: 0.2
                train.name: '0.3'
            outs:
            - path: model
              hash: sha256
              sha256: \(h)
              size: 1

        """)
        #expect(try Lockfile.parse(text) == lock)
    }

    @Test func hostilePathsAreRefused() throws {
        let h = SHA256Hasher.hex("x")
        for bad in ["../x", "/etc/passwd", "a/.mlv/cache", ".git/config", "a//b"] {
            let text = "stages:\n  s:\n    cmd: x\n    outs:\n    - path: '\(bad)'\n      sha256: \(h)\n      size: 1\n"
            #expect(throws: YAMLError.self) { try Lockfile.parse(text) }
        }
    }
}

@Suite struct StageGraphTests {
    func stage(_ name: String, deps: [String] = [], outs: [String] = []) -> Stage {
        Stage(name: name, cmd: ["x"], deps: deps, outs: outs.map { StageOutput(path: $0) })
    }

    @Test func ordersByDependencies() throws {
        let g = try StageGraph([stage("c", deps: ["b.out"], outs: ["c.out"]), stage("a", outs: ["data/a"]),
                                stage("b", deps: ["data"], outs: ["b.out"])])
        #expect(g.order.map { g.stages[$0].name } == ["a", "b", "c"])
        #expect(try g.selection(["b"]).map { g.stages[$0].name } == ["a", "b"])
        #expect(try g.selection(["b"], singleItem: true).map { g.stages[$0].name } == ["b"])
        #expect(try g.selection(["a"], downstream: true).map { g.stages[$0].name } == ["a", "b", "c"])
    }

    @Test func refusesCyclesDuplicatesAndOverlaps() throws {
        #expect(throws: PipelineError.cycle(["a", "b", "c", "a"])) {
            try StageGraph([stage("a", deps: ["c.out"], outs: ["a.out"]), stage("b", deps: ["a.out"], outs: ["b.out"]), stage("c", deps: ["b.out"], outs: ["c.out"])])
        }
        #expect(throws: PipelineError.duplicateOutput(path: "m", stages: ["a", "b"])) { try StageGraph([stage("a", outs: ["m"]), stage("b", outs: ["m"])]) }
        #expect(throws: PipelineError.overlappingOutputs(path: "d/x", stage: "b", other: "d", otherStage: "a")) {
            try StageGraph([stage("a", outs: ["d"]), stage("b", outs: ["d/x"])])
        }
        #expect(throws: PipelineError.outputTrackedByAdd(path: "data/x", stage: "a", pointer: "data.mlv")) {
            try StageGraph([stage("a", outs: ["data/x"])], trackedPaths: ["data"])
        }
        #expect(throws: PipelineError.outputTrackedByAdd(path: "data", stage: "a", pointer: "data/raw.mlv")) {
            try StageGraph([stage("a", outs: ["data"])], trackedPaths: ["data/raw"])
        }
    }
}
