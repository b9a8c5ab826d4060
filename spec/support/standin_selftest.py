#!/usr/bin/env python3
"""Checks the stand-in (and moto) with REAL boto3/botocore clients. Prints TAP ("ok N - name",
"not ok N - name" plus "# detail" lines); spec/standin_spec.lua turns each line into a test.

  python3 spec/support/standin_selftest.py --url http://127.0.0.1:PORT [--moto-url URL --moto-key AKID:SECRET]
"""
import argparse
import os
import http.client
import json
import socket
import statistics
import sys
import threading
import time
import traceback
import urllib.error
import urllib.request
from urllib.parse import urlsplit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import boto3  # noqa: E402
from botocore.auth import SigV4Auth  # noqa: E402
from botocore.awsrequest import AWSRequest  # noqa: E402
from botocore.config import Config  # noqa: E402
from botocore.credentials import Credentials  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402

AKID, SECRET = "AKIDSTANDIN", "standin/secret/KEY+0123456789abcdefghijklmn"
TMP = ("ASIASTANDIN", "standin/temporary/SECRET+abcdefghij0123456789", "standin-session-token//+=")
NO_RETRY = Config(retries={"total_max_attempts": 1, "mode": "standard"}, connect_timeout=2, read_timeout=3)

results = []


def check(name):
    def deco(fn):
        results.append((name, fn))
        return fn
    return deco


class Ctx:
    def __init__(self, url):
        self.url = url
        u = urlsplit(url)
        self.host, self.port = u.hostname, u.port

    def client(self, svc="connectcases", **kw):
        args = dict(endpoint_url=self.url, region_name="us-east-1", aws_access_key_id=AKID,
                    aws_secret_access_key=SECRET, config=NO_RETRY)
        args.update(kw)
        return boto3.client(svc, **args)

    def control(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + "/_standin" + path, data=data, method=method)
        with urllib.request.urlopen(req) as r:
            return json.load(r)

    def raw(self, method, path, body=b"", headers=None, sign=True, service="cases", creds=None, when=None):
        """Send one request with http.client; signed by botocore's SigV4Auth unless sign=False."""
        req = AWSRequest(method=method, url=self.url + path, data=body, headers=dict(headers or {}))
        if sign:
            SigV4Auth(Credentials(*(creds or (AKID, SECRET))), service, "us-east-1").add_auth(req)
        c = http.client.HTTPConnection(self.host, self.port, timeout=5)
        c.request(method, path, body=body, headers=dict(req.headers.items()))
        r = c.getresponse()
        out = (r.status, {k.lower(): v for k, v in r.getheaders()}, r.read())
        c.close()
        return out

    def setup_domain(self, cases=None):
        cases = cases or self.client()
        did = cases.create_domain(name="d-%f" % time.time())["domainId"]
        tid = cases.create_template(domainId=did, name="t", requiredFields=[{"fieldId": "title"}])["templateId"]
        return did, tid


def fields(title, customer="cust-1"):
    return [{"id": "title", "value": {"stringValue": title}},
            {"id": "customer_id", "value": {"stringValue": customer}}]


def error_of(fn):
    try:
        fn()
    except ClientError as e:
        return e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"], e
    return None, None, None


def expect(cond, detail):
    if not cond:
        raise AssertionError(detail)


# ---- Connect Cases basics --------------------------------------------------------------------
@check("cases: create domain, field, template, layout, case; GetCase reads it back")
def t_basics(x):
    c = x.client()
    did, tid = x.setup_domain(c)
    fid = c.create_field(domainId=did, name="priority", type="Text")["fieldId"]
    c.create_layout(domainId=did, name="l", content={"basic": {}})
    got = c.batch_get_field(domainId=did, fields=[{"id": fid}, {"id": "nope"}])
    expect(got["fields"][0]["name"] == "priority" and got["errors"][0]["id"] == "nope", got)
    expect(any(f["fieldId"] == "title" for f in c.list_fields(domainId=did)["fields"]), "system fields listed")
    expect(c.get_template(domainId=did, templateId=tid)["name"] == "t", "GetTemplate")
    expect(len(c.list_templates(domainId=did)["templates"]) == 1, "ListTemplates")
    expect(any(d["domainId"] == did for d in c.list_domains()["domains"]), "ListDomains")
    cid = c.create_case(domainId=did, templateId=tid,
                        fields=fields("hello") + [{"id": fid, "value": {"stringValue": "high"}}])["caseId"]
    r = c.get_case(domainId=did, caseId=cid, fields=[{"id": "title"}, {"id": fid}])
    vals = {f["id"]: f["value"]["stringValue"] for f in r["fields"]}
    expect(vals == {"title": "hello", fid: "high"}, vals)
    c.update_case(domainId=did, caseId=cid, fields=[{"id": "title", "value": {"stringValue": "changed"}}])
    r = c.get_case(domainId=did, caseId=cid, fields=[{"id": "title"}])
    expect(r["fields"][0]["value"]["stringValue"] == "changed", r)
    expect(c.get_domain(domainId=did)["createdTime"].year >= 2024, "createdTime is an iso8601 timestamp")


