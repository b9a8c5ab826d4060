"""SigV4 verification by botocore (not by laws): the request is rebuilt as an AWSRequest with
exactly the headers the client says it signed, botocore.auth.SigV4Auth recomputes canonical
request, string to sign and signature for the known secret, and the result is compared in
constant time. Failures are answered with AWS's codes and messages (403)."""
import calendar
import hmac
import re
import time
from hashlib import sha256
from urllib.parse import unquote, urlsplit

from botocore.auth import EMPTY_SHA256_HASH, UNSIGNED_PAYLOAD, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from standin_model import ApiError

AUTH_RX = re.compile(r"^AWS4-HMAC-SHA256\s+(.*)$", re.S)
MISMATCH = ("The request signature we calculated does not match the signature you provided. Check your AWS "
            "Secret Access Key and signing method. Consult the service documentation for details.")
BAD_TOKEN = "The security token included in the request is invalid."
SKEW = 300


def _fmt(t):
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(t))


def _parse_amz_date(s):
    if len(s) != 16 or s[8] != "T" or s[15] != "Z":
        return None
    try:
        return float(calendar.timegm((int(s[0:4]), int(s[4:6]), int(s[6:8]), int(s[9:11]), int(s[11:13]),
                                      int(s[13:15]), 0, 0, 0)))
    except ValueError:
        return None


def _deny(code, message, status=403):
    return ApiError(status, code, message)


class CachingSigV4(SigV4Auth):
    """botocore's SigV4Auth, with the signing key (4 HMACs) cached per secret/date/region/service
    (the derivation is botocore's _sign chain, done once), and the body hashed straight from the
    bytes received (what payload() computes after AWSRequest.prepare(), without preparing)."""
    _keys = {}

    unsigned = False

    def payload(self, request):
        if self.unsigned:
            return UNSIGNED_PAYLOAD
        data = request.data
        return sha256(data).hexdigest() if data else EMPTY_SHA256_HASH

    def signature(self, string_to_sign, request):
        k = (self.credentials.secret_key, request.context["timestamp"][0:8], self._region_name, self._service_name)
        key = self._keys.get(k)
        if key is None:
            secret = self.credentials.secret_key
            kd = self._sign(("AWS4" + secret).encode(), k[1])
            key = self._sign(self._sign(self._sign(kd, k[2]), k[3]), "aws4_request")
            if len(self._keys) > 1000:
                self._keys.clear()
            self._keys[k] = key
        return self._sign(key, string_to_sign, hex=True)


class Verifier:
    def __init__(self, keys, region=None):
        self.keys = dict(keys)   # access key id -> (secret, token or None)
        self.region = region     # None: any region
        # the code a request outside the 5-minute window gets (AWS JSON services:
        # InvalidSignatureException; settable to RequestTimeTooSkewed etc. through /_standin/config)
        self.skew_code = "InvalidSignatureException"

    def verify(self, method, target, headers, body, service, now):
        """headers: dict of lower-cased name -> list of values. Returns the access key id
        or raises ApiError the way AWS answers. Signature in the Authorization header, or in
        the query string (presigned: X-Amz-Algorithm, X-Amz-Credential, ..., X-Amz-Signature)."""
        path, _, query = target.partition("?")
        pairs = [tuple(unquote(x) for x in (p.partition("=")[0], p.partition("=")[2]))
                 for p in query.split("&") if p]
        auth = _one(headers, "authorization")
        if auth is None and any(k == "X-Amz-Signature" for k, _ in pairs):
            a = _from_query(dict(pairs), now)
            pairs = [(k, v) for k, v in pairs if k != "X-Amz-Signature"]
        elif auth is None:
            raise _deny("MissingAuthenticationTokenException", "Missing Authentication Token")
        else:
            a = _from_header(auth, headers)
        scope = a["credential"].split("/")
        if len(scope) != 5 or scope[4] != "aws4_request":
            raise _deny("IncompleteSignatureException",
                        "Credential should be scoped to a valid region, not '%s'. " % a["credential"])
        akid, sdate, region, svc, _ = scope
        if akid not in self.keys:
            raise _deny("UnrecognizedClientException", BAD_TOKEN)
        secret, token = self.keys[akid]
        if a["token"] != token:
            raise _deny("UnrecognizedClientException", BAD_TOKEN)
        if svc != service:
            raise _deny("InvalidSignatureException", "Credential should be scoped to correct service: '%s'. " % service)
        if self.region and region != self.region:
            raise _deny("InvalidSignatureException",
                        "Credential should be scoped to a valid region. ")
        signed = a["signed"].split(";")
        if "host" not in signed:
            raise _deny("InvalidSignatureException",
                        "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.")
        amz_date = a["date"]
        t = _parse_amz_date(amz_date)
        if t is None:
            raise _deny("IncompleteSignatureException", "Date must be in ISO-8601 'basic format'. Got '%s'." % amz_date)
        if sdate != amz_date[:8]:
            raise _deny("InvalidSignatureException",
                        "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: "
                        "'%s' != '%s', from '%s'." % (sdate, amz_date[:8], amz_date))
        expires = a.get("expires")
        if expires is not None and now > t + expires:
            raise _deny("InvalidSignatureException", "Signature expired: %s is now earlier than %s (%s - %d sec.)"
                        % (_fmt(t + expires), _fmt(now), _fmt(now), expires))
        if expires is None and t < now - SKEW:
            raise _deny(self.skew_code, "Signature expired: %s is now earlier than %s (%s - 5 min.)"
                        % (amz_date, _fmt(now - SKEW), _fmt(now)))
        if t > now + SKEW:
            raise _deny(self.skew_code, "Signature not yet current: %s is still later than %s (%s + 5 min.)"
                        % (amz_date, _fmt(now + SKEW), _fmt(now)))

        host = _one(headers, "host") or ""
        req = AWSRequest(method=method, url="http://" + host + path, data=body or b"")
        if pairs:
            # AWS decodes and re-encodes the query; botocore's params path does the re-encoding
            req.params = pairs
        for name in signed:
            vals = headers.get(name)
            if vals is None:
                raise _deny("InvalidSignatureException", MISMATCH)
            for v in vals:
                req.headers[name] = v  # HTTPHeaders keeps repeated values
        req.context["timestamp"] = amz_date
        signer = CachingSigV4(Credentials(akid, secret, token), svc, region)
        ctx_sha = _one(headers, "x-amz-content-sha256")
        if ctx_sha is not None and "x-amz-content-sha256" in signed and ctx_sha != "UNSIGNED-PAYLOAD":
            if ctx_sha != signer.payload(req):
                raise _deny("InvalidSignatureException",
                            "The provided 'x-amz-content-sha256' header does not match what was computed.", 400)
        expected = signer.signature(signer.string_to_sign(req, signer.canonical_request(req)), req)
        if hmac.compare_digest(expected.encode(), a["signature"].encode()):
            return akid
        if expires is not None:  # presigned URLs may also be signed over UNSIGNED-PAYLOAD (S3 style)
            signer.unsigned = True
            expected = signer.signature(signer.string_to_sign(req, signer.canonical_request(req)), req)
            if hmac.compare_digest(expected.encode(), a["signature"].encode()):
                return akid
        raise _deny("InvalidSignatureException", MISMATCH)


