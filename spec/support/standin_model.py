"""Wire format of the stand-in, driven by botocore's own service models.

Routing (method + requestUri with labels), input parsing (uri labels, query strings, headers,
JSON body), a generic validation of the input against the model (required members, types,
lengths, ranges, enums) and output serialization (header-bound members, timestamps) all come
from service-2.json, so the stand-in speaks exactly what botocore would send and expect.
"""
import base64
import datetime
import gzip
import json
import os
import re
from urllib.parse import unquote

import botocore

DATA = os.path.join(os.path.dirname(botocore.__file__), "data")

# signing name -> (botocore data folder, api version)
SERVICES = {
    "cases": ("connectcases", "2022-10-03"),
    "profile": ("customer-profiles", "2020-08-15"),
}


class ApiError(Exception):
    """An error answered the AWS restJson1 way: status, x-amzn-ErrorType, JSON body."""

    def __init__(self, status, code, message, extra=None, headers=None):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.extra = extra or {}
        self.headers = headers or {}


TYPE_CHECKS = {
    "structure": lambda v: isinstance(v, dict),
    "list": lambda v: isinstance(v, list),
    "map": lambda v: isinstance(v, dict),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "long": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "double": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "float": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "timestamp": lambda v: isinstance(v, (int, float, str)) and not isinstance(v, bool),
    "blob": lambda v: isinstance(v, str),
}


class Operation:
    def __init__(self, service, name, spec, shapes):
        self.service, self.name, self.spec, self.shapes = service, name, spec, shapes
        http = spec["http"]
        self.method = http["method"]
        self.status = http.get("responseCode", 200)
        uri = http["requestUri"]
        path, _, query = uri.partition("?")
        self.literal_query = dict(p.partition("=")[::2] for p in query.split("&") if p)
        self.labels = []
        rx, literal = "", 0
        for part in re.split(r"(\{[^}]+\})", path):
            if part.startswith("{"):
                name = part[1:-1]
                greedy = name.endswith("+")
                name = name.rstrip("+")
                self.labels.append(name)
                rx += "(?P<%s>%s)" % (_group(name), ".+" if greedy else "[^/]+")
            else:
                rx += re.escape(part)
                literal += len(part)
        self.regex = re.compile("^" + rx + "$")
        self.segments = None if "+}" in path else path.count("/")
        self.groups = [(lab, _group(lab)) for lab in self.labels]
        self.literal = literal
        self.input = shapes.get(spec["input"]["shape"]) if "input" in spec else {"members": {}}
        self.output = shapes.get(spec["output"]["shape"]) if "output" in spec else {"members": {}}

    def match(self, method, path, query):
        if method != self.method:
            return None
        m = self.regex.match(path)
        if not m:
            return None
        for k, v in self.literal_query.items():
            if k not in query:
                return None
        return {lab: unquote(m.group(g)) for lab, g in self.groups}


def _group(name):
    return "L_" + re.sub(r"\W", "_", name)