@check("cases: missing template -> 404 ResourceNotFoundException with resourceId; missing required field -> 400")
def t_errors(x):
    c = x.client()
    did, tid = x.setup_domain(c)
    code, status, e = error_of(lambda: c.create_case(domainId=did, templateId="nope", fields=fields("a")))
    expect((code, status) == ("ResourceNotFoundException", 404), (code, status))
    expect(e.response.get("resourceId") == "nope" or "nope" in e.response["Error"]["Message"], e.response)
    code, status, _ = error_of(lambda: c.create_case(domainId=did, templateId=tid,
                                                     fields=[{"id": "customer_id", "value": {"stringValue": "x"}}]))
    expect((code, status) == ("ValidationException", 400), (code, status))
    nv = x.client(config=Config(retries={"total_max_attempts": 1}, parameter_validation=False))
    code, status, _ = error_of(lambda: nv.create_domain(name=""))
    expect((code, status) == ("ValidationException", 400), ("model min length enforced", code, status))


@check("cases: related items: CreateRelatedItem then SearchRelatedItems with a type filter")
def t_related(x):
    c = x.client()
    did, tid = x.setup_domain(c)
    cid = c.create_case(domainId=did, templateId=tid, fields=fields("r"))["caseId"]
    c.create_related_item(domainId=did, caseId=cid, type="Comment",
                          content={"comment": {"body": "hi", "contentType": "Text/Plain"}})
    c.create_related_item(domainId=did, caseId=cid, type="Contact",
                          content={"contact": {"contactArn": "arn:aws:connect:us-east-1:123456789012:instance/i/contact/c"}})
    allr = c.search_related_items(domainId=did, caseId=cid)["relatedItems"]
    com = c.search_related_items(domainId=did, caseId=cid, filters=[{"comment": {}}])["relatedItems"]
    expect(len(allr) == 2 and len(com) == 1 and com[0]["content"]["comment"]["body"] == "hi", (allr, com))


@check("cases: SearchCases filters by case_id, title, customer_id (andAll/orAll/not) and pages with nextToken")
def t_search(x):
    c = x.client()
    did, tid = x.setup_domain(c)
    ids = [c.create_case(domainId=did, templateId=tid, fields=fields("t%d" % i, "c%d" % (i % 2)))["caseId"]
           for i in range(7)]
    eq = lambda f, v: {"field": {"equalTo": {"id": f, "value": {"stringValue": v}}}}  # noqa: E731
    r = c.search_cases(domainId=did, filter=eq("case_id", ids[3]), fields=[{"id": "title"}])
    expect([k["caseId"] for k in r["cases"]] == [ids[3]] and r["cases"][0]["fields"][0]["value"]["stringValue"] == "t3", r)
    expect(len(c.search_cases(domainId=did, filter=eq("customer_id", "c1"))["cases"]) == 3, "customer_id")
    r = c.search_cases(domainId=did, filter={"andAll": [eq("customer_id", "c0"), {"not": eq("title", "t0")}]})
    expect(len(r["cases"]) == 3, r)
    r = c.search_cases(domainId=did, filter={"orAll": [eq("title", "t1"), eq("title", "t2")]})
    expect(len(r["cases"]) == 2, r)
    seen, tok = [], None
    for _ in range(10):
        kw = {"nextToken": tok} if tok else {}
        r = c.search_cases(domainId=did, maxResults=3, **kw)
        seen += [k["caseId"] for k in r["cases"]]
        tok = r.get("nextToken")
        if not tok:
            break
    expect(sorted(seen) == sorted(ids) and len(seen) == 7, "paging returned every case once")


@check("cases: clientToken: same token + same body -> same caseId, no new case; other body -> 409")
def t_idem(x):
    c = x.client()
    did, tid = x.setup_domain(c)
    before = x.control("GET", "/stats")["cases_created"]
    a = c.create_case(domainId=did, templateId=tid, fields=fields("idem"), clientToken="tok-1")["caseId"]
    b = c.create_case(domainId=did, templateId=tid, fields=fields("idem"), clientToken="tok-1")["caseId"]
    after = x.control("GET", "/stats")["cases_created"]
    expect(a == b and after - before == 1, (a, b, after - before))
    code, status, _ = error_of(lambda: c.create_case(domainId=did, templateId=tid, fields=fields("other"),
                                                     clientToken="tok-1"))
    expect((code, status) == ("ConflictException", 409), (code, status))


