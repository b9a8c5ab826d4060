"""Small HTTP/1.1 keep-alive server for the laws.async specs.

GET/POST /delay?ms=N   answers 200 after N ms, body "<n>" (the request's sequence number)
GET /count             answers the number of requests served and the peak of concurrent ones
Threaded, so delayed answers overlap; one write per response (no Nagle stalls)."""
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse, parse_qs

sys.path.insert(0, __import__("os").path.dirname(__file__))
import serverlib  # noqa: E402

lock = threading.Lock()
state = {"served": 0, "active": 0, "peak": 0}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, *a):
        pass

    def reply(self, body, status=200):
        data = body.encode()
        head = (f"HTTP/1.1 {status} OK\r\nContent-Type: text/plain\r\n"
                f"Content-Length: {len(data)}\r\nX-Test: a\r\nX-Test: b\r\n\r\n").encode()
        self.wfile.write(head + data)

    def handle_any(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n:
            self.rfile.read(n)
        u = urlparse(self.path)
        q = parse_qs(u.query)
        if u.path == "/count":
            with lock:
                return self.reply(f"{state['served']} {state['peak']}")
        with lock:
            state["served"] += 1
            state["active"] += 1
            state["peak"] = max(state["peak"], state["active"])
            seq = state["served"]
        try:
            time.sleep(int(q.get("ms", ["0"])[0]) / 1000.0)
            self.reply(str(seq))
        finally:
            with lock:
                state["active"] -= 1

    do_GET = handle_any
    do_POST = handle_any


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024


if __name__ == "__main__":
    srv = Server(("127.0.0.1", 0), Handler)
    serverlib.watch_parent()
    serverlib.announce(srv.server_address[1])
    srv.serve_forever()
