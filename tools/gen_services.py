#!/usr/bin/env python3
"""Generate lua/laws/services/<name>.lua from botocore's service models.

Run while developing (not at build time); the output is committed. It keeps only what
laws needs to serialise requests and parse answers: operations (method, URI, input and
output shapes, result wrapper), shapes with their types, members and serialisation
traits (location, locationName, idempotencyToken, jsonvalue, flattened, timestampFormat,
payload, union, document), required lists and error traits (code, status, retryable).
Documentation, constraints and enums are dropped.

Compact form, expanded by lua/laws/model.lua:
  shape  = "string" | { "<type>", members = {...}, required = {...}, ... }
  member = "ShapeName" | { "ShapeName", location = ..., locationName = ..., ... }
  op     = { "METHOD", "/uri/{label}", input = "Shape", output = "Shape", wrapper = "XResult",
             unsigned = true (sent without credentials or signature) }

usage: tools/gen_services.py [--out lua/laws/services] [service ...]
"""
import gzip, json, os, sys

SERVICES = {  # botocore name -> Lua module name
    "connectcases": "connectcases",
    "customer-profiles": "customer_profiles",
    "dynamodb": "dynamodb",
    "sts": "sts",
}
META = ("apiVersion", "endpointPrefix", "signingName", "serviceId", "protocol", "jsonVersion",
        "targetPrefix", "xmlNamespace", "globalEndpoint", "uid")
MEMBER_TRAITS = ("location", "locationName", "idempotencyToken", "jsonvalue", "flattened",
                 "timestampFormat", "queryName", "xmlAttribute", "hostLabel", "streaming")
SHAPE_TRAITS = ("payload", "union", "document", "flattened", "timestampFormat", "exception",
                "fault", "jsonvalue", "streaming")


def load(botocore_dir, name):
    d = os.path.join(botocore_dir, "data", name)
    ver = sorted(v for v in os.listdir(d) if os.path.isdir(os.path.join(d, v)))[-1]
    p = os.path.join(d, ver, "service-2.json")
    if os.path.exists(p + ".gz"):
        with gzip.open(p + ".gz", "rt") as f:
            return json.load(f), ver
    with open(p) as f:
        return json.load(f), ver


def lua(v):
    """Lua literal of a JSON-like value, keys sorted so the output is stable."""
    if v is True: return "true"
    if v is False: return "false"
    if isinstance(v, (int, float)): return repr(v)
    if isinstance(v, str): return json.dumps(v)  # JSON string escapes are valid Lua escapes
    if isinstance(v, list): return "{" + ",".join(lua(x) for x in v) + "}"
    if isinstance(v, dict):
        parts = []
        for k in sorted(v, key=lambda k: (not isinstance(k, int), str(k))):
            if isinstance(k, int):
                parts.append(lua(v[k]))
            elif k.isidentifier() and k not in ("end", "and", "or", "not", "function", "local", "nil",
                                                 "true", "false", "then", "if", "else", "elseif",
                                                 "for", "in", "do", "while", "repeat", "until",
                                                 "return", "break", "goto"):
                parts.append(k + "=" + lua(v[k]))
            else:
                parts.append("[" + json.dumps(k) + "]=" + lua(v[k]))
        return "{" + ",".join(parts) + "}"
    raise TypeError(v)


def member(m):
    t = {k: m[k] for k in MEMBER_TRAITS if k in m}
    if not t: return m["shape"]
    t[0] = m["shape"]
    return t


def shape(s):
    t = {k: s[k] for k in SHAPE_TRAITS if k in s}
    if "members" in s: t["members"] = {k: member(v) for k, v in s["members"].items()}
    if s.get("required"): t["required"] = s["required"]
    for k in ("member", "key", "value"):
        if k in s: t[k] = member(s[k])
    if "error" in s:
        t["error"] = {k: v for k, v in s["error"].items() if k in ("code", "httpStatusCode", "senderFault")}
    if "retryable" in s:
        t["retryable"] = {"throttling": bool(s["retryable"].get("throttling"))}
    if not t: return s["type"]
    t[0] = s["type"]
    return t


def operation(o):
    t = {0: o["http"].get("method", "POST")}
    t[1] = o["http"].get("requestUri", "/")
    t = {0: t[0], 1: t[1]}
    if "input" in o: t["input"] = o["input"]["shape"]
    if "output" in o:
        t["output"] = o["output"]["shape"]
        if "resultWrapper" in o["output"]: t["wrapper"] = o["output"]["resultWrapper"]
    if o["http"].get("responseCode") not in (None, 200): t["code"] = o["http"]["responseCode"]
    if unsigned(o): t["unsigned"] = True
    return t


def unsigned(o):
    """Operations AWS serves without a signature (STS AssumeRoleWithWebIdentity / WithSAML)."""
    return o.get("authtype") == "none" or o.get("auth") == ["smithy.api#noAuth"]


def shift(t):  # our dicts use 0,1 for positional entries; Lua lists start at 1
    if isinstance(t, dict):
        out = {}
        for k, v in t.items():
            out[k + 1 if isinstance(k, int) else k] = shift(v)
        return out
    if isinstance(t, list): return [shift(x) for x in t]
    return t


def generate(model, ver, src):
    meta = {k: model["metadata"][k] for k in META if k in model["metadata"]}
    ops = {n: shift(operation(o)) for n, o in model["operations"].items()}
    shapes = {n: shift(shape(s)) for n, s in model["shapes"].items()}
    lines = ["-- Generated by tools/gen_services.py from botocore's %s (API %s). Do not edit." % (src, ver),
             "-- %d operations, %d shapes; compact form described in tools/gen_services.py." % (len(ops), len(shapes)),
             "return {", "metadata=" + lua(meta) + ",", "operations={"]
    for n in sorted(ops): lines.append(lua({n: ops[n]})[1:-1] + ",")
    lines += ["},", "shapes={"]
    for n in sorted(shapes): lines.append(lua({n: shapes[n]})[1:-1] + ",")
    lines += ["},", "}", ""]
    return "\n".join(lines)


def main(argv):
    import botocore
    out = "lua/laws/services"
    if argv[:1] == ["--out"]: out, argv = argv[1], argv[2:]
    for name in argv or SERVICES:
        model, ver = load(os.path.dirname(botocore.__file__), name)
        src = "data/%s/%s/service-2.json (botocore %s)" % (name, ver, botocore.__version__)
        path = os.path.join(out, SERVICES.get(name, name.replace("-", "_")) + ".lua")
        with open(path, "w") as f:
            f.write(generate(model, ver, src))
        print("%s: %d operations -> %s (%d bytes)" % (name, len(model["operations"]), path, os.path.getsize(path)))


if __name__ == "__main__":
    main(sys.argv[1:])
