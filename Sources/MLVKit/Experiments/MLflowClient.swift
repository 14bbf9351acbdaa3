import Foundation
import MLVHTTP
import MLVSupport

/// The few calls of MLflow's tracking REST API (`/api/2.0/mlflow/…`) that `mlv exp export
/// --mlflow` makes, over mlv's libcurl client. Credentials come from MLflow's own variables:
/// `MLFLOW_TRACKING_TOKEN` (Bearer), else `MLFLOW_TRACKING_USERNAME`/`MLFLOW_TRACKING_PASSWORD`
/// (Basic); they go into a header only, never into a message. Network failures and 5xx answers
/// are retried twice; 401/403 are not.
package struct MLflowClient {
    /// The tracking URI without a trailing slash (http:// or https://).
    package let uri: String
    /// The URI as messages show it (any user:password@ replaced).
    package let shown: String
    let authorization: String?
    let http = HTTPClient(connectTimeout: 5, readTimeout: 30)
    var retry = RetryPolicy(retries: 2, baseDelay: 0.2, maxDelay: 1)

    /// `uri`, else `MLFLOW_TRACKING_URI`.
    package init(uri: String?, environment: (String) -> String?) throws {
        guard let raw = (uri ?? environment("MLFLOW_TRACKING_URI")).map({ $0.trimmingCharacters(in: .whitespaces) }), !raw.isEmpty else {
            throw MLflowError.noTrackingURI
        }
        let lower = raw.lowercased()
        let host = raw.drop { $0 != ":" }.dropFirst(3)
        guard lower.hasPrefix("http://") || lower.hasPrefix("https://"), !host.isEmpty, !host.hasPrefix("/") else {
            throw MLflowError.notHTTP(TerminalText.visible(raw))
        }
        var trimmed = raw
        while trimmed.hasSuffix("/") { trimmed.removeLast() }
        self.uri = trimmed
        var shown = trimmed
        if let scheme = shown.range(of: "://"), let at = shown[scheme.upperBound...].prefix(while: { $0 != "/" }).lastIndex(of: "@") {
            shown.replaceSubrange(scheme.upperBound...at, with: "***@")
        }
        self.shown = TerminalText.visible(shown)
        if let token = environment("MLFLOW_TRACKING_TOKEN"), !token.isEmpty {
            authorization = "Bearer " + token
        } else if let user = environment("MLFLOW_TRACKING_USERNAME"), !user.isEmpty {
            authorization = "Basic " + Data((user + ":" + (environment("MLFLOW_TRACKING_PASSWORD") ?? "")).utf8).base64EncodedString()
        } else {
            authorization = nil
        }
    }

    /// `POST` (a JSON body) or `GET` (query items) to `endpoint` (e.g. "runs/create"): the answer's
    /// JSON object. `notFound`: what a 404 RESOURCE_DOES_NOT_EXIST returns instead of an error.
    /// `idempotent` false (runs/create): tried once, since a 5xx may come after the run was made.
    func call(_ endpoint: String, body: String? = nil, query: [(String, String)] = [], notFound: [String: Any]? = nil, idempotent: Bool = true) throws -> [String: Any] {
        var url = uri + "/api/2.0/mlflow/" + endpoint
        if !query.isEmpty { url += "?" + query.map { "\(Self.percentEncoded($0.0))=\(Self.percentEncoded($0.1))" }.joined(separator: "&") }
        var headers: [(name: String, value: String)] = [("Accept", "application/json")]
        if body != nil { headers.append(("Content-Type", "application/json")) }
        if let authorization { headers.append(("Authorization", authorization)) }
        let request = HTTPRequest(method: body == nil ? "GET" : "POST", url: url, headers: headers, body: body.map { .bytes(Array($0.utf8)) } ?? .none)
        let response: HTTPResponse
        do {
            var policy = retry
            if !idempotent { policy.retries = 0 }
            response = try policy.run { _ in
                let r = try http.send(request, sink: .memory(limit: 64 << 20))
                if r.status >= 500 { throw RetriedStatus(response: r) }
                return r
            }
        } catch let e as RetriedStatus {
            response = e.response
        } catch let e as TransportError {
            throw MLflowError.unreachable(shown, why: TerminalText.visible(e.reason))
        }
        let object = (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any]
        if response.status == 401 || response.status == 403 {
            throw MLflowError.rejected(shown, status: response.status, endpoint: endpoint)
        }
        if response.status == 404, let notFound, object?["error_code"] as? String == "RESOURCE_DOES_NOT_EXIST" { return notFound }
        guard (200..<300).contains(response.status), let object else {
            var detail: String?
            if let object, let code = object["error_code"] as? String {
                detail = code + ((object["message"] as? String).map { ": " + $0 } ?? "")
            }
            if (200..<300).contains(response.status) { throw MLflowError.notMLflow(shown, endpoint: endpoint) }
            throw MLflowError.failed(shown, endpoint: endpoint, status: response.status, detail: detail.map { Self.clipped(TerminalText.visible($0)) })
        }
        if let code = object["error_code"] as? String {
            throw MLflowError.failed(shown, endpoint: endpoint, status: response.status, detail: Self.clipped(TerminalText.visible(code + ((object["message"] as? String).map { ": " + $0 } ?? ""))))
        }
        return object
    }

    static func clipped(_ s: String) -> String { s.count > 300 ? String(s.prefix(299)) + "…" : s }

    /// RFC 3986 unreserved characters kept, every other byte %XX.
    static func percentEncoded(_ s: String) -> String {
        var out = ""
        for b in s.utf8 {
            if (65...90).contains(b) || (97...122).contains(b) || (48...57).contains(b) || b == 45 || b == 46 || b == 95 || b == 126 {
                out.unicodeScalars.append(Unicode.Scalar(b))
            } else {
                out += "%" + (b < 16 ? "0" : "") + String(b, radix: 16, uppercase: true)
            }
        }
        return out
    }

    /// A 5xx answer, retried and then judged like any other.
    struct RetriedStatus: RetryableError {
        var response: HTTPResponse
        var isRetryable: Bool { true }
    }
}