# ---- visibility lag --------------------------------------------------------------------------
@check("lag: GetCase 404 until the lag has passed, then 200; visibility record has the moment")
def t_lag(x):
    c = x.client()
    did, tid = x.setup_domain(c)
    x.control("POST", "/lag", {"fixed": 0.4})
    try:
        t0 = time.monotonic()
        cid = c.create_case(domainId=did, templateId=tid, fields=fields("lag"))["caseId"]
        code, status, _ = error_of(lambda: c.get_case(domainId=did, caseId=cid, fields=[{"id": "title"}]))
        expect((code, status) == ("ResourceNotFoundException", 404), ("before lag", code, status))
        while time.monotonic() - t0 < 0.45:
            time.sleep(0.05)
        c.get_case(domainId=did, caseId=cid, fields=[{"id": "title"}])
        rec = x.control("GET", "/visibility/" + cid)
        expect(abs(rec["lag"] - 0.4) < 1e-9 and rec["first_seen_mono"] >= rec["visible_mono"]
               and rec["reads_before_visible"] >= 1 and rec["visible_wall"] > rec["created_wall"], rec)
    finally:
        x.control("POST", "/lag", {"fixed": 0})


@check("lag: SearchCases does not list a new case until visible, then does")
def t_lag_search(x):
    c = x.client()
    did, tid = x.setup_domain(c)
    x.control("POST", "/lag", {"fixed": 0.3, "service": "cases"})
    try:
        cid = c.create_case(domainId=did, templateId=tid, fields=fields("s"))["caseId"]
        flt = {"field": {"equalTo": {"id": "case_id", "value": {"stringValue": cid}}}}
        expect(c.search_cases(domainId=did, filter=flt)["cases"] == [], "empty before the lag")
        time.sleep(0.35)
        expect(len(c.search_cases(domainId=did, filter=flt)["cases"]) == 1, "listed after the lag")
    finally:
        x.control("POST", "/lag", {"fixed": 0})


@check("lag: log-normal (median 0.1 s, p95 1 s, seeded) draws match and repeat with the same seed")
def t_lognormal(x):
    c = x.client()
    did, tid = x.setup_domain(c)

    def draw():
        x.control("POST", "/lag", {"median": 0.1, "p95": 1.0, "seed": 42})
        ids = [c.create_case(domainId=did, templateId=tid, fields=fields("ln"))["caseId"] for _ in range(300)]
        return [x.control("GET", "/visibility/" + i)["lag"] for i in ids]
    try:
        a = draw()
        b = draw()
    finally:
        x.control("POST", "/lag", {"fixed": 0})
    a_sorted = sorted(a)
    med, p95 = statistics.median(a), a_sorted[int(0.95 * len(a)) - 1]
    expect(a == b, "same seed, same lags")
    expect(0.07 < med < 0.14 and 0.6 < p95 < 1.6, ("median", med, "p95", p95))


@check("profiles: domain, CreateProfile (lagged), SearchProfiles by _profileId/_email, Update, Delete")
def t_profiles(x):
    p = x.client("customer-profiles")
    name = "pd%d" % int(time.time() * 1000)
    p.create_domain(DomainName=name, DefaultExpirationDays=30)
    expect(p.get_domain(DomainName=name)["DefaultExpirationDays"] == 30, "GetDomain")
    x.control("POST", "/lag", {"fixed": 0.3, "service": "profiles"})
    try:
        pid = p.create_profile(DomainName=name, FirstName="Ann", LastName="Lee", EmailAddress="ann@example.com")["ProfileId"]
        expect(p.search_profiles(DomainName=name, KeyName="_profileId", Values=[pid])["Items"] == [], "hidden")
        time.sleep(0.35)
    finally:
        x.control("POST", "/lag", {"fixed": 0})
    items = p.search_profiles(DomainName=name, KeyName="_email", Values=["ann@example.com"])["Items"]
    expect(len(items) == 1 and items[0]["ProfileId"] == pid and items[0]["FirstName"] == "Ann", items)
    p.update_profile(DomainName=name, ProfileId=pid, FirstName="Anne")
    items = p.search_profiles(DomainName=name, KeyName="_fullName", Values=["Anne Lee"])["Items"]
    expect(len(items) == 1, ("_fullName after update", items))
    expect(p.list_profile_objects(DomainName=name, ProfileId=pid, ObjectTypeName="x")["Items"] == [], "objects")
    p.delete_profile(DomainName=name, ProfileId=pid)
    expect(p.search_profiles(DomainName=name, KeyName="_profileId", Values=[pid])["Items"] == [], "deleted")
    code, status, _ = error_of(lambda: p.get_domain(DomainName="missing-domain"))
    expect((code, status) == ("ResourceNotFoundException", 404), (code, status))
    code, status, _ = error_of(lambda: p.create_domain(DomainName=name, DefaultExpirationDays=30))
    expect((code, status) == ("BadRequestException", 400), (code, status))


# ---- signatures ------------------------------------------------------------------------------
@check("auth: wrong secret -> 403 InvalidSignatureException with AWS's message")
def t_badsig(x):
    code, status, e = error_of(lambda: x.client(aws_secret_access_key="wrong").list_domains())
    expect((code, status) == ("InvalidSignatureException", 403), (code, status))
    expect("does not match the signature you provided" in e.response["Error"]["Message"], e.response)


