#!/usr/bin/env python3
"""A loopback HTTP file server for tests of `mlv import-url`: serves the files of DIR with
Content-Length, ETag (a hash of the content) and Last-Modified, and prints its port first.

    file-server.py DIR [--changing]

--changing: every answer carries a new ETag, as a source rewritten during each download would.
Listens on 127.0.0.1 only."""
import hashlib, http.server, itertools, os, sys

ROOT = os.path.realpath(sys.argv[1])
CHANGING = "--changing" in sys.argv[2:]
COUNTER = itertools.count()


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def answer(self, body_too):
        path = os.path.realpath(os.path.join(ROOT, self.path.split("?")[0].lstrip("/")))
        if not path.startswith(ROOT + os.sep) or not os.path.isfile(path):
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        data = open(path, "rb").read()
        tag = hashlib.sha256(data).hexdigest()[:32] + (str(next(COUNTER)) if CHANGING else "")
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("ETag", '"%s"' % tag)
        self.send_header("Last-Modified", self.date_time_string(int(os.stat(path).st_mtime)))
        self.end_headers()
        if body_too:
            self.wfile.write(data)

    def do_HEAD(self):
        self.answer(False)

    def do_GET(self):
        self.answer(True)


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
