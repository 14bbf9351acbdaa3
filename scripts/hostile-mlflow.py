#!/usr/bin/env python3
"""A loopback HTTP server that answers like a broken MLflow tracking server, for the tests of
`mlv exp export --mlflow`.

    hostile-mlflow.py MODE [--owner PID]

Listens on a free 127.0.0.1 port (printed on the first line of stdout). MODE:
  - unauthorized:  401 to everything (an MLflow JSON error body)
  - forbidden:     403 to everything
  - error-500:     500 to everything, an HTML body
  - json-error:    400 to everything, an MLflow JSON error whose message holds markup and a newline
  - garbage:       200 to everything, a body that is not JSON
  - second-run-fails: a tiny MLflow (one experiment, runs/search finds nothing) whose second
                   runs/create answers 500 with an MLflow JSON error
  - auth:          the same tiny MLflow (every run succeeds) that answers 401 to a request whose
                   Authorization header is not --expect's value
Loopback only. It exits when --owner is gone.
"""
import argparse, json, os, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MODES = ["unauthorized", "forbidden", "error-500", "json-error", "garbage", "second-run-fails", "auth"]


def make_handler(mode, expect=None):
    state = {"runs": 0}
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def send(self, status, body, kind="application/json"):
            data = body.encode() if isinstance(body, str) else body
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def answer(self):
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            path = self.path.split("?")[0]
            if mode == "unauthorized":
                return self.send(401, json.dumps({"error_code": "UNAUTHENTICATED", "message": "hostile-secret"}))
            if mode == "forbidden":
                return self.send(403, "Permission denied", "text/plain")
            if mode == "error-500":
                return self.send(500, "<html><body>Internal Server Error</body></html>", "text/html")
            if mode == "json-error":
                return self.send(400, json.dumps({"error_code": "INVALID_PARAMETER_VALUE", "message": "<b>bad</b>\nrequest"}))
            if mode == "garbage":
                return self.send(200, "<html>certainly not json</html>", "text/html")
            if mode == "auth" and self.headers.get("Authorization") != expect:
                return self.send(401, json.dumps({"error_code": "UNAUTHENTICATED", "message": "no"}))
            # second-run-fails, auth
            if path.endswith("/experiments/get-by-name"):
                return self.send(200, json.dumps({"experiment": {"experiment_id": "7", "name": "x", "lifecycle_stage": "active"}}))
            if path.endswith("/runs/search"):
                return self.send(200, "{}")
            if path.endswith("/runs/create"):
                with lock:
                    state["runs"] += 1
                    n = state["runs"]
                if n >= 2 and mode == "second-run-fails":
                    return self.send(500, json.dumps({"error_code": "INTERNAL_ERROR", "message": "the database is locked"}))
                return self.send(200, json.dumps({"run": {"info": {"run_id": "run%d" % n}}}))
            return self.send(200, "{}")

        do_GET = answer
        do_POST = answer

    return Handler


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=MODES)
    ap.add_argument("--owner", type=int, default=None)
    ap.add_argument("--expect", default=None)
    args = ap.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(args.mode, args.expect))
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    if args.owner:
        def watch():
            while True:
                try:
                    os.kill(args.owner, 0)
                except OSError:
                    os._exit(0)
                time.sleep(1)
        threading.Thread(target=watch, daemon=True).start()
    server.serve_forever()