@check("auth: unknown access key -> 403 UnrecognizedClientException")
def t_unknown_key(x):
    code, status, _ = error_of(lambda: x.client(aws_access_key_id="AKIDNOBODY").list_domains())
    expect((code, status) == ("UnrecognizedClientException", 403), (code, status))


@check("auth: temporary credentials need their session token")
def t_token(x):
    good = x.client(aws_access_key_id=TMP[0], aws_secret_access_key=TMP[1], aws_session_token=TMP[2])
    good.list_domains()
    code, status, _ = error_of(lambda: x.client(aws_access_key_id=TMP[0], aws_secret_access_key=TMP[1],
                                                aws_session_token="wrong-token").list_domains())
    expect((code, status) == ("UnrecognizedClientException", 403), (code, status))


@check("auth: keys added at run time work, expire (403 ExpiredTokenException), are removed; stats count per key")
def t_keys(x):
    k = {"access_key_id": "ASIARUNTIME", "secret_access_key": "runtime/secret", "session_token": "tok-1"}
    x.control("POST", "/keys", dict(k, expires_in=1.5))
    cl = x.client(aws_access_key_id=k["access_key_id"], aws_secret_access_key=k["secret_access_key"],
                  aws_session_token=k["session_token"])
    cl.list_domains()
    listed = {e["access_key_id"]: e for e in x.control("GET", "/keys")["keys"]}
    expect(listed["ASIARUNTIME"]["session_token"] is True and "secret" not in json.dumps(listed), listed)
    expect(x.control("GET", "/stats")["keys"].get("ASIARUNTIME") == 1, "counted per key")
    time.sleep(1.6)
    code, status, _ = error_of(cl.list_domains)
    expect((code, status) == ("ExpiredTokenException", 403), ("expired", code, status))
    x.control("DELETE", "/keys/ASIARUNTIME")
    code, status, _ = error_of(cl.list_domains)
    expect((code, status) == ("UnrecognizedClientException", 403), ("removed", code, status))


@check("auth: no Authorization -> 403 MissingAuthenticationTokenException; x-amzn-RequestId and Date present")
def t_missing(x):
    status, h, body = x.raw("POST", "/domains-list", b"", sign=False)
    expect(status == 403 and h.get("x-amzn-errortype") == "MissingAuthenticationTokenException", (status, h))
    expect(json.loads(body)["message"] == "Missing Authentication Token" and h.get("x-amzn-requestid") and h.get("date"), h)


@check("auth: tampered body -> InvalidSignatureException; signed query string is verified")
def t_tamper(x):
    req = AWSRequest(method="POST", url=x.url + "/domains-list?maxResults=5", data=b"",
                     headers={"Content-Type": "application/json"})
    SigV4Auth(Credentials(AKID, SECRET), "cases", "us-east-1").add_auth(req)
    hdrs = dict(req.headers.items())
    for path, body, want in (("/domains-list?maxResults=5", b"", 200), ("/domains-list?maxResults=6", b"", 403),
                             ("/domains-list?maxResults=5", b"{}", 403)):
        c = http.client.HTTPConnection(x.host, x.port, timeout=5)
        c.request("POST", path, body=body, headers=hdrs)
        r = c.getresponse()
        r.read()
        expect(r.status == want, (path, body, r.status))
        c.close()


@check("auth: X-Amz-Date 10 min off the server clock -> 403 InvalidSignatureException 'Signature expired'; Date header follows the server clock")
def t_skew(x):
    x.control("POST", "/config", {"clock_offset": 600})
    try:
        code, status, e = error_of(lambda: x.client().list_domains())
        expect((code, status) == ("InvalidSignatureException", 403), (code, status))
        expect(e.response["Error"]["Message"].startswith("Signature not yet current")
               or e.response["Error"]["Message"].startswith("Signature expired"), e.response["Error"])
        date = e.response["ResponseMetadata"]["HTTPHeaders"]["date"]
        import email.utils
        off = email.utils.parsedate_to_datetime(date).timestamp() - time.time()
        expect(550 < off < 650, ("Date header offset", off))
        x.control("POST", "/config", {"skew_error": "RequestTimeTooSkewed"})
        code, status, _ = error_of(lambda: x.client().list_domains())
        expect((code, status) == ("RequestTimeTooSkewed", 403), ("skew_error", code, status))
    finally:
        x.control("POST", "/config", {"clock_offset": 0, "skew_error": "InvalidSignatureException"})
    x.client().list_domains()


@check("auth: a third signer, curl --aws-sigv4, is accepted; with a wrong secret refused")
def t_curl(x):
    import subprocess

    def run(secret):
        out = subprocess.run(["curl", "-s", "-X", "POST", "--aws-sigv4", "aws:amz:us-east-1:cases", "--user",
                              AKID + ":" + secret, "-H", "Content-Type: application/json", "-d", "{}",
                              "-w", "\n%{http_code}", x.url + "/domains-list"], capture_output=True, timeout=10)
        return out.stdout.decode().rsplit("\n", 1)[-1]
    expect(run(SECRET) == "200" and run("wrong") == "403", "curl --aws-sigv4")


