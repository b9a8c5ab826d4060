#!/usr/bin/env python3
"""Local stand-in of Amazon Connect Cases and Amazon Customer Profiles (in memory, loopback).

  python3 spec/support/standin.py [--port 0] [--key AKID:SECRET[:TOKEN]] [--lag S |
          --lag-median S --lag-p95 S] [--seed N] [--region us-east-1|any] [--clock-offset S]

Wire format from botocore's models (standin_model.py), SigV4 verified by botocore
(standin_auth.py), data in standin_services.py, fault rules in standin_faults.py.
One asyncio thread, HTTP/1.1 keep-alive, TCP_NODELAY, one write per response.
Control API (unsigned, JSON): see CONTROL below and doc/INTERNALS.md.
"""
import argparse
import asyncio
import collections
import email.utils
import json
import os
import re
import socket
import struct
import sys
import time
import traceback
import uuid
from urllib.parse import unquote

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import serverlib  # noqa: E402
from standin_auth import Verifier, scope_service  # noqa: E402
from standin_faults import Faults  # noqa: E402
from standin_model import ApiError, Model  # noqa: E402
from standin_services import Lag, Store  # noqa: E402

# Keys known when no --key is given: a long-term key, and temporary credentials with a token.
DEFAULT_KEYS = [("AKIDSTANDIN", "standin/secret/KEY+0123456789abcdefghijklmn", None),
                ("ASIASTANDIN", "standin/temporary/SECRET+abcdefghij0123456789", "standin-session-token//+=")]
REASONS = {200: "OK", 201: "Created", 204: "No Content", 400: "Bad Request", 402: "Payment Required",
           403: "Forbidden", 404: "Not Found", 409: "Conflict", 411: "Length Required", 413: "Payload Too Large", 431: "Request Header Fields Too Large",
           429: "Too Many Requests", 500: "Internal Server Error", 502: "Bad Gateway",
           503: "Service Unavailable", 504: "Gateway Timeout"}
MAX_BODY = 16 * 1024 * 1024


class Stats:
    def __init__(self, keep=200):
        self.keep = keep
        self.reset()

    def reset(self):
        self.requests = 0
        self.operations = collections.Counter()        # requests routed to an operation (any outcome)
        self.handled = collections.Counter()           # handler ran (the write was committed)
        self.by_service = collections.defaultdict(collections.Counter)
        self.statuses = collections.Counter()
        self.errors = collections.Counter()            # error codes answered
        self.faults = collections.Counter()            # fault kind -> times applied
        self.signature_failures = collections.Counter()
        self.keys = collections.Counter()              # access key id -> requests it signed (accepted)
        self.recent = collections.deque(maxlen=self.keep)
        self.started = time.monotonic()

    def record(self, entry):
        self.recent.append(entry)

    def as_json(self, store):
        return {"requests": self.requests, "operations": dict(self.operations), "handled": dict(self.handled),
                "by_service": {k: dict(v) for k, v in self.by_service.items()}, "statuses":
                {str(k): v for k, v in self.statuses.items()}, "errors": dict(self.errors),
                "faults": dict(self.faults), "signature_failures": dict(self.signature_failures),
                "signature_failures_total": sum(self.signature_failures.values()), "keys": dict(self.keys),
                "uptime": time.monotonic() - self.started, **store.counters}


