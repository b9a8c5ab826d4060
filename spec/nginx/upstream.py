"""Upstream for spec/nginx_spec.lua: plain HTTP/1.1 keep-alive and TLS on loopback.

Every answer is JSON (or chunked text) naming the connection it came in on, so the spec can
see keep-alive reuse from inside nginx. The TLS port uses a fresh self-signed certificate for
"laws.test" / 127.0.0.1 written to <certdir>/cert.pem (nginx trusts it) and records the SNI
name each handshake sent. A third port serves another self-signed certificate nobody
trusts. Announces "<http port> <tls port> <untrusted tls port>".
"""
import itertools
import json
import os
import ssl
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse, parse_qs

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "support"))
import serverlib  # noqa: E402

conn_ids = itertools.count(1)
sni_seen = {}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def setup(self):
        super().setup()
        self.conn_id = next(conn_ids)

    def log_message(self, *a):
        pass

    def reply(self, status, obj, extra=()):
        body = json.dumps(obj).encode()
        head = [f"HTTP/1.1 {status} X", "Content-Type: application/json", f"Content-Length: {len(body)}"]
        head += list(extra)
        self.wfile.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)

    def handle_any(self):
        u = urlparse(self.path)
        q = {k: v[0] for k, v in parse_qs(u.query).items()}
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n).decode() if n else ""
        info = {"conn": self.conn_id, "method": self.command, "path": u.path, "target": self.path,
                "query": q, "body": body,
                "headers": {k.lower(): ", ".join(self.headers.get_all(k)) for k in set(self.headers.keys())},
                "sni": sni_seen.get(self.connection.fileno())}
        if u.path == "/chunked":
            parts = [f"part{i};" for i in range(int(q.get("n", 5)))]
            out = "".join(f"{len(p):x}\r\n{p}\r\n" for p in parts) + "0\r\n\r\n"
            self.wfile.write(("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
                              f"X-Conn: {self.conn_id}\r\n\r\n" + out).encode())
        elif u.path == "/close":
            self.reply(200, info, ["Connection: close"])
            self.close_connection = True
        elif u.path == "/drop":
            # keep-alive as far as the client can tell, then the server closes the idle
            # connection (what an upstream's idle timeout does)
            self.reply(200, info)
            self.wfile.flush()
            self.close_connection = True
        elif u.path == "/trickle":
            # a Content-Length body sent one byte every `every` seconds
            n, every = int(q.get("n", 100)), float(q.get("every", 0.5))
            self.wfile.write(f"HTTP/1.1 200 OK\r\nContent-Length: {n}\r\n\r\n".encode())
            self.dribble([b"x"] * n, every)
        elif u.path == "/slowhead":
            # the head sent one header line every `every` seconds
            n, every = int(q.get("n", 30)), float(q.get("every", 2))
            lines = [b"HTTP/1.1 200 OK\r\n"] + [f"X-Slow-{i}: {i}\r\n".encode() for i in range(n)]
            self.dribble(lines + [b"Content-Length: 2\r\n\r\nok"], every)
        elif u.path == "/continue":
            # interim answers, without end
            self.dribble(itertools.repeat(b"HTTP/1.1 100 Continue\r\n\r\n", 600),
                         float(q.get("every", 0.5)))
        elif u.path == "/big":
            # `mb` MiB, with a Content-Length, or (close=1) without one, ending at close
            size = int(float(q.get("mb", 1)) * 1024 * 1024)
            if q.get("close"):
                self.wfile.write(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n")
            else:
                self.wfile.write(f"HTTP/1.1 200 OK\r\nContent-Length: {size}\r\n\r\n".encode())
            block = b"y" * 65536
            try:
                while size > 0:
                    self.wfile.write(block[:size])
                    size -= len(block)
            except OSError:
                pass
            self.close_connection = True
        elif u.path == "/slow":
            time.sleep(float(q.get("s", 1)))
            self.reply(200, info)
        elif u.path.startswith("/status/"):
            self.reply(int(u.path.split("/")[2]), info)
        else:
            self.reply(200, info)

    def dribble(self, pieces, every):
        """Write the pieces `every` seconds apart; stops when the client goes away."""
        try:
            for p in pieces:
                self.wfile.write(p)
                self.wfile.flush()
                time.sleep(every)
        except OSError:
            pass
        self.close_connection = True

    do_GET = do_POST = do_PUT = do_DELETE = handle_any

    def do_HEAD(self):
        self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n")


def make_cert(certdir, name="cert"):
    os.makedirs(certdir, exist_ok=True)
    cert, key = os.path.join(certdir, name + ".pem"), os.path.join(certdir, name + "-key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=laws.test", "-addext", "subjectAltName=DNS:laws.test,IP:127.0.0.1",
                    "-keyout", key, "-out", cert], check=True, capture_output=True)
    return cert, key


def main():
    certdir = sys.argv[1]
    cert, key = make_cert(certdir)
    plain = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    tls = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    # the same names, but a certificate nginx does not trust
    untrusted = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    uctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    uctx.load_cert_chain(*make_cert(certdir, "untrusted"))
    untrusted.socket = uctx.wrap_socket(untrusted.socket, server_side=True)

    def on_sni(sock, name, _ctx):
        sni_seen[sock.fileno()] = name
    ctx.sni_callback = on_sni
    tls.socket = ctx.wrap_socket(tls.socket, server_side=True)
    for s in (plain, tls, untrusted):
        s.daemon_threads = True
        threading.Thread(target=s.serve_forever, daemon=True).start()
    serverlib.watch_parent()
    serverlib.announce(plain.server_address[1], "%d %d" % (tls.server_address[1], untrusted.server_address[1]))
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