@check("auth: signing name routes CreateDomain to Cases (name) or Profiles (DomainName) on one port")
def t_routing(x):
    status, h, body = x.raw("POST", "/domains/abc", json.dumps({"DefaultExpirationDays": 5}).encode(),
                            headers={"Content-Type": "application/json"}, service="profile")
    expect(status == 200 and json.loads(body)["DomainName"] == "abc", (status, body))
    status, h, body = x.raw("POST", "/domains/abc", b"{}", headers={"Content-Type": "application/json"}, service="cases")
    expect(status == 404 and h["x-amzn-errortype"] == "ResourceNotFoundException", (status, h))


@check("auth: presigned URL (botocore generate_presigned_url) works; tampered or expired -> 403")
def t_presign(x):
    p = x.client("customer-profiles")
    p.create_domain(DomainName="presign", DefaultExpirationDays=3)

    def get(url):
        try:
            with urllib.request.urlopen(url) as r:
                return r.status, json.load(r)
        except urllib.error.HTTPError as e:
            return e.code, {"code": e.headers.get("x-amzn-ErrorType"), "body": e.read().decode()}
    url = p.generate_presigned_url("get_domain", Params={"DomainName": "presign"}, ExpiresIn=60)
    status, body = get(url)
    expect(status == 200 and body["DomainName"] == "presign", (status, body))
    status, body = get(url.replace("/domains/presign", "/domains/other"))
    expect(status == 403 and body["code"] == "InvalidSignatureException", (status, body))
    url = p.generate_presigned_url("get_domain", Params={"DomainName": "presign"}, ExpiresIn=1)
    time.sleep(2.1)
    status, body = get(url)
    expect(status == 403 and "expired" in body["body"], (status, body))


@check("unknown operation -> 404 UnknownOperationException")
def t_unknown_op(x):
    status, h, _ = x.raw("POST", "/no-such-thing", b"{}")
    expect(status == 404 and h["x-amzn-errortype"] == "UnknownOperationException", (status, h))


# ---- faults ----------------------------------------------------------------------------------
def fault(x, **rule):
    x.control("DELETE", "/faults")
    return x.control("POST", "/faults", rule)["ids"][0]


@check("fault: 429 ThrottlingException with Retry-After and x-amz-retry-after, count 1 then normal")
def t_f_throttle(x):
    c = x.client()
    fault(x, kind="error", op="ListDomains", status=429, count=1, retry_after=2, x_amz_retry_after=1500)
    code, status, e = error_of(lambda: c.list_domains())
    h = e.response["ResponseMetadata"]["HTTPHeaders"] if e else {}
    expect((code, status) == ("ThrottlingException", 429) and h.get("retry-after") == "2"
           and h.get("x-amz-retry-after") == "1500", (code, status, h))
    c.list_domains()
    x.control("DELETE", "/faults")


@check("fault: 500 InternalServerException and 503 as botocore sees them (retries off)")
def t_f_500(x):
    c = x.client()
    fault(x, kind="error", op="ListDomains", status=500, count=1)
    code, status, _ = error_of(lambda: c.list_domains())
    expect((code, status) == ("InternalServerException", 500), (code, status))
    fault(x, kind="error", op="ListDomains", status=503, count=1)
    code, status, _ = error_of(lambda: c.list_domains())
    expect(status == 503 and code == "ServiceUnavailableException", (code, status))
    x.control("DELETE", "/faults")


@check("fault: throttle rate 5/s: a burst of 20 requests gets 429s, stats count them")
def t_f_rate(x):
    c = x.client()
    fault(x, kind="throttle", op="ListDomains", rate=5, burst=5)
    codes = [error_of(c.list_domains)[0] for _ in range(20)]
    n = codes.count("ThrottlingException")
    st = x.control("GET", "/stats")
    x.control("DELETE", "/faults")
    expect(10 <= n <= 15 and st["faults"].get("throttle", 0) >= n, (n, st["faults"]))


@check("fault: reset before the handler: botocore sees a connection error, no case created")
def t_f_reset_before(x):
    c = x.client()
    did, tid = x.setup_domain(c)
    before = x.control("GET", "/stats")["cases_created"]
    fault(x, kind="reset_before", op="CreateCase", count=1)
    try:
        c.create_case(domainId=did, templateId=tid, fields=fields("rb"))
        raise AssertionError("no error")
    except ClientError as e:
        raise AssertionError("expected a connection error, got %r" % e)
    except Exception as e:  # botocore ConnectionClosedError / ReadTimeout / ProtocolError
        name = type(e).__name__
    expect(x.control("GET", "/stats")["cases_created"] == before, "handler did not run")
    expect("Connection" in name or "Protocol" in name, name)
    x.control("DELETE", "/faults")