class Model:
    def __init__(self, signing_name):
        folder, version = SERVICES[signing_name]
        with gzip.open(os.path.join(DATA, folder, version, "service-2.json.gz")) as f:
            m = json.load(f)
        self.signing_name = signing_name
        self.metadata = m["metadata"]
        self.shapes = m["shapes"]
        self.ops = {n: Operation(signing_name, n, o, self.shapes) for n, o in m["operations"].items()}
        # most specific route first: more literal characters, then fewer labels
        self.routes = sorted(self.ops.values(), key=lambda o: (-o.literal, len(o.labels)))
        # bucket by method and segment count (greedy labels go everywhere) so a lookup tries few
        self.buckets = {}
        for o in self.routes:
            self.buckets.setdefault((o.method, o.segments), []).append(o)
        self.greedy = [o for o in self.routes if o.segments is None]
        self._route_cache = {}
        # the error shape's message member ("message" in Cases, "Message" in Profiles)
        self.message_member = "message"
        for s in self.shapes.values():
            if s.get("exception") and "Message" in s.get("members", {}):
                self.message_member = "Message"
                break
        self.validation_code = "ValidationException" if "ValidationException" in self.shapes else "BadRequestException"

    def route(self, method, path, query):
        if not query:   # pollers repeat the same path: remember the answer
            hit = self._route_cache.get((method, path))
            if hit is not None:
                return hit
            if len(self._route_cache) > 20000:
                self._route_cache.clear()
            hit = self._route(method, path, query)
            self._route_cache[(method, path)] = hit
            return hit
        return self._route(method, path, query)

    def _route(self, method, path, query):
        cands = self.buckets.get((method, path.count("/")), [])
        for op in (cands + self.greedy if self.greedy else cands):
            labels = op.match(method, path, query)
            if labels is not None:
                return op, labels
        return None, None

    def bad(self, message):
        return ApiError(400, self.validation_code, message)

    # ---- input ---------------------------------------------------------------------------
    def parse_input(self, op, labels, query, headers, body):
        members = op.input.get("members", {})
        params = {}
        data = {}
        if body:
            try:
                data = json.loads(body)
            except ValueError:
                raise ApiError(400, "SerializationException", "Malformed JSON request body")
            if not isinstance(data, dict):
                raise ApiError(400, "SerializationException", "Request body must be a JSON object")
        for name, m in members.items():
            loc = m.get("location")
            wire = m.get("locationName", name)
            shape = self.shapes[m["shape"]]
            if loc == "uri":
                if wire in labels:
                    params[name] = labels[wire]
            elif loc == "querystring":
                if wire in query:
                    vals = query[wire]
                    params[name] = vals if shape["type"] == "list" else self._scalar(name, shape, vals[-1])
            elif loc == "header":
                v = headers.get(wire.lower())
                if v is not None:
                    params[name] = self._scalar(name, shape, v)
            elif loc is None:
                key = m.get("jsonName", name)
                if key in data:
                    params[name] = data[key]
        self.validate(op.input, params, op.name + "Input")
        return params

    def _scalar(self, name, shape, v):
        t = shape["type"]
        try:
            if t in ("integer", "long"):
                return int(v)
            if t in ("float", "double"):
                return float(v)
            if t == "boolean":
                return {"true": True, "false": False}[v]
        except (ValueError, KeyError):
            raise self.bad("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: "
                           "Member must be of type %s" % (v, name, t))
        return v

    def validate(self, shape, value, where):
        """Check value against shape; raises the service's validation error naming the member."""
        t = shape["type"]
        ok = TYPE_CHECKS.get(t)
        if ok is not None and not ok(value):
            raise self.bad("1 validation error detected: Value at '%s' failed to satisfy constraint: "
                           "Member must be of type %s" % (where, t))
        if t == "structure":
            members = shape.get("members", {})
            for r in shape.get("required", []):
                if r not in value or value[r] is None:
                    raise self.bad("1 validation error detected: Value null at '%s.%s' failed to satisfy "
                                   "constraint: Member must not be null" % (where, r))
            if shape.get("union") and len(value) > 1:
                raise self.bad("Only one member of the union '%s' may be set" % where)
            for k, v in value.items():
                if k in members and v is not None:
                    self.validate(self.shapes[members[k]["shape"]], v, where + "." + k)
        elif t == "list":
            self._bounds(len(value), shape, where, "length")
            inner = self.shapes[shape["member"]["shape"]]
            for i, v in enumerate(value):
                self.validate(inner, v, "%s.%d" % (where, i + 1))
        elif t == "map":
            self._bounds(len(value), shape, where, "length")
            inner = self.shapes[shape["value"]["shape"]]
            for k, v in value.items():
                if v is not None:
                    self.validate(inner, v, "%s.%s" % (where, k))
        elif t == "string":
            self._bounds(len(value), shape, where, "length")
            if "enum" in shape and value not in shape["enum"]:
                raise self.bad("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: "
                               "Member must satisfy enum value set: [%s]" % (value, where, ", ".join(shape["enum"])))
        elif t in ("integer", "long"):
            self._bounds(value, shape, where, "value")

    def _bounds(self, n, shape, where, what):
        lo, hi = shape.get("min"), shape.get("max")
        if lo is not None and n < lo:
            raise self.bad("1 validation error detected: Value at '%s' failed to satisfy constraint: "
                           "Member must have %s greater than or equal to %s" % (where, what, lo))
        if hi is not None and n > hi:
            raise self.bad("1 validation error detected: Value at '%s' failed to satisfy constraint: "
                           "Member must have %s less than or equal to %s" % (where, what, hi))

    # ---- output --------------------------------------------------------------------------
    def serialize_output(self, op, result):
        """-> (status, headers dict, body bytes) for a handler's result dict."""
        headers = {}
        body = {}
        status = op.status
        members = op.output.get("members", {})
        for name, v in (result or {}).items():
            m = members.get(name)
            if v is None:
                continue
            if m is None:
                body[name] = v
                continue
            loc = m.get("location")
            if loc == "header":
                headers[m.get("locationName", name)] = str(v)
            elif loc == "statusCode":
                status = int(v)
            else:
                body[m.get("jsonName", name)] = self._out(self.shapes[m["shape"]], v, m)
        return status, headers, json.dumps(body, separators=(",", ":")).encode()

    def _out(self, shape, v, member=None):
        t = shape["type"]
        if t == "timestamp":
            fmt = (member or {}).get("timestampFormat") or shape.get("timestampFormat") or "unixTimestamp"
            return format_time(v, fmt)
        if t == "structure" and isinstance(v, dict):
            ms = shape.get("members", {})
            return {k: (self._out(self.shapes[ms[k]["shape"]], x, ms[k]) if k in ms else x)
                    for k, x in v.items() if x is not None}
        if t == "list" and isinstance(v, list):
            inner = self.shapes[shape["member"]["shape"]]
            if inner["type"] in ("string", "integer", "boolean", "double", "long"):
                return v
            return [self._out(inner, x) for x in v]
        if t == "map" and isinstance(v, dict):
            inner = self.shapes[shape["value"]["shape"]]
            if inner["type"] == "string":
                return v
            return {k: self._out(inner, x) for k, x in v.items()}
        return v


def format_time(epoch, fmt):
    if fmt == "iso8601":
        d = datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc)
        return d.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (d.microsecond // 1000)
    if fmt == "rfc822":
        d = datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc)
        return d.strftime("%a, %d %b %Y %H:%M:%S GMT")
    return round(epoch, 3)


def page(items, params, token_member="nextToken", max_member="maxResults", default=25):
    """Opaque nextToken paging over a list -> (slice, next token or None)."""
    start = 0
    tok = params.get(token_member)
    if tok:
        try:
            start = int(base64.urlsafe_b64decode(tok.encode()).decode().split(":")[1])
        except (ValueError, IndexError, UnicodeDecodeError):
            raise ApiError(400, "ValidationException", "Invalid nextToken")
    n = params.get(max_member) or default
    chunk = items[start:start + n]
    nxt = None
    if start + n < len(items):
        nxt = base64.urlsafe_b64encode(("p:%d" % (start + n)).encode()).decode()
    return chunk, nxt
