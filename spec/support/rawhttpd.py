"""A raw-socket HTTP/1.1 server for the transport's hostile-input specs: it writes exactly the
bytes a misbehaving server or proxy would, which http.server cannot.

    python3 spec/support/rawhttpd.py [--tls]

Announces "<port> <full_port>" (with --tls: "<port> <full_port> <cert.pem>", the routes served over
TLS with a self-signed certificate for localhost, as spec/support/httpd.py makes it): <full_port> is
a listening socket whose accept queue is full (it never accepts), so a connect to it hangs until the
client gives up. Keep-alive; one thread
per connection on <port>. Routes (by path prefix):

  /line/...          200, body = the request target exactly as it came on the request line
  /silent            reads the request and never answers (the connection stays open)
  /huge?send=N&stall=1   announces Content-Length: 2147483648, sends N bytes (default 4 MiB),
                     then stalls (stall=1) or keeps sending until the client goes away; to a
                     HEAD request, the same head and no body
  /endless?chunked=1 a body with no length that never ends: chunked (chunked=1) or until close
  /stray?id=X&delay=S&wait=W   after W seconds (default 0), 200 with body "id=X"; then, S
                     seconds later (0: in the same write), an extra complete response nobody
                     asked for (body "stray"); without delay, no extra response
"""
import os
import shutil
import signal
import socket
import socketserver
import ssl
import sys
import tempfile
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import serverlib  # noqa: E402


def response(status, body, extra=b""):
    return (b"HTTP/1.1 %d X\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n%s\r\n"
            % (status, len(body), extra)) + body


class Handler(socketserver.BaseRequestHandler):
    def read_request(self):
        while b"\r\n\r\n" not in self.buf:
            data = self.request.recv(65536)
            if not data:
                return None
            self.buf += data
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.split(b"\r\n")
        length = 0
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        while len(self.buf) < length:
            data = self.request.recv(65536)
            if not data:
                return None
            self.buf += data
        self.buf = self.buf[length:]
        return lines[0].decode("latin-1")

    def handle(self):
        self.buf = b""
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.server.context is not None:
            try:
                self.request = self.server.context.wrap_socket(self.request, server_side=True)
            except (ssl.SSLError, OSError):
                return
        try:
            while True:
                line = self.read_request()
                if line is None:
                    return
                parts = line.split(" ")
                target = parts[1] if len(parts) > 1 else ""
                if not self.answer(parts[0], target):
                    return
        except OSError:
            return

    def answer(self, method, target):
        u = urllib.parse.urlsplit(target)
        q = dict(urllib.parse.parse_qsl(u.query))
        send = self.request.sendall
        if target.startswith("/line/"):
            send(response(200, target.encode("latin-1")))
        elif u.path == "/silent":
            while self.request.recv(65536):
                pass
            return False
        elif u.path == "/huge":
            n = int(q.get("send", str(4 << 20)))
            send(b"HTTP/1.1 200 OK\r\nContent-Length: 2147483648\r\n\r\n")
            if method == "HEAD":
                return True
            block = b"x" * 65536
            sent = 0
            while sent < n or q.get("stall") != "1":
                send(block)
                sent += len(block)
            while self.request.recv(65536):
                pass
            return False
        elif u.path == "/endless":
            chunked = q.get("chunked") == "1"
            if chunked:
                send(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
            else:
                send(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n")
            block = b"y" * 65536
            while True:
                send(b"%x\r\n%s\r\n" % (len(block), block) if chunked else block)
        elif u.path == "/stray":
            real = response(200, ("id=" + q.get("id", "")).encode())
            stray = response(200, b"stray")
            time.sleep(float(q.get("wait", "0")))
            if "delay" not in q:
                send(real)
                return True
            delay = float(q["delay"])
            if delay <= 0:
                send(real + stray)
            else:
                send(real)
                time.sleep(delay)
                send(stray)
        else:
            send(response(404, b"no such route"))
        return True


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    context = None


def full_listener():
    """A listener nobody accepts from, its queue filled: further SYNs are dropped."""
    lst = socket.socket()
    lst.bind(("127.0.0.1", 0))
    lst.listen(0)
    fillers = []
    for _ in range(4):
        c = socket.socket()
        c.setblocking(False)
        c.connect_ex(lst.getsockname())
        fillers.append(c)
    time.sleep(0.2)
    return lst, fillers


def main():
    serverlib.watch_parent()
    srv = Server(("127.0.0.1", 0), Handler)
    full = full_listener()
    extra = str(full[0].getsockname()[1])
    tmp = None
    if "--tls" in sys.argv:
        import httpd  # its certificate maker
        tmp = tempfile.mkdtemp(prefix="laws-rawhttpd-")
        key, cert = httpd.make_cert(tmp)
        srv.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        srv.context.load_cert_chain(cert, key)
        extra += " " + cert

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