@check("fault: reset after commit: the case exists on the server although the client got no answer")
def t_f_reset_after(x):
    c = x.client()
    did, tid = x.setup_domain(c)
    before = x.control("GET", "/stats")["cases_created"]
    fault(x, kind="reset_after", op="CreateCase", count=1)
    failed = False
    try:
        c.create_case(domainId=did, templateId=tid, fields=fields("ra"), clientToken="ra-1")
    except Exception:
        failed = True
    expect(failed and x.control("GET", "/stats")["cases_created"] == before + 1, "one case, no answer")
    r = c.create_case(domainId=did, templateId=tid, fields=fields("ra"), clientToken="ra-1")
    expect(x.control("GET", "/stats")["cases_created"] == before + 1 and r["caseId"], "retry with token: same case")
    x.control("DELETE", "/faults")


@check("fault: 500 after commit: botocore sees 500, the case was created once")
def t_f_error_after(x):
    c = x.client()
    did, tid = x.setup_domain(c)
    before = x.control("GET", "/stats")["cases_created"]
    fault(x, kind="error_after", op="CreateCase", count=1)
    code, status, _ = error_of(lambda: c.create_case(domainId=did, templateId=tid, fields=fields("ea")))
    expect((code, status) == ("InternalServerException", 500), (code, status))
    expect(x.control("GET", "/stats")["cases_created"] == before + 1, "created once")
    x.control("DELETE", "/faults")


@check("fault: slow response (0.5 s) arrives late; other connections are served meanwhile")
def t_f_slow(x):
    c = x.client()
    fault(x, kind="slow", op="ListDomains", delay=0.5, count=1)
    other = {}

    def side():
        time.sleep(0.1)
        t = time.monotonic()
        x.client().get_domain  # noqa: B018 - build outside the timing
        x.control("GET", "/health")
        other["dt"] = time.monotonic() - t
    th = threading.Thread(target=side)
    th.start()
    t0 = time.monotonic()
    c.list_domains()
    dt = time.monotonic() - t0
    th.join()
    x.control("DELETE", "/faults")
    expect(dt >= 0.5 and other["dt"] < 0.3, (dt, other))


@check("fault: slow CreateCase whose client timed out still commits the case (once)")
def t_f_slow_commit(x):
    c = x.client()
    did, tid = x.setup_domain(c)
    before = x.control("GET", "/stats")["cases_created"]
    fault(x, kind="slow", op="CreateCase", delay=0.6, count=1)
    impatient = x.client(config=Config(retries={"total_max_attempts": 1}, read_timeout=0.2))
    try:
        impatient.create_case(domainId=did, templateId=tid, fields=fields("slow"), clientToken="slow-1")
        raise AssertionError("no timeout")
    except ClientError as e:
        raise AssertionError("expected a read timeout, got %r" % e)
    except Exception as e:  # noqa: BLE001 - botocore ReadTimeoutError
        expect("timeout" in type(e).__name__.lower() or "timed out" in str(e).lower(), repr(e))
    time.sleep(0.6)
    expect(x.control("GET", "/stats")["cases_created"] == before + 1, "committed after the delay")
    c.create_case(domainId=did, templateId=tid, fields=fields("slow"), clientToken="slow-1")
    expect(x.control("GET", "/stats")["cases_created"] == before + 1, "the retry found its token")
    x.control("DELETE", "/faults")


@check("fault: close_after (server drops the keep-alive connection after answering): next calls still work")
def t_f_close(x):
    # the stand-in sends the FIN with the answer's last bytes, so the client has seen the drop
    # before it could reuse the connection: the next call must open a new one and succeed
    c = x.client()
    c.list_domains()   # warm: the fault below then hits a call made on a reused connection
    before = x.control("GET", "/stats")["faults"].get("close_after", 0)
    fault(x, kind="close_after", op="ListDomains", count=1)
    c.list_domains()
    c.list_domains()
    st = x.control("GET", "/stats")
    x.control("DELETE", "/faults")
    expect(st["faults"].get("close_after", 0) - before == 1, ("close_after hits", before, st["faults"]))
    ports = [r["client_port"] for r in x.control("GET", "/requests?n=10")["requests"]
             if r.get("op") == "ListDomains"][-3:]
    expect(ports[0] == ports[1] and ports[2] != ports[1],
           ("warm and faulted call share a connection, the next call opens a new one", ports))


@check("fault: truncated body -> botocore fails to read the response")
def t_f_truncated(x):
    c = x.client()
    fault(x, kind="truncated", op="ListDomains", count=1)
    try:
        c.list_domains()
        ok = False
    except Exception:
        ok = True
    x.control("DELETE", "/faults")
    expect(ok, "no error on a truncated body")


@check("fault: malformed (non-JSON) body with status 502 -> botocore error with status 502")
def t_f_malformed(x):
    c = x.client()
    fault(x, kind="malformed", op="ListDomains", status=502, count=1)
    code, status, _ = error_of(lambda: c.list_domains())
    x.control("DELETE", "/faults")
    expect(status == 502, (code, status))


