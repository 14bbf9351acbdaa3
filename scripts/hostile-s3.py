#!/usr/bin/env python3
"""A hostile S3 server for tests: it answers as a broken or lying server would.

    hostile-s3.py MODE [--owner PID]

Listens on a free 127.0.0.1 port (printed on the first line of stdout) and answers every
request itself (signatures are not checked). MODE:
  - same-token:   every ListObjectsV2 page is empty, truncated, with the same continuation token
  - repeat-keys:  every page holds the same key, truncated, with a fresh token (never ends)
  - empty-pages:  every page is empty and truncated, with a fresh token (never ends)
  - not-xml:      listings are an HTML page; GETs return 404
  - not-utf8:     listings are XML whose element names hold bytes that are not UTF-8
  - oversize:     listings are empty; a GET returns 1 MiB whatever was asked, a ranged GET
                  claims a total of 1 GiB
  - huge-total:   listings are empty; a ranged GET answers the range asked for but claims a
                  total of 2^63-1 bytes (Int64.max)
  - trickle:      listings are empty; a GET answers 1,000 bytes at 2 bytes a second
Loopback only. It exits when --owner is gone.
"""
import argparse, os, sys, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse, parse_qs

MODES = ["same-token", "repeat-keys", "empty-pages", "not-xml", "not-utf8", "oversize", "huge-total", "trickle"]


def listing(contents, truncated, token):
    keys = "".join(f"<Contents><Key>{k}</Key><Size>1</Size><LastModified>2026-01-01T00:00:00.000Z</LastModified></Contents>" for k in contents)
    nxt = f"<NextContinuationToken>{token}</NextContinuationToken>" if token else ""
    return (f'<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><Name>b</Name>{keys}'
            f"<IsTruncated>{'true' if truncated else 'false'}</IsTruncated>{nxt}</ListBucketResult>").encode()


def make_handler(mode):
    counter = [0]
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def send(self, status, body, headers=()):
            self.send_response(status)
            for k, v in headers:
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def do_HEAD(self):
            self.send(404, b"")

        def do_PUT(self):
            n = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(n)
            self.send(200, b"", [("ETag", '"0"')])

        def do_POST(self):
            self.do_PUT()

        def do_DELETE(self):
            self.send(204, b"")

        def do_GET(self):
            url = urlparse(self.path)
            query = parse_qs(url.query)
            with lock:
                counter[0] += 1
                n = counter[0]
            if "list-type" in query:
                if mode == "same-token":
                    return self.send(200, listing([], True, "again"))
                if mode == "repeat-keys":
                    prefix = query.get("prefix", [""])[0]
                    return self.send(200, listing([prefix + "zz"], True, f"t{n}"))
                if mode == "empty-pages":
                    return self.send(200, listing([], True, f"t{n}"))
                if mode == "not-xml":
                    return self.send(200, b"<html><body>Welcome to nginx!</body></html>", [("Content-Type", "text/html")])
                if mode == "not-utf8":
                    return self.send(200, b'<?xml version="1.0" encoding="UTF-8"?><ListBuck\xe5tResult><Name>b</Name></ListBuck\xe5tResult>')
                return self.send(200, listing([], False, None))
            if mode == "not-xml":
                return self.send(404, b"<html>not found</html>")
            rng = self.headers.get("Range")
            if mode == "oversize":
                if rng:
                    a, b = (int(x) for x in rng.split("=")[1].split("-"))
                    return self.send(206, b"x" * (b - a + 1), [("Content-Range", f"bytes {a}-{b}/{1 << 30}")])
                return self.send(200, b"x" * (1 << 20))
            if mode == "trickle":
                self.send_response(200)
                self.send_header("Content-Length", "1000")
                self.end_headers()
                try:
                    for _ in range(1000):
                        self.wfile.write(b"x")
                        self.wfile.flush()
                        time.sleep(0.5)
                except OSError:
                    pass
                return
            if mode == "huge-total" and rng:
                a, b = (int(x) for x in rng.split("=")[1].split("-"))
                return self.send(206, b"x" * (b - a + 1), [("Content-Range", f"bytes {a}-{b}/{(1 << 63) - 1}")])
            return self.send(404, b"<Error><Code>NoSuchKey</Code></Error>")

    return Handler


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=MODES)
    ap.add_argument("--owner", type=int, default=None)
    args = ap.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(args.mode))
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


if __name__ == "__main__":
    main()
