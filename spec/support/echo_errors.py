"""A hostile service for spec/errors_redaction_spec.lua: every answer is an error that echoes the
request back (all headers and the body) in the message, the body, a header and the request id,
the way a careless proxy or a debug endpoint would.

    python3 spec/support/echo_errors.py        (announces "<port>")
Path /throttle answers 400 ThrottlingException (retryable), anything else 400 ValidationException.
"""
import http.server
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import serverlib  # noqa: E402


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, *a):
        pass

    def _answer(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n).decode("latin-1") if n else ""
        echo = " ".join(f"{k}: {v}" for k, v in self.headers.items()) + " body: " + body
        code = "ThrottlingException" if self.path.startswith("/throttle") else "ValidationException"
        out = json.dumps({"__type": code, "message": echo, "Message": echo, "detail": echo}).encode()
        self.send_response(400)
        self.send_header("Content-Type", "application/x-amz-json-1.0")
        self.send_header("x-amzn-RequestId", echo.replace("\r", " ").replace("\n", " ")[:4000])
        self.send_header("x-amzn-ErrorType", code)
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    do_GET = do_POST = do_PUT = do_DELETE = _answer


def main():
    serverlib.watch_parent()
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    serverlib.announce(srv.server_address[1])
    srv.serve_forever()


if __name__ == "__main__":
    main()
