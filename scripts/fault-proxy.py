#!/usr/bin/env python3
"""A fault-injecting HTTP proxy for tests, in front of a loopback S3 server.

    fault-proxy.py UPSTREAM_PORT --rate 0.3 --seed 1 [--stall 3] [--max-requests 100000]

Listens on a free 127.0.0.1 port (printed on the first line of stdout) and forwards each
request to 127.0.0.1:UPSTREAM_PORT unchanged (the Host header too, so SigV4 signatures still
verify). A fraction `rate` of requests, chosen by a seeded RNG, instead get one fault:
  - slowdown: 503 with an S3 <Error><Code>SlowDown</Code> body (the request is not forwarded)
  - reset:    the connection is reset (RST) without an answer
  - truncate: forwarded, but the answer body is cut in half and the connection closed
  - stall:    the answer waits `stall` seconds before its first byte (a read timeout)
  - status500: 500 InternalError
With --fail-parts 2,4 every UploadPart request for those part numbers gets 500 InternalError
(counted as "failpart"), so a multipart push fails on exactly those parts.
Counts per kind go to stderr as JSON lines, and to the file given with --stats at exit; so do
"part.N" (UploadPart requests received for part N), "partput" (all of them), "rangeget"
(GETs with a Range header), and the PUTs by how they were signed (put_signed, put_unsigned:
UNSIGNED-PAYLOAD).
Loopback only: it binds 127.0.0.1 and connects only to 127.0.0.1.
"""
import argparse, http.client, json, os, random, signal, socket, struct, sys, threading, time, urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

KINDS = ["slowdown", "reset", "truncate", "stall", "status500"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("upstream_port", type=int)
    ap.add_argument("--rate", type=float, default=0.3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--stall", type=float, default=3.0)
    ap.add_argument("--kinds", default=",".join(KINDS))
    ap.add_argument("--max-requests", type=int, default=100000)
    ap.add_argument("--stats", default=None)
    ap.add_argument("--fail-parts", default="")
    ap.add_argument("--owner", type=int, default=None, help="exit when this process is gone")
    args = ap.parse_args()
    kinds = [k for k in args.kinds.split(",") if k]
    rng = random.Random(args.seed)
    lock = threading.Lock()
    stats = {"requests": 0, "partput": 0, "rangeget": 0, "failpart": 0, **{k: 0 for k in KINDS}}
    fail_parts = {int(n) for n in args.fail_parts.split(",") if n}

    def count(name):
        with lock:
            stats[name] = stats.get(name, 0) + 1

    def draw():
        with lock:
            stats["requests"] += 1
            if stats["requests"] > args.max_requests:
                return "refuse"
            if rng.random() < args.rate:
                k = rng.choice(kinds)
                stats[k] += 1
                return k
            return None

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def reset(self):
            # SO_LINGER 0: close() sends RST.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True

        def handle_any(self):
            length = int(self.headers.get("Content-Length") or 0)
            if length > 1 << 30:
                self.reset(); return
            body = self.rfile.read(length) if length else b""
            if self.command == "PUT":
                # How uploads were signed: over their SHA-256, or UNSIGNED-PAYLOAD.
                kind = "put_unsigned" if self.headers.get("x-amz-content-sha256") == "UNSIGNED-PAYLOAD" else "put_signed"
                with lock:
                    stats[kind] = stats.get(kind, 0) + 1
            query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query, keep_blank_values=True)
            part = query.get("partNumber", [None])[0] if self.command == "PUT" and "uploadId" in query else None
            if part is not None:
                count("partput")
                count("part." + part)
            if self.command == "GET" and self.headers.get("Range"):
                count("rangeget")
            if part is not None and part.isdigit() and int(part) in fail_parts:
                count("failpart")
                fault = "status500"
            else:
                fault = draw()
            if fault in ("reset", "refuse"):
                self.reset(); return
            if fault in ("slowdown", "status500"):
                code, name = (503, "SlowDown") if fault == "slowdown" else (500, "InternalError")
                xml = f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{name}</Code><Message>injected</Message></Error>'.encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/xml")
                self.send_header("Content-Length", str(len(xml)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(xml)
                return
            up = http.client.HTTPConnection("127.0.0.1", args.upstream_port, timeout=60)
            headers = {k: v for k, v in self.headers.items() if k.lower() not in ("connection", "expect")}
            up.request(self.command, self.path, body=body if body or length else None, headers=headers)
            r = up.getresponse()
            data = r.read()
            if fault == "stall":
                time.sleep(args.stall)
            self.send_response(r.status, r.reason)
            for k, v in r.getheaders():
                if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                    self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)) if self.command != "HEAD" else (r.getheader("Content-Length") or "0"))
            self.end_headers()
            if self.command == "HEAD":
                return
            if fault == "truncate" and len(data) > 1:
                self.wfile.write(data[: len(data) // 2])
                self.wfile.flush()
                self.reset()
                return
            self.wfile.write(data)
            up.close()

        do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = handle_any

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True

    def dump(*_):
        line = json.dumps(stats)
        print(line, file=sys.stderr, flush=True)
        if args.stats:
            with open(args.stats, "w") as f:
                f.write(line + "\n")

    def stop(*_):
        dump()
        threading.Thread(target=server.shutdown).start()

    # A parent may have spawned us with these blocked (Foundation's Process does): unblock them.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGUSR1})
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGUSR1, dump)
    if args.owner:
        def watch():
            while True:
                time.sleep(1)
                try:
                    os.kill(args.owner, 0)
                except OSError:
                    stop()
                    return
        threading.Thread(target=watch, daemon=True).start()
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
