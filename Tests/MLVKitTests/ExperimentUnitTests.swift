@testable import MLVKit
import MLVSupport
import Testing

/// The pure parts of `mlv exp`: -S parsing and grids, editing a params file's value in place,
/// and the --filter language.
@Suite struct ExperimentUnitTests {
    @Test func overridesParseWithFilesAndGrids() throws {
        #expect(try ParamOverride.parse("train.lr=0.1") == ParamOverride(file: "params.yaml", key: "train.lr", values: ["0.1"]))
        #expect(try ParamOverride.parse("conf/a.yaml:x=1,2, 3") == ParamOverride(file: "conf/a.yaml", key: "x", values: ["1", "2", "3"]))
        #expect(try ParamOverride.parse("l=[1, 2],[3],'a,b'").values == ["[1, 2]", "[3]", "'a,b'"])
        #expect(throws: ExperimentError.badOverride("x", why: "it has no '='")) { try ParamOverride.parse("x") }
        #expect(throws: ExperimentError.badOverride("x=1,,2", why: "an empty value in the grid")) { try ParamOverride.parse("x=1,,2") }
        #expect(throws: ExperimentError.badOverride("x=[1", why: "an unclosed quote or bracket")) { try ParamOverride.parse("x=[1") }
        let grid = ParamOverride.grid([try ParamOverride.parse("a=1,2"), try ParamOverride.parse("b=x,y,z")])
        #expect(grid.count == 6 && grid[5].map(\.value) == ["2", "z"])
    }

    @Test func aValueIsReplacedAndEverythingElseKept() throws {
        let yaml = "# top\ntrain:\n  lr: 0.1   # learning rate\n  name: 'run a'\n  layers: [1, 2]\nseed: 1\n"
        #expect(try ParamOverride.apply(key: "train.lr", value: "0.003", to: yaml, file: "params.yaml")
                == "# top\ntrain:\n  lr: 0.003   # learning rate\n  name: 'run a'\n  layers: [1, 2]\nseed: 1\n")
        #expect(try ParamOverride.apply(key: "train.name", value: "b", to: yaml, file: "params.yaml").contains("  name: b\n"))
        #expect(try ParamOverride.apply(key: "train.layers", value: "[4, 5, 6]", to: yaml, file: "params.yaml").contains("  layers: [4, 5, 6]\n"))
        #expect(try ParamOverride.apply(key: "seed", value: "7", to: yaml, file: "params.yaml").hasSuffix("seed: 7\n"))
        let json = "{\"train\": {\"lr\": 0.1, \"opt\": \"adam\"}}\n"
        #expect(try ParamOverride.apply(key: "train.lr", value: "0.5", to: json, file: "p.json") == "{\"train\": {\"lr\": 0.5, \"opt\": \"adam\"}}\n")
        #expect(try ParamOverride.apply(key: "train.opt", value: "sgd", to: json, file: "p.json") == "{\"train\": {\"lr\": 0.1, \"opt\": \"sgd\"}}\n")
        #expect(throws: ExperimentError.unknownParam("train.lrr", file: "params.yaml", suggestion: "train.lr")) {
            try ParamOverride.apply(key: "train.lrr", value: "1", to: yaml, file: "params.yaml")
        }
        #expect(throws: ExperimentError.notASingleValue("train", file: "params.yaml")) { try ParamOverride.apply(key: "train", value: "1", to: yaml, file: "params.yaml") }
        #expect(throws: ExperimentError.unsupportedParamsFile("p.toml")) { try ParamOverride.apply(key: "a", value: "1", to: "a = 1\n", file: "p.toml") }
    }

    @Test func filtersCompareNumbersAndStrings() throws {
        let values: [String: ParamValue] = ["metrics.acc": .double(0.93), "params.train.batch_size": .int(32), "params.opt": .string("adam")]
        func keeps(_ f: String) throws -> Bool { try ExperimentFilter(f).matches { values[$0] } }
        #expect(try keeps("metrics.acc > 0.9 and params.train.batch_size == 32"))
        #expect(try !keeps("metrics.acc > 0.95 or params.opt != 'adam'"))
        #expect(try keeps("not (metrics.acc < 0.5) and params.opt == adam"))
        #expect(try !keeps("metrics.missing >= 0"))
        #expect(throws: ExperimentError.badFilter("metrics.acc = 1", why: "'=' is not a comparison (write == or !=)")) { try ExperimentFilter("metrics.acc = 1") }
        #expect(throws: ExperimentError.badFilter("(metrics.acc > 1", why: "a '(' is not closed")) { try ExperimentFilter("(metrics.acc > 1") }
        #expect(throws: ExperimentError.badFilter("metrics.acc >", why: "'metrics.acc >' has no value")) { try ExperimentFilter("metrics.acc >") }
    }
}