def _from_header(auth, headers):
    m = AUTH_RX.match(auth)
    if not m:
        raise _deny("IncompleteSignatureException",
                    "Authorization header requires 'Credential' parameter. Authorization header requires "
                    "'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. "
                    "Authorization=" + auth.split(" ")[0])
    parts = {}
    for p in m.group(1).split(","):
        k, _, v = p.strip().partition("=")
        parts[k] = v
    missing = [k for k in ("Credential", "SignedHeaders", "Signature") if not parts.get(k)]
    if missing:
        raise _deny("IncompleteSignatureException",
                    " ".join("Authorization header requires '%s' parameter." % k for k in missing))
    amz_date = _one(headers, "x-amz-date")
    if amz_date is None:
        raise _deny("IncompleteSignatureException",
                    "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. "
                    "Authorization=" + auth.split(",")[0])
    return {"credential": parts["Credential"], "signed": parts["SignedHeaders"], "signature": parts["Signature"],
            "date": amz_date, "token": _one(headers, "x-amz-security-token")}


def _from_query(q, now):
    missing = [k for k in ("X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-SignedHeaders", "X-Amz-Date")
               if not q.get(k)]
    if missing:
        raise _deny("IncompleteSignatureException", " ".join(
            "AWS query-string parameters must include '%s'." % k for k in missing) + " Re-examine the query-string parameters.")
    if q["X-Amz-Algorithm"] != "AWS4-HMAC-SHA256":
        raise _deny("IncompleteSignatureException", "Unsupported AWS 'algorithm': '%s'" % q["X-Amz-Algorithm"])
    try:
        expires = int(q.get("X-Amz-Expires", "900"))
    except ValueError:
        raise _deny("IncompleteSignatureException", "X-Amz-Expires should be a number")
    if not 1 <= expires <= 604800:
        raise _deny("IncompleteSignatureException", "X-Amz-Expires must be between 1 and 604800 seconds")
    return {"credential": q["X-Amz-Credential"], "signed": q["X-Amz-SignedHeaders"], "signature": q["X-Amz-Signature"],
            "date": q["X-Amz-Date"], "token": q.get("X-Amz-Security-Token"), "expires": expires}


def scope_service(headers, query=""):
    """The signing name from the credential scope (Authorization header or X-Amz-Credential), or None."""
    auth = _one(headers, "authorization")
    if not auth:
        if "X-Amz-Credential=" not in query:
            return None
        auth = "Credential=" + unquote(query.split("X-Amz-Credential=", 1)[1].split("&", 1)[0])
    m = re.search(r"Credential=[^/,\s]+/\d{8}/[^/]+/([^/]+)/aws4_request", auth)
    return m.group(1) if m else None


def _one(headers, name):
    v = headers.get(name)
    if v is None:
        return None
    return ",".join(v) if len(v) > 1 else v[0]


def host_of(url):
    return urlsplit(url).netloc
