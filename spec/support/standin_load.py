#!/usr/bin/env python3
"""Measure the stand-in's own capacity: signed GetCase requests (signature verified by the
stand-in on every request) over keep-alive connections from one asyncio client.

  python3 spec/support/standin_load.py http://127.0.0.1:PORT [--conns 8] [--seconds 3]
          [--key AKID:SECRET] [--op GetCase|CreateCase|ListDomains]

Creates a domain, template and case first, then replays one botocore-signed request (valid for
the 5-minute skew window) so the client spends almost nothing per request. Prints one JSON line:
{"op":..., "requests":..., "seconds":..., "rps":..., "p50_ms":..., "p99_ms":..., "errors":...,
"server_cpu_us_per_request":...} (the stand-in's own CPU time, read from /proc, per request).
"""
import argparse
import asyncio
import json
import os
import sys
import time
from urllib.parse import urlsplit

import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials


def setup(url, akid, secret):
    c = boto3.client("connectcases", endpoint_url=url, region_name="us-east-1", aws_access_key_id=akid,
                     aws_secret_access_key=secret, config=Config(retries={"max_attempts": 1}))
    did = c.create_domain(name="load-%d" % int(time.time() * 1000))["domainId"]
    tid = c.create_template(domainId=did, name="t")["templateId"]
    cid = c.create_case(domainId=did, templateId=tid, fields=[{"id": "title", "value": {"stringValue": "x"}}])["caseId"]
    return did, cid, tid


def signed_bytes(url, akid, secret, op, did, cid, tid=None):
    if op == "GetCase":
        path, body = "/domains/%s/cases/%s" % (did, cid), json.dumps({"fields": [{"id": "title"}]})
    elif op == "CreateCase":  # replayed without clientToken: every request creates a case
        path, body = "/domains/%s/cases" % did, json.dumps(
            {"templateId": tid, "fields": [{"id": "title", "value": {"stringValue": "load"}}]})
    else:
        path, body = "/domains-list", ""
    req = AWSRequest(method="POST", url=url + path, data=body.encode(),
                     headers={"Content-Type": "application/json"})
    SigV4Auth(Credentials(akid, secret), "cases", "us-east-1").add_auth(req)
    host = urlsplit(url).netloc
    head = "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n" % (path, host, len(body))
    head += "".join("%s: %s\r\n" % (k, v) for k, v in req.headers.items()) + "\r\n"
    return head.encode() + body.encode()


def server_cpu(url):
    """CPU seconds used so far by the stand-in process (its pid from /_standin/health)."""
    import urllib.request
    pid = json.load(urllib.request.urlopen(url + "/_standin/health"))["pid"]
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def worker(host, port, payload, stop_at, lat, errs):
    r, w = await asyncio.open_connection(host, port)
    while time.monotonic() < stop_at:
        t0 = time.monotonic()
        w.write(payload)
        head = await r.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        n = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                n = int(line.split(b":")[1])
        await r.readexactly(n)
        lat.append(time.monotonic() - t0)
        if status != 200:
            errs.append(status)
    w.close()


async def run(url, payload, conns, seconds):
    u = urlsplit(url)
    lat, errs = [], []
    t0 = time.monotonic()
    await asyncio.gather(*[worker(u.hostname, u.port, payload, t0 + seconds, lat, errs) for _ in range(conns)])
    return lat, errs, time.monotonic() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("url")
    ap.add_argument("--conns", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=3)
    ap.add_argument("--key", default="AKIDSTANDIN:standin/secret/KEY+0123456789abcdefghijklmn")
    ap.add_argument("--op", default="GetCase")
    a = ap.parse_args()
    akid, secret = a.key.split(":", 1)
    did, cid, tid = setup(a.url, akid, secret)
    time.sleep(0.01)
    payload = signed_bytes(a.url, akid, secret, a.op, did, cid, tid)
    cpu0 = server_cpu(a.url)
    lat, errs, el = asyncio.run(run(a.url, payload, a.conns, a.seconds))
    cpu = server_cpu(a.url) - cpu0
    lat.sort()
    q = lambda p: round(lat[min(len(lat) - 1, int(p * len(lat)))] * 1000, 3) if lat else None  # noqa: E731
    print(json.dumps({"op": a.op, "conns": a.conns, "requests": len(lat), "seconds": round(el, 3),
                      "rps": round(len(lat) / el, 1), "p50_ms": q(0.5), "p99_ms": q(0.99), "errors": len(errs),
                      "server_cpu_us_per_request": round(cpu / max(1, len(lat)) * 1e6, 1)}))
    return 1 if errs else 0


if __name__ == "__main__":
    sys.exit(main())
