"""Independent SigV4 reference for the specs: signs requests with botocore.

stdin: a JSON list of {method, url, headers: [[name, value], ...], body | body_rep: [unit, count],
akid, secret, token, service, region, time (epoch), mode: "header" | "query" | "s3", expires}.
stdout: a JSON list of {canonical_request, string_to_sign, signature, url, headers}.
"""
import datetime
import json
import sys
from unittest import mock

import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials


def sign(case):
    body = case.get("body", "").encode("utf-8", "surrogateescape")
    if "body_rep" in case:
        unit, count = case["body_rep"]
        body = unit.encode() * count
    req = AWSRequest(method=case["method"], url=case["url"], data=body)
    for name, value in case["headers"]:
        req.headers[name] = value
    creds = Credentials(case["akid"], case["secret"], case.get("token"))
    if case.get("mode") == "s3":
        auth = botocore.auth.S3SigV4Auth(creds, case["service"], case["region"])
    elif case.get("mode") == "query":
        auth = botocore.auth.SigV4QueryAuth(creds, case["service"], case["region"], expires=case["expires"])
    else:
        auth = botocore.auth.SigV4Auth(creds, case["service"], case["region"])
    now = datetime.datetime.fromtimestamp(case["time"], datetime.timezone.utc).replace(tzinfo=None)
    out = {}
    real_cr, real_sts = auth.canonical_request, auth.string_to_sign

    def cr(r):
        out["canonical_request"] = real_cr(r)
        return out["canonical_request"]

    def sts(r, c):
        out["string_to_sign"] = real_sts(r, c)
        return out["string_to_sign"]

    with mock.patch.object(botocore.auth, "get_current_datetime", return_value=now), \
         mock.patch.object(auth, "canonical_request", cr), mock.patch.object(auth, "string_to_sign", sts):
        auth.add_auth(req)
    out["url"] = req.url
    out["headers"] = {k: v for k, v in req.headers.items()}
    a = req.headers.get("Authorization")
    if a:
        out["signature"] = a.rsplit("Signature=", 1)[1]
    else:
        out["signature"] = req.url.rsplit("X-Amz-Signature=", 1)[1]
    return out


def main():
    cases = json.load(sys.stdin)
    json.dump([sign(c) for c in cases], sys.stdout)


if __name__ == "__main__":
    main()
