"""Loopback stand-ins for the two credential endpoints a host offers:

    python3 spec/support/metadata.py

EC2 instance metadata, IMDSv2 only (token required, a wrong or expired token refused):
  PUT /latest/api/token                           needs X-aws-ec2-metadata-token-ttl-seconds (1..21600);
                                                  answers a new token, valid for that many seconds
  GET /latest/meta-data/iam/security-credentials/ the role name      (X-aws-ec2-metadata-token required:
  GET /latest/meta-data/iam/security-credentials/<role>  credentials  missing or wrong -> 401)
  GET /latest/meta-data/placement/region          the region

Container credentials endpoint (ECS / EKS Pod Identity):
  GET /container/<anything>                       credentials; when a token is configured the
                                                  Authorization header must equal it (else 401)

Control (JSON bodies; a spec changes the behaviour between requests):
  POST /_control  {"role": "...", "region": "...", "lifetime": seconds of credential validity,
                   "container_token": "..." | null, "fail_next": n (next n requests answer 500),
                   "no_role": true (no role attached: 404), "garbage": true (credentials not JSON),
                   "imds_v1": true (token call answers 403 and GETs need no token),
                   "delay": seconds before each answer, "forget_tokens": true (all tokens now wrong)}
  GET  /_log      JSON list of {method, path, token (true if a token header came), auth, ttl}
  POST /_reset    clear log and behaviour

Every credentials answer holds fresh random keys, so a refresh is visible to the spec.
"""
import http.server
import json
import os
import secrets
import sys
import threading
import time
from datetime import datetime, timezone

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import serverlib  # noqa: E402

DEFAULTS = {"role": "laws-test-role", "region": "eu-west-3", "lifetime": 3600, "container_token": None,
            "fail_next": 0, "no_role": False, "garbage": False, "imds_v1": False, "delay": 0}
state = dict(DEFAULTS)
tokens = {}   # token -> expiry (monotonic)
log = []
lock = threading.Lock()
issued = [0]


def new_credentials():
    issued[0] += 1
    exp = datetime.fromtimestamp(time.time() + state["lifetime"], tz=timezone.utc)
    return {
        "Code": "Success",
        "LastUpdated": datetime.now(tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "Type": "AWS-HMAC",
        "AccessKeyId": "ASIAMETA%012d" % issued[0],
        "SecretAccessKey": "meta/" + secrets.token_urlsafe(30),
        "Token": "metatoken/" + secrets.token_urlsafe(60),
        "Expiration": exp.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, *args):
        pass

    def send(self, status, body, ctype="text/plain"):
        if isinstance(body, (dict, list)):
            body, ctype = json.dumps(body), "application/json"
        body = body.encode()
        self.wfile.write((f"HTTP/1.1 {status} X\r\nContent-Type: {ctype}\r\n"
                          f"Content-Length: {len(body)}\r\n\r\n").encode() + body)

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def record(self):
        with lock:
            log.append({"method": self.command, "path": self.path,
                        "token": self.headers.get("X-aws-ec2-metadata-token") is not None,
                        "auth": self.headers.get("Authorization"),
                        "ttl": self.headers.get("X-aws-ec2-metadata-token-ttl-seconds")})

    def common(self):
        """Control routes and injected faults; True when the request was answered."""
        if self.path == "/_control":
            with lock:
                change = json.loads(self.body() or b"{}")
                if change.pop("forget_tokens", False):
                    tokens.clear()
                state.update(change)
            self.send(200, {"ok": True})
            return True
        if self.path == "/_reset":
            self.body()
            with lock:
                state.clear()
                state.update(DEFAULTS)
                log.clear()
                tokens.clear()
            self.send(200, {"ok": True})
            return True
        if self.path == "/_log":
            with lock:
                self.send(200, list(log))
            return True
        self.record()
        if state["delay"]:
            time.sleep(state["delay"])
        with lock:
            if state["fail_next"] > 0:
                state["fail_next"] -= 1
                self.send(500, "injected failure")
                return True
        return False

    def token_ok(self):
        if state["imds_v1"]:
            return True
        t = self.headers.get("X-aws-ec2-metadata-token")
        with lock:
            exp = tokens.get(t)
        return exp is not None and time.monotonic() < exp

    def do_PUT(self):
        self.body()
        if self.common():
            return
        if self.path != "/latest/api/token":
            return self.send(404, "not found")
        if state["imds_v1"]:
            return self.send(403, "forbidden")
        try:
            ttl = int(self.headers.get("X-aws-ec2-metadata-token-ttl-seconds") or "")
        except ValueError:
            return self.send(400, "missing or invalid ttl header")
        if not 1 <= ttl <= 21600:
            return self.send(400, "ttl out of range")
        t = "imdstoken-" + secrets.token_urlsafe(32)
        with lock:
            tokens[t] = time.monotonic() + ttl
        self.send(200, t)

    def do_POST(self):
        if not self.common():
            self.send(404, "not found")

    def do_GET(self):
        if self.common():
            return
        p = self.path
        if p.startswith("/container/"):
            want = state["container_token"]
            if want is not None and self.headers.get("Authorization") != want:
                return self.send(401, {"code": "Unauthorized", "message": "bad authorization"})
            c = new_credentials()
            del c["Code"], c["LastUpdated"], c["Type"]
            c["AccountId"] = "123456789012"
            return self.send(200, c)
        if not p.startswith("/latest/"):
            return self.send(404, "not found")
        if not self.token_ok():
            return self.send(401, "")
        if p == "/latest/meta-data/placement/region":
            return self.send(200, state["region"])
        base = "/latest/meta-data/iam/security-credentials/"
        if p == base:
            if state["no_role"]:
                return self.send(404, "not found")
            return self.send(200, state["role"])
        if p == base + state["role"] and not state["no_role"]:
            if state["garbage"]:
                return self.send(200, "this is not json " + secrets.token_hex(8))
            return self.send(200, new_credentials())
        self.send(404, "not found")


def main():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    serverlib.watch_parent()
    serverlib.announce(srv.server_address[1])
    srv.serve_forever()


if __name__ == "__main__":
    main()