@check("fault: probability 0.5 seeded hits about half of 40 requests; skip lets the first K through")
def t_f_prob(x):
    c = x.client()
    fault(x, kind="error", op="ListDomains", status=500, probability=0.5, seed=7)
    n = sum(1 for _ in range(40) if error_of(c.list_domains)[1] == 500)
    fault(x, kind="error", op="ListDomains", status=500, skip=2, count=1)
    seq = [error_of(c.list_domains)[1] for _ in range(4)]
    x.control("DELETE", "/faults")
    expect(10 <= n <= 30 and seq == [None, None, 500, None], (n, seq))


# ---- wire details, stats, concurrency --------------------------------------------------------
@check("error styles: x-amzn-ErrorType with ':http://internal...' suffix and body __type both parse in botocore")
def t_styles(x):
    for style in ("header_suffix", "body_type"):
        x.control("POST", "/config", {"error_style": style})
        code, status, _ = error_of(lambda: x.client().get_domain(domainId="nope"))
        expect((code, status) == ("ResourceNotFoundException", 404), (style, code, status))
    x.control("POST", "/config", {"error_style": "header"})


@check("stats: amz-sdk-invocation-id / amz-sdk-request seen per request, requests per operation")
def t_stats(x):
    c = x.client()
    c.list_domains()
    recent = x.control("GET", "/requests?n=5")["requests"]
    last = [r for r in recent if r.get("op") == "ListDomains"][-1]
    expect(len(last["invocation_id"] or "") == 36 and last["sdk_request"].startswith("attempt=1"), last)
    expect(x.control("GET", "/stats")["operations"]["ListDomains"] >= 1, "counted")


@check("http: Expect: 100-continue and a chunked request body are handled")
def t_http(x):
    body = json.dumps({"name": "chunky-%f" % time.time()}).encode()
    req = AWSRequest(method="POST", url=x.url + "/domains", data=body, headers={"Content-Type": "application/json"})
    SigV4Auth(Credentials(AKID, SECRET), "cases", "us-east-1").add_auth(req)
    s = socket.create_connection((x.host, x.port), timeout=5)
    head = "POST /domains HTTP/1.1\r\nHost: %s:%d\r\nTransfer-Encoding: chunked\r\n" % (x.host, x.port)
    head += "".join("%s: %s\r\n" % kv for kv in req.headers.items()) + "\r\n"
    s.sendall(head.encode() + b"%x\r\n" % 5 + body[:5] + b"\r\n" + b"%x\r\n" % (len(body) - 5) + body[5:]
              + b"\r\n0\r\n\r\n")
    resp = s.recv(65536)
    s.close()
    expect(resp.startswith(b"HTTP/1.1 200"), resp[:200])
    body = json.dumps({"name": "expect-%f" % time.time()}).encode()
    req = AWSRequest(method="POST", url=x.url + "/domains", data=body, headers={"Content-Type": "application/json"})
    SigV4Auth(Credentials(AKID, SECRET), "cases", "us-east-1").add_auth(req)
    s = socket.create_connection((x.host, x.port), timeout=5)
    head = "POST /domains HTTP/1.1\r\nHost: %s:%d\r\nContent-Length: %d\r\nExpect: 100-continue\r\n" % (
        x.host, x.port, len(body))
    head += "".join("%s: %s\r\n" % kv for kv in req.headers.items()) + "\r\n"
    s.sendall(head.encode())
    cont = s.recv(100)
    s.sendall(body)
    resp = s.recv(65536)
    s.close()
    expect(cont.startswith(b"HTTP/1.1 100") and resp.startswith(b"HTTP/1.1 200"), (cont, resp[:100]))


@check("concurrency: 16 threads x 25 signed GetCase calls over keep-alive all succeed")
def t_conc(x):
    c = x.client()
    did, tid = x.setup_domain(c)
    cid = c.create_case(domainId=did, templateId=tid, fields=fields("cc"))["caseId"]
    errs = []

    def run():
        cl = x.client()
        for _ in range(25):
            try:
                cl.get_case(domainId=did, caseId=cid, fields=[{"id": "title"}])
            except Exception as e:  # noqa: BLE001
                errs.append(repr(e))
    ths = [threading.Thread(target=run) for _ in range(16)]
    [t.start() for t in ths]
    [t.join() for t in ths]
    expect(not errs, errs[:3])


@check("concurrency: 400 simultaneous keep-alive connections, 2 s of signed GetCase, no errors")
def t_many(x):
    import asyncio
    import standin_load
    did, cid, _ = standin_load.setup(x.url, AKID, SECRET)
    payload = standin_load.signed_bytes(x.url, AKID, SECRET, "GetCase", did, cid)
    lat, errs, el = asyncio.run(standin_load.run(x.url, payload, 400, 2.0))
    expect(not errs and len(lat) >= 400, (len(lat), errs[:5]))