class App:
    def __init__(self, args):
        keys = DEFAULT_KEYS if not args.key else [tuple((k.split(":", 2) + [None])[:3]) for k in args.key]
        self.keys = {k[0]: (k[1], k[2] or None) for k in keys}
        self.verifier = Verifier(self.keys, None if args.region == "any" else args.region)
        self.models = {name: Model(name) for name in ("cases", "profile")}
        self.start_lag = self._lag_spec(args)
        self.store = Store(self.start_lag, self.start_lag)
        self.faults = Faults()
        self.stats = Stats()
        self.clock_offset = self.start_clock_offset = args.clock_offset
        self.error_style = "header"
        self._date = (None, "")
        # request ids: a random UUID-shaped prefix per process and a counter (unique, and cheap)
        self._rid_prefix, self._rid = str(uuid.uuid4())[:24], 0

    @staticmethod
    def _lag_spec(args):
        if args.lag_median is not None:
            return {"median": args.lag_median, "p95": args.lag_p95 or args.lag_median, "seed": args.seed}
        return {"fixed": args.lag or 0, "seed": args.seed}

    def now(self):
        return time.time() + self.clock_offset

    # ---- responses ---------------------------------------------------------------------
    def date_header(self):
        """RFC 1123 date of the (possibly offset) server clock, formatted once per second."""
        sec = int(self.now())
        if sec != self._date[0]:
            self._date = (sec, email.utils.formatdate(sec, usegmt=True))
        return self._date[1]

    def response(self, status, headers, body, close=False):
        self._rid += 1
        h = {"x-amzn-RequestId": "%s%012x" % (self._rid_prefix, self._rid), "Date": self.date_header(),
             "Content-Type": "application/json", "Content-Length": str(len(body))}
        h.update(headers)
        if close:
            h["Connection"] = "close"
        head = "HTTP/1.1 %d %s\r\n" % (status, REASONS.get(status, "Status"))
        head += "".join("%s: %s\r\n" % kv for kv in h.items()) + "\r\n"
        return head.encode("latin-1") + body

    def error(self, e, model=None, close=False):
        member = model.message_member if model else "message"
        body = {member: e.message}
        body.update(e.extra)
        headers = dict(e.headers)
        style = self.error_style
        if style in ("header", "both", "header_suffix"):
            suffix = ":http://internal.amazon.com/coral/com.amazonaws.standin/" if style == "header_suffix" else ""
            headers["x-amzn-ErrorType"] = e.code + suffix
        if style in ("body_type", "both"):
            body["__type"] = "com.amazonaws.standin#" + e.code
        self.stats.errors[e.code] += 1
        return e.status, self.response(e.status, headers, json.dumps(body).encode(), close)

    # ---- dispatch ----------------------------------------------------------------------
    def handle(self, conn, method, target, headers, body):
        """-> bytes to write, None when the connection was dropped on purpose, or
        (delay, continuation) for a slow response: the connection calls continuation() later."""
        path, _, query = target.partition("?")
        if path.startswith("/_standin/"):
            return self.control(method, path, query, body)
        self.stats.requests += 1
        service = scope_service(headers, query)
        host = (headers.get("host") or [""])[0]
        if service not in self.models:
            service = "profile" if host.startswith("profile.") else "cases"
        model = self.models[service]
        qs = {}
        for p in query.split("&"):
            if p:
                k, _, v = p.partition("=")
                qs.setdefault(unquote(k), []).append(unquote(v))
        op, labels = model.route(method, path, qs)
        if op is None and "authorization" not in headers:
            other = self.models["profile" if service == "cases" else "cases"]
            op2, _ = other.route(method, path, qs)
            if op2 is not None:
                service, model, op = other.signing_name, other, None
        entry = {"t": time.time(), "method": method, "path": path, "service": service,
                 "invocation_id": (headers.get("amz-sdk-invocation-id") or [None])[0],
                 "sdk_request": (headers.get("amz-sdk-request") or [None])[0], "client_port": conn.client_port}
        self.stats.record(entry)
        try:
            entry["access_key_id"] = akid = self.verifier.verify(method, target, headers, body, service, self.now())
            self.stats.keys[akid] += 1
        except ApiError as e:
            self.stats.signature_failures[e.code] += 1
            entry["status"], entry["error"] = e.status, e.code
            status, out = self.error(e, model)
            self.stats.statuses[status] += 1
            return out
        if op is None:
            e = ApiError(404, "UnknownOperationException", "Unknown operation %s %s" % (method, path))
            entry["status"], entry["error"] = 404, e.code
            self.stats.statuses[404] += 1
            return self.error(e, model)[1]
        entry["op"] = op.name
        self.stats.operations[op.name] += 1
        self.stats.by_service[service][op.name] += 1
        rule = self.faults.pick(service, op.name, method, path)
        if rule is not None:
            self.stats.faults[rule.kind] += 1
            entry["fault"] = rule.kind
            k = rule.kind
            if k in ("error", "throttle"):
                return self._finish(entry, *self.error(ApiError(rule.status, rule.code, rule.message,
                                                                headers=rule.headers()), model))
            if k == "reset_before":
                conn.reset()
                return None
            if k == "malformed":
                status = rule.status or 200
                junk = b"<html><body><h1>" + str(status).encode() + b"</h1>upstream said: {oops</body></html>"
                out = self.response(status, {"Content-Type": "text/html"}, junk)
                return self._finish(entry, status, out)
            if k == "slow":
                return rule.delay, lambda: self.finish_op(conn, entry, rule, model, op, labels, qs, headers, body)
        return self.finish_op(conn, entry, rule, model, op, labels, qs, headers, body)

    def finish_op(self, conn, entry, rule, model, op, labels, qs, headers, body):
        status, out = self.run_op(model, op, labels, qs, headers, body)
        entry["status"] = status
        if rule is not None and rule.kind == "reset_after":
            conn.reset()
            return None
        if rule is not None and rule.kind == "error_after":
            return self._finish(entry, *self.error(ApiError(rule.status, rule.code, rule.message,
                                                            headers=rule.headers()), model))
        if rule is not None and rule.kind == "close_after":
            conn.answer_then_drop(out)   # no "Connection: close": the client finds out on reuse
            self.stats.statuses[status] += 1
            return None
        if rule is not None and rule.kind == "truncated":
            head, _, payload = out.partition(b"\r\n\r\n")
            conn.write_and_close(head + b"\r\n\r\n" + payload[:len(payload) // 2])
            self.stats.statuses[status] += 1
            return None
        self.stats.statuses[status] += 1
        return out

    def _finish(self, entry, status, out):
        entry["status"] = status
        self.stats.statuses[status] += 1
        return out

    def run_op(self, model, op, labels, qs, headers, body):
        fn = getattr(self.store, "%s_%s" % (model.signing_name, op.name), None)
        try:
            params = model.parse_input(op, labels, qs, headers, body)
            if fn is None:
                raise ApiError(404, "UnknownOperationException",
                               "Operation %s is not implemented by the stand-in" % op.name)
            result = fn(params)
            self.stats.handled[op.name] += 1
            status, hdrs, payload = model.serialize_output(op, result)
            return status, self.response(status, hdrs, payload)
        except ApiError as e:
            if e.code == "ValidationException" and model.validation_code != "ValidationException":
                e.code = model.validation_code
            return self.error(e, model)

    # ---- control API -------------------------------------------------------------------
    def control(self, method, path, query, body):
        try:
            data = json.loads(body) if body else {}
            out = self._control(method, path[len("/_standin"):], query, data)
            return self.response(200, {}, json.dumps(out).encode())
        except (ValueError, KeyError, TypeError, AttributeError, re.error) as e:
            return self.response(400, {}, json.dumps({"error": str(e)}).encode())

    def _control(self, method, path, query, data):
        if path == "/health":
            return {"ok": True, "pid": os.getpid()}
        if path == "/stats":
            return self.stats.as_json(self.store)
        if path == "/requests":
            n = int(dict(p.partition("=")[::2] for p in query.split("&") if p).get("n", 50))
            return {"requests": list(self.stats.recent)[-n:]}
        if path == "/lag":
            if method == "GET":
                return {"cases": self.store.lag["cases"].spec, "profiles": self.store.lag["profiles"].spec}
            spec = {k: v for k, v in data.items() if k != "service"}
            for kind in (["cases", "profiles"] if data.get("service") in (None, "all") else [data["service"]]):
                self.store.lag[kind] = Lag(spec)
            return {"ok": True}
        if path == "/faults":
            if method == "DELETE":
                self.faults.clear()
                return {"ok": True}
            if method == "POST":
                rules = data.get("rules") or [data]
                return {"ids": [self.faults.add(r).id for r in rules]}
            return {"rules": [r.describe() for r in self.faults.rules]}
        if path.startswith("/faults/") and method == "DELETE":
            self.faults.remove(int(path.rsplit("/", 1)[1]))
            return {"ok": True}
        if path == "/keys":
            if method == "POST":
                akid, secret = data["access_key_id"], data["secret_access_key"]
                self.verifier.keys[akid] = (secret, data.get("session_token") or None)
                exp = data.get("expiration")
                if data.get("expires_in") is not None:
                    exp = self.now() + float(data["expires_in"])
                if exp is not None:
                    self.verifier.expiry[akid] = float(exp)
                else:
                    self.verifier.expiry.pop(akid, None)
                return {"ok": True, "expiration": self.verifier.expiry.get(akid)}
            return {"keys": [{"access_key_id": k, "session_token": bool(v[1]),
                              "expiration": self.verifier.expiry.get(k)} for k, v in self.verifier.keys.items()]}
        if path.startswith("/keys/") and method == "DELETE":
            akid = path[len("/keys/"):]
            self.verifier.keys.pop(akid, None)
            self.verifier.expiry.pop(akid, None)
            return {"ok": True}
        if path == "/reset":
            self.verifier.keys, self.verifier.expiry = dict(self.keys), {}
            self.store.reset()
            self.store.lag = {"cases": Lag(self.start_lag), "profiles": Lag(self.start_lag)}
            self.faults.clear()
            self.stats.reset()
            self.error_style = "header"
            self.clock_offset = self.start_clock_offset
            self.verifier.skew_code = "InvalidSignatureException"
            return {"ok": True}
        if path == "/config":
            if "clock_offset" in data:
                self.clock_offset = float(data["clock_offset"])
            if "error_style" in data:
                if data["error_style"] not in ("header", "header_suffix", "body_type", "both"):
                    raise ValueError("error_style: header | header_suffix | body_type | both")
                self.error_style = data["error_style"]
            if "skew_error" in data:
                self.verifier.skew_code = str(data["skew_error"])
            return {"clock_offset": self.clock_offset, "error_style": self.error_style,
                    "skew_error": self.verifier.skew_code}
        if path == "/visibility" or path.startswith("/visibility/"):
            ident = path[len("/visibility/"):] if path.startswith("/visibility/") else None
            recs = self.store.visibility
            if ident:
                if ident not in recs:
                    raise KeyError("no such case or profile: " + ident)
                return recs[ident]
            return {"items": list(recs.values())}
        raise KeyError("unknown control path " + path)


class Conn(asyncio.Protocol):
    def __init__(self, app):
        self.app = app
        self.buf = bytearray()
        self.busy = False
        self.closed = False
        self.transport = None
        self.client_port = None
        self._continued = False

    def connection_made(self, transport):
        self.transport = transport
        peer = transport.get_extra_info("peername")
        self.client_port = peer[1] if peer else None   # tells the client's connections apart
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def connection_lost(self, exc):
        self.closed = True

    def data_received(self, data):
        self.buf += data
        if not self.busy:
            self.pump()

    def reset(self):
        """Close with RST (SO_LINGER 0): the client sees ECONNRESET, not a clean EOF."""
        sock = self.transport.get_extra_info("socket")
        if sock is not None:
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            except OSError:
                pass
        self.closed = True
        self.transport.abort()

    def write_and_close(self, data):
        self.transport.write(data)
        self.closed = True
        self.transport.close()

    def answer_then_drop(self, data):
        """Answer, then close, with the FIN in the answer's last TCP segment: TCP_CORK holds the
        tail of the answer until shutdown(SHUT_WR) tacks the FIN on it. A client that has read the
        whole answer therefore already sees the connection closed, as it would a keep-alive
        connection the server dropped while it sat idle. With a separate close, a fast client could
        send its next request on the connection first, and that request would be cut off (the
        reset_after fault, not this one)."""
        sock = self.transport.get_extra_info("socket")
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 1)
        self.transport.write(data)
        self.transport.write_eof()   # shutdown(SHUT_WR) now, or once asyncio's buffer is flushed
        self.closed = True
        self.transport.close()

    def pump(self):
        while not self.closed:
            req = self.parse()
            if req is None:
                return
            if isinstance(req, bytes):   # a protocol error answer
                self.write_and_close(req)
                return
            method, target, headers, body, keep = req
            try:
                out = self.app.handle(self, method, target, headers, body)
            except Exception:  # a stand-in bug must look like a service fault, not a hung client
                traceback.print_exc()
                out = self.app.error(ApiError(500, "InternalServerException", "stand-in failure"))[1]
            if isinstance(out, tuple):   # slow response: pause this connection, serve others
                self.busy = True
                asyncio.get_running_loop().call_later(out[0], self.resume, out[1], keep)
                return
            self.emit(out, keep)

    def resume(self, cont, keep):
        # the handler runs even when the client gave up meanwhile: a slow service still commits
        # the write (a retried CreateCase then meets its clientToken)
        self.busy = False
        try:
            out = cont()
        except Exception:
            traceback.print_exc()
            out = self.app.error(ApiError(500, "InternalServerException", "stand-in failure"))[1]
        self.emit(out, keep)
        if not self.closed:
            self.pump()

    def emit(self, out, keep):
        if out is None or self.closed:
            return
        self.transport.write(out)
        if not keep:
            self.closed = True
            self.transport.close()

    def parse(self):
        end = self.buf.find(b"\r\n\r\n")
        if end < 0:
            if len(self.buf) > 65536:
                return self.app.response(431, {}, b'{"message":"headers too large"}', close=True)
            return None
        lines = bytes(self.buf[:end]).decode("latin-1").split("\r\n")
        try:
            method, target, version = lines[0].split(" ", 2)
        except ValueError:
            return self.app.response(400, {}, b'{"message":"bad request line"}', close=True)
        headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            headers.setdefault(k.strip().lower(), []).append(v.strip())
        start = end + 4
        te = (headers.get("transfer-encoding") or [""])[0].lower()
        body = None
        if te == "chunked":
            try:
                body, consumed = self._chunked(start)
            except ValueError:
                return self.app.response(400, {}, b'{"message":"bad chunk size"}', close=True)
        else:
            try:
                n = int((headers.get("content-length") or ["0"])[0] or 0)
            except ValueError:
                return self.app.response(400, {}, b'{"message":"bad Content-Length"}', close=True)
            if n < 0:
                return self.app.response(400, {}, b'{"message":"bad Content-Length"}', close=True)
            if n > MAX_BODY:
                return self.app.response(413, {}, b'{"message":"body too large"}', close=True)
            if len(self.buf) - start >= n:
                body, consumed = bytes(self.buf[start:start + n]), start + n
        if body is None:   # body not complete yet; libcurl may wait for "100 Continue" first
            if (headers.get("expect") or [""])[0].lower() == "100-continue" and not self._continued:
                self._continued = True
                self.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            return None
        self._continued = False
        del self.buf[:consumed]
        conn = (headers.get("connection") or [""])[0].lower()
        keep = conn != "close" and (version == "HTTP/1.1" or conn == "keep-alive")
        return method, target, headers, body, keep

    def _chunked(self, pos):
        out = bytearray()
        while True:
            nl = self.buf.find(b"\r\n", pos)
            if nl < 0:
                return None, 0
            size = int(bytes(self.buf[pos:nl]).split(b";")[0] or b"0", 16)
            if size == 0:
                tail = self.buf.find(b"\r\n\r\n", nl)
                if tail < 0 and self.buf[nl:nl + 4] != b"\r\n\r\n":
                    return None, 0
                return bytes(out), (tail + 4 if tail >= 0 else nl + 4)
            if len(self.buf) < nl + 2 + size + 2:
                return None, 0
            out += self.buf[nl + 2:nl + 2 + size]
            pos = nl + 2 + size + 2


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--key", action="append", help="AKID:SECRET[:SESSION_TOKEN] (repeatable)")
    ap.add_argument("--lag", type=float, help="fixed visibility lag in seconds")
    ap.add_argument("--lag-median", type=float)
    ap.add_argument("--lag-p95", type=float)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--region", default="us-east-1", help="region the credential scope must name, or 'any'")
    ap.add_argument("--clock-offset", type=float, default=0.0, help="pretend the server clock is off by S seconds")
    args = ap.parse_args()
    app = App(args)
    loop = asyncio.new_event_loop()
    server = loop.run_until_complete(loop.create_server(lambda: Conn(app), args.host, args.port, backlog=1024))
    port = server.sockets[0].getsockname()[1]
    serverlib.watch_parent()
    ak = next(iter(app.keys))
    serverlib.announce(port, "%s %s" % (ak, app.keys[ak][0]))
    try:
        loop.run_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
