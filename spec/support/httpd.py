"""A keep-alive HTTP/1.1 test server for the transport specs.

    python3 spec/support/httpd.py [--tls]

Announces "<port>" (plain) or "<port> <cert.pem>" (TLS, a self-signed certificate for the name
localhost only, not 127.0.0.1, made with `openssl req` in a temp dir at start-up). Routes:

  /echo          JSON: method, path, headers (list of [name, value] in wire order),
                 body_len, body_sha256, body (when shorter than 64 KiB)
  /stats         JSON: connections accepted, requests served, absolute-form targets seen
  /slow?s=N      wait N seconds, then answer "slow"
  /big?n=N       N bytes of a repeating pattern (Content-Length)
  /chunked?n=N&size=S   N chunks of S bytes (Transfer-Encoding: chunked)
  /redirect      302 to /echo with a Location header
  /status?code=N answers status N with body "status N"
  /repeat        repeated headers: X-Multi (twice), Set-Cookie (twice)
  /reset         closes the connection (RST) without answering
  /reset-mid     sends headers and half the promised body, then resets
  /reset-once?key=K  the first request for K is read (counted) and answered with a reset, like a
                 keep-alive connection dying after the server committed the request; later
                 ones answer JSON {"hits": n} (n: requests for K received so far)
/stats also counts "closed": connections the server saw closed (EOF, reset or its own close).
"""
import hashlib
import http.server
import json
import os
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import serverlib  # noqa: E402

stats = {"connections": 0, "requests": 0, "absolute": 0, "closed": 0}
hits = {}
lock = threading.Lock()
PATTERN = b"0123456789abcdefghijklmnopqrstuvwxyz" * 1000


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def setup(self):
        super().setup()
        with lock:
            stats["connections"] += 1

    def finish(self):
        try:
            super().finish()
        finally:
            with lock:
                stats["closed"] += 1

    def log_message(self, *args):
        pass

    def send(self, status, body, headers=(), ctype="text/plain"):
        if isinstance(body, str):
            body = body.encode()
        head = [f"HTTP/1.1 {status} X\r\n", f"Content-Type: {ctype}\r\n",
                f"Content-Length: {len(body)}\r\n"]
        head += [f"{k}: {v}\r\n" for k, v in headers]
        # one write per response: no Nagle / delayed-ACK stall on keep-alive
        if self.command == "HEAD":
            body = b""
        self.wfile.write("".join(head).encode() + b"\r\n" + body)
        self.wfile.flush()

    def reset(self):
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        try:
            self.connection.close()
        except OSError:
            pass

    def handle_any(self):
        with lock:
            stats["requests"] += 1
            if self.path.startswith("http://") or self.path.startswith("https://"):
                stats["absolute"] += 1
        u = urllib.parse.urlsplit(self.path)
        q = dict(urllib.parse.parse_qsl(u.query))
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        p = u.path
        if p == "/echo":
            out = {"method": self.command, "path": self.path, "headers": list(self.headers.items()),
                   "body_len": len(body), "body_sha256": hashlib.sha256(body).hexdigest()}
            if len(body) < 65536:
                out["body"] = body.decode("latin-1")
            self.send(200, json.dumps(out), ctype="application/json")
        elif p == "/stats":
            with lock:
                self.send(200, json.dumps(stats), ctype="application/json")
        elif p == "/slow":
            time.sleep(float(q.get("s", "2")))
            self.send(200, "slow")
        elif p == "/big":
            n = int(q.get("n", "1000"))
            reps = n // len(PATTERN) + 1
            self.send(200, (PATTERN * reps)[:n], ctype="application/octet-stream")
        elif p == "/chunked":
            n, size = int(q.get("n", "3")), int(q.get("size", "10"))
            self.wfile.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
            for i in range(n):
                chunk = bytes([ord("a") + i % 26]) * size
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        elif p == "/redirect":
            self.send(302, "moved", headers=[("Location", "/echo")])
        elif p == "/status":
            code = int(q.get("code", "200"))
            self.send(code, f"status {code}")
        elif p == "/repeat":
            self.send(200, "r", headers=[("X-Multi", "a"), ("Set-Cookie", "a=1; Expires=Wed, 21 Oct 2015 07:28:00 GMT"),
                                         ("X-Multi", "b"), ("Set-Cookie", "b=2")])
        elif p == "/reset":
            self.reset()
        elif p == "/reset-once":
            key = q.get("key", "")
            with lock:
                hits[key] = hits.get(key, 0) + 1
                n = hits[key]
            if n == 1:
                self.reset()
            else:
                self.send(200, json.dumps({"hits": n}), ctype="application/json")
        elif p == "/reset-mid":
            self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + b"x" * 50000)
            self.wfile.flush()
            time.sleep(0.05)
            self.reset()
        else:
            self.send(404, "no such route")

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = handle_any


def make_cert(d):
    key, cert = os.path.join(d, "key.pem"), os.path.join(d, "cert.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost",
                    "-keyout", key, "-out", cert], check=True, capture_output=True)
    return key, cert


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    context = None

    def finish_request(self, request, client_address):
        if self.context is not None:
            # the handshake runs in the request's thread, so a client that rejects our
            # certificate does not stall the accept loop
            try:
                request = self.context.wrap_socket(request, server_side=True)
            except (ssl.SSLError, OSError):
                return
        self.RequestHandlerClass(request, client_address, self)


def main():
    tls = "--tls" in sys.argv
    serverlib.watch_parent()
    srv = Server(("127.0.0.1", 0), Handler)
    extra = ""
    tmp = None
    if tls:
        tmp = tempfile.mkdtemp(prefix="laws-httpd-")
        key, cert = make_cert(tmp)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        srv.context = ctx
        extra = cert

        def bye(*_):
            shutil.rmtree(tmp, ignore_errors=True)
            os._exit(0)
        signal.signal(signal.SIGTERM, bye)
    serverlib.announce(srv.server_address[1], extra)
    try:
        srv.serve_forever()
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