package enum MLflowError: UserFacingError, Equatable {
    case noTrackingURI
    case notHTTP(String)
    case unreachable(String, why: String)
    case rejected(String, status: Int, endpoint: String)
    case failed(String, endpoint: String, status: Int, detail: String?)
    case notMLflow(String, endpoint: String)
    case deletedExperiment(String, name: String)
    case partial(exported: [String], notExported: [String], cause: String)

    package var message: String {
        switch self {
        case .noTrackingURI: return "no MLflow tracking server to export to"
        case .notHTTP(let u): return "'\(u)' is not the http:// or https:// URL of an MLflow tracking server"
        case .unreachable(let u, let why): return "cannot reach the MLflow server at \(u): \(why)"
        case .rejected(let u, let s, let e): return "the MLflow server at \(u) rejected the credentials (HTTP \(s) to \(e))"
        case .failed(let u, let e, let s, let d): return "the MLflow server at \(u) answered HTTP \(s) to \(e)" + (d.map { ": " + $0 } ?? "")
        case .notMLflow(let u, let e): return "the MLflow server at \(u) answered \(e) with something that is not MLflow's JSON"
        case .deletedExperiment(let u, let n): return "the MLflow experiment '\(n)' at \(u) is deleted"
        case .partial(let done, let left, let cause):
            return "exported \(done.count) of \(done.count + left.count) experiments to MLflow (\(done.joined(separator: ", "))); not exported: \(left.joined(separator: ", ")): \(cause)"
        }
    }

    package var hint: String? {
        switch self {
        case .noTrackingURI: return "pass --tracking-uri http://HOST:PORT or set MLFLOW_TRACKING_URI"
        case .notHTTP: return "mlv talks to MLflow's REST API: run `mlflow server` and give its URL"
        case .unreachable: return "check that `mlflow server` runs there and the URI is right"
        case .rejected: return "set MLFLOW_TRACKING_TOKEN, or MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD"
        case .failed: return "the server's log says more; exporting again updates the runs that went, never duplicates them"
        case .notMLflow: return "check that the URI names an MLflow tracking server"
        case .deletedExperiment: return "restore it in MLflow, or give another --experiment"
        case .partial: return "export again: the runs that went are updated, not duplicated"
        }
    }
}
