"""Fault rules of the stand-in (added through POST /_standin/faults).

A rule: { kind, op?, service?, path? (regex searched in the path), method?,
          count? (apply to the next N matching requests), probability? (0..1, seeded),
          skip? (let the first K matching requests through), seed?,
          status?, code?, message?, retry_after? (Retry-After, seconds),
          x_amz_retry_after? (x-amz-retry-after, ms), delay? (seconds), rate?, burst? }
Kinds:
  error         answer status/code (default 500 InternalServerException) without running the handler
  throttle      token bucket of `rate` requests/s (burst `burst`); over it: 429 ThrottlingException
  reset_before  close the connection with a TCP RST before the handler runs
  reset_after   run the handler (the write is committed), then RST without answering
  error_after   run the handler, then answer status/code (default 500 InternalServerException)
  slow          wait `delay` seconds, then run the handler (even if the client left) and answer
  truncated     run the handler, send the headers and half the body, then close
  malformed     answer `status` (default 200) with a non-JSON body without running the handler
  close_after   answer normally, then close the connection (without "Connection: close"), like a
                server dropping an idle keep-alive connection; the FIN travels with the answer's
                last bytes, so a client that has read the answer already sees the connection closed
"""
import random
import re
import time

KINDS = ("error", "throttle", "reset_before", "reset_after", "error_after", "slow", "truncated", "malformed",
         "close_after")
DEFAULT_CODES = {429: "ThrottlingException", 500: "InternalServerException", 503: "ServiceUnavailableException",
                 502: "BadGatewayException", 504: "GatewayTimeoutException", 400: "ValidationException",
                 403: "AccessDeniedException", 404: "ResourceNotFoundException", 409: "ConflictException",
                 402: "ServiceQuotaExceededException"}


class Rule:
    def __init__(self, rid, spec):
        kind = spec.get("kind")
        if kind not in KINDS:
            raise ValueError("kind must be one of " + ", ".join(KINDS))
        self.id, self.kind, self.spec = rid, kind, dict(spec)
        self.op = spec.get("op") or spec.get("operation")
        self.service = spec.get("service")
        self.method = spec.get("method")
        self.path = re.compile(spec["path"]) if spec.get("path") else None
        self.count = spec.get("count")
        self.probability = spec.get("probability")
        self.skip = int(spec.get("skip", 0))
        self.rng = random.Random(spec.get("seed", rid))
        status = spec.get("status")
        if kind in ("error", "error_after"):
            status = status or 500
        elif kind == "throttle":
            status = status or 429
        self.status = status
        self.code = spec.get("code") or DEFAULT_CODES.get(status or 0, "InternalServerException")
        self.message = spec.get("message") or ("Rate exceeded" if self.status == 429 else "Injected fault: " + kind)
        self.delay = float(spec.get("delay", 0))
        self.rate = float(spec.get("rate", 10))
        self.burst = float(spec.get("burst", self.rate))
        self.tokens, self.stamp = self.burst, time.monotonic()
        self.seen = 0
        self.hits = 0

    def headers(self):
        h = {}
        if self.spec.get("retry_after") is not None:
            h["Retry-After"] = str(self.spec["retry_after"])
        if self.spec.get("x_amz_retry_after") is not None:
            h["x-amz-retry-after"] = str(self.spec["x_amz_retry_after"])
        return h

    def matches(self, service, op, method, path):
        if self.op and self.op != op:
            return False
        if self.service and self.service != service:
            return False
        if self.method and self.method != method:
            return False
        if self.path and not self.path.search(path):
            return False
        return True

    def fire(self):
        """Called for a matching request: True when the fault applies to it."""
        self.seen += 1
        if self.seen <= self.skip:
            return False
        if self.count is not None and self.hits >= self.count:
            return False
        if self.kind == "throttle":
            now = time.monotonic()
            self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now
            if self.tokens >= 1:
                self.tokens -= 1
                return False
        elif self.probability is not None and self.rng.random() >= self.probability:
            return False
        self.hits += 1
        return True

    def describe(self):
        return dict(self.spec, id=self.id, hits=self.hits, seen=self.seen)


class Faults:
    def __init__(self):
        self.rules = []
        self.next_id = 1

    def add(self, spec):
        r = Rule(self.next_id, spec)
        self.next_id += 1
        self.rules.append(r)
        return r

    def clear(self):
        self.rules = []

    def remove(self, rid):
        self.rules = [r for r in self.rules if r.id != rid]

    def pick(self, service, op, method, path):
        """The first rule that fires for this request, or None. Exhausted count rules stay listed."""
        for r in self.rules:
            if r.matches(service, op, method, path) and r.fire():
                return r
        return None
