import Foundation
@testable import MLVKit
import MLVSupport
import Testing

/// The pure parts of `exp export --mlflow` and `exp show --html`: where the server and the
/// credentials come from, names MLflow accepts, and the page's axes on awkward values.
@Suite struct MLflowUnitTests {
    func env(_ values: [String: String]) -> (String) -> String? { { values[$0] } }

    @Test func theServerAndCredentialsComeFromTheFlagOrMLflowsVariables() throws {
        let a = try MLflowClient(uri: nil, environment: env(["MLFLOW_TRACKING_URI": " http://127.0.0.1:5000// ", "MLFLOW_TRACKING_TOKEN": "t",
                                                             "MLFLOW_TRACKING_USERNAME": "u"]))
        #expect(a.uri == "http://127.0.0.1:5000" && a.authorization == "Bearer t")
        let b = try MLflowClient(uri: "https://ann:pw@mlflow.example/x", environment: env(["MLFLOW_TRACKING_URI": "http://other", "MLFLOW_TRACKING_USERNAME": "ann",
                                                                                          "MLFLOW_TRACKING_PASSWORD": "pw"]))
        #expect(b.uri == "https://ann:pw@mlflow.example/x" && b.shown == "https://***@mlflow.example/x")
        #expect(b.authorization == "Basic " + Data("ann:pw".utf8).base64EncodedString())
        #expect(try MLflowClient(uri: "http://h", environment: env([:])).authorization == nil)
        #expect(throws: MLflowError.noTrackingURI) { try MLflowClient(uri: nil, environment: env(["MLFLOW_TRACKING_URI": "  "])) }
        for bad in ["databricks", "file:///tmp/mlruns", "http://", "http:///x", "ftp://h"] {
            #expect(throws: MLflowError.notHTTP(bad)) { try MLflowClient(uri: bad, environment: env([:])) }
        }
    }

    @Test func namesAndQueriesAreWhatMLflowAccepts() {
        #expect(MLflowExport.key("train.lr") == "train.lr" && MLflowExport.key("metrics.json:a/b c-d_e") == "metrics.json:a/b c-d_e")
        #expect(MLflowExport.key("<script>é\"") == "_script___")
        #expect(MLflowExport.key(String(repeating: "k", count: 300)).count == 250)
        #expect(MLflowClient.percentEncoded("mlv tests/é&=") == "mlv%20tests%2F%C3%A9%26%3D")
    }

    @Test func axesTakeNumbersOrCategoriesAndSkipWhatCannotBeDrawn() {
        let columns = [ExperimentTable.Column(kind: "params", file: "params.yaml", key: "opt", title: "opt"),
                       ExperimentTable.Column(kind: "metrics", file: "m.json", key: "acc", title: "acc")]
        func row(_ name: String, _ opt: ParamValue?, _ acc: ParamValue?) -> ExperimentTable.Row {
            ExperimentTable.Row(name: name, commit: name + "-c", baseline: "b", created: 0, values: [opt, acc])
        }
        let table = ExperimentTable(columns: columns, rows: [
            ExperimentTable.Row(name: "workspace", commit: "", baseline: "b", created: nil, values: [.string("sgd"), .double(0.5)]),
            row("a", .string("adam"), .double(0.9)), row("b", .string("sgd"), .double(.nan)), row("c", nil, .int(1)), row("d", .string("sgd"), .double(1e300)),
        ])
        let html = ExperimentsHTML.render(table)
        #expect(html.contains("data-x=\"opt\" data-y=\"acc\" data-points=\"1\""), "only a has both values drawable")
        #expect(html.components(separatedBy: "<path class=\"line\"").count - 1 == 4)
        #expect(html.contains("<tr><td>workspace</td>"), "the workspace is in the table, not in the plots")
        let axis = ExperimentsHTML.Axis(columns[1], values: [.double(0.9), .int(1)])
        #expect(axis.isNumeric && axis.fraction(.double(.infinity)) == nil && axis.fraction(.int(1))! > axis.fraction(.double(0.9))!)
        let empty = ExperimentsHTML.render(ExperimentTable(columns: columns, rows: []))
        #expect(empty.contains("no experiments yet"))
    }
}