@check("robustness: malformed requests get 4xx (never a crash), the stand-in keeps serving")
def t_robust(x):
    def send(raw):
        s = socket.create_connection((x.host, x.port), timeout=5)
        try:
            s.sendall(raw)
            s.shutdown(socket.SHUT_WR)
            out = b""
            while True:
                d = s.recv(65536)
                if not d:
                    return out
                out += d
        finally:
            s.close()

    def signed(body, path="/domains"):
        req = AWSRequest(method="POST", url=x.url + path, data=body, headers={"Content-Type": "application/json"})
        SigV4Auth(Credentials(AKID, SECRET), "cases", "us-east-1").add_auth(req)
        h = "".join("%s: %s\r\n" % kv for kv in req.headers.items())
        return ("POST %s HTTP/1.1\r\nHost: %s:%d\r\nContent-Length: %d\r\nConnection: close\r\n%s\r\n"
                % (path, x.host, x.port, len(body), h)).encode() + body
    bad = [b"garbage\r\n\r\n", b"POST / HTTP/1.1\r\nContent-Length: -5\r\n\r\n",
           b"POST / HTTP/1.1\r\nContent-Length: abc\r\n\r\n",
           b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", b"X" * 70000,
           b"POST /_standin/faults HTTP/1.1\r\nContent-Length: 5\r\n\r\n{bad}",
           b'POST /_standin/faults HTTP/1.1\r\nContent-Length: 28\r\n\r\n{"kind":"error","path":"(["}',
           signed(b"\xff\xfe"), signed(b"[1,2]"), signed(b'{"name": 5}'), signed(b'{"fields":"x"}', "/domains/d/cases/c"),
           signed(b"{}", "/domains-list?maxResults=abc"), signed(b"{}", "/domains-list?maxResults=1000")]
    for raw in bad:
        out = send(raw)
        expect(out[:10] == b"HTTP/1.1 4", (raw[:60], out[:80]))
    expect(x.control("GET", "/health")["ok"], "alive")


@check("reset: /_standin/reset clears data, faults and counters")
def t_reset(x):
    x.control("POST", "/faults", {"kind": "error", "op": "GetDomain"})
    x.control("POST", "/reset")
    st = x.control("GET", "/stats")
    expect(st["cases_created"] == 0 and st["requests"] == 0 and x.control("GET", "/faults")["rules"] == [], st)
    expect(x.client().list_domains()["domains"] == [], "no domains after reset")


# ---- moto ------------------------------------------------------------------------------------
def moto_checks(url, akid, secret):
    def cl(svc, sec):
        return boto3.client(svc, endpoint_url=url, region_name="us-east-1", aws_access_key_id=akid,
                            aws_secret_access_key=sec, config=NO_RETRY)
    out = []

    def run(name, fn):
        out.append((name, fn))
    tname = "laws-selftest-%d" % int(time.time() * 1000)

    def good():
        d = cl("dynamodb", secret)
        d.create_table(TableName=tname, KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                       AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                       BillingMode="PAY_PER_REQUEST")
        d.put_item(TableName=tname, Item={"pk": {"S": "a"}, "v": {"N": "1"}})
        expect(d.get_item(TableName=tname, Key={"pk": {"S": "a"}})["Item"]["v"]["N"] == "1", "GetItem")
        ident = cl("sts", secret).get_caller_identity()
        expect(ident["Arn"].endswith(":user/laws"), ident)
    run("moto: with auth enforced, the real key pair is accepted (DynamoDB, STS)", good)

    def bad():
        # moto answers DynamoDB's auth failure with an XML body botocore cannot parse (its code
        # becomes "403"); the code a client must find is in that body
        code, status, e = error_of(lambda: cl("dynamodb", "wrong-secret").list_tables())
        expect(status == 403 and (code == "SignatureDoesNotMatch" or
                                  "<Code>SignatureDoesNotMatch</Code>" in e.response["Error"].get("Message", "")),
               ("dynamodb", code, status))
        code, status, _ = error_of(lambda: cl("sts", "wrong-secret").get_caller_identity())
        expect(status == 403 and code == "SignatureDoesNotMatch", ("sts", code, status))
    run("moto: a wrong secret is refused (DynamoDB and STS)", bad)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url")
    ap.add_argument("--moto-url")
    ap.add_argument("--moto-key")
    ap.add_argument("--only", help="substring of the test names to run")
    a = ap.parse_args()
    tests = []
    if a.url:
        x = Ctx(a.url)
        tests += [(n, (lambda f: lambda: f(x))(f)) for n, f in results]
    if a.moto_url:
        akid, secret = a.moto_key.split(":", 1)
        tests += moto_checks(a.moto_url, akid, secret)
    if a.only:
        tests = [t for t in tests if a.only in t[0]]
    print("1..%d" % len(tests), flush=True)
    failed = 0
    for i, (name, fn) in enumerate(tests, 1):
        try:
            fn()
            print("ok %d - %s" % (i, name), flush=True)
        except Exception as e:  # noqa: BLE001
            failed += 1
            print("not ok %d - %s" % (i, name))
            for line in ("%s: %s" % (type(e).__name__, e)).splitlines()[:8]:
                print("# " + line)
            if not isinstance(e, AssertionError):
                for line in traceback.format_exc().splitlines()[-6:]:
                    print("# " + line)
            sys.stdout.flush()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
