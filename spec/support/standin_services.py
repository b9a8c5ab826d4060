"""In-memory Connect Cases behind the stand-in: domains, fields, templates, layouts, cases (with
clientToken idempotency and a visibility lag), related items; Customer Profiles are mixed in from
standin_profiles.py. Handlers (<signing name>_<Operation>) take the parsed input (botocore
member names) and return the output dict."""
import json
import math
import random
import time
import uuid

from standin_model import ApiError, page
from standin_profiles import Profiles

ACCOUNT = "123456789012"
REGION = "us-east-1"

SYSTEM_FIELDS = [  # Connect Cases' system fields (namespace System); ids equal their names
    ("title", "Text"), ("status", "SingleSelect"), ("customer_id", "Text"), ("reference_number", "Text"),
    ("summary", "Text"), ("case_reason", "SingleSelect"), ("assigned_queue", "Text"),
    ("assigned_user", "Text"), ("created_datetime", "DateTime"), ("last_updated_datetime", "DateTime"),
    ("last_closed_datetime", "DateTime"),
]


class Lag:
    """Visibility lag: fixed seconds, or log-normal from median and 95th percentile, seeded."""

    def __init__(self, spec=None):
        spec = spec or {}
        self.spec = dict(spec)
        self.fixed = float(spec.get("fixed", 0) or 0)
        self.median = spec.get("median")
        self.p95 = spec.get("p95")
        self.rng = random.Random(spec.get("seed", 1))
        if self.median is not None:
            self.median, self.p95 = float(self.median), float(self.p95 or self.median)
            if self.median <= 0 or self.p95 < self.median:
                raise ValueError("lag needs 0 < median <= p95")
            self.mu = math.log(self.median)
            self.sigma = (math.log(self.p95) - self.mu) / 1.6448536269514722

    def draw(self):
        if self.median is not None:
            return self.rng.lognormvariate(self.mu, self.sigma)
        return self.fixed


def _arn(svc, rest):
    return "arn:aws:%s:%s:%s:%s" % (svc, REGION, ACCOUNT, rest)


def _nf(message, rid, rtype):
    return ApiError(404, "ResourceNotFoundException", message, {"resourceId": rid, "resourceType": rtype})


class Store(Profiles):
    def __init__(self, lag_cases=None, lag_profiles=None):
        self.lag = {"cases": Lag(lag_cases), "profiles": Lag(lag_profiles)}
        self.reset()

    def reset(self):
        self.cases_domains = {}     # domainId -> domain dict
        self.profile_domains = {}   # DomainName -> domain dict
        self.visibility = {}        # caseId / ProfileId -> record
        self.tokens = {}            # (domainId, clientToken) -> (fingerprint, caseId)
        self.counters = {"cases_created": 0, "profiles_created": 0, "idempotent_replays": 0,
                         "related_items_created": 0}

    # ---- visibility --------------------------------------------------------------------
    def _new_visible(self, kind, ident, domain):
        lag = self.lag[kind].draw()
        mono, wall = time.monotonic(), time.time()
        rec = {"id": ident, "kind": kind, "domain": domain, "lag": lag, "created_mono": mono,
               "created_wall": wall, "visible_mono": mono + lag, "visible_wall": wall + lag,
               "first_seen_mono": None, "first_seen_wall": None, "reads_before_visible": 0}
        self.visibility[ident] = rec
        return rec

    def visible(self, ident, now=None):
        """True when visible; the first successful read is recorded (for overshoot figures)."""
        rec = self.visibility.get(ident)
        if rec is None:
            return True
        now = now or time.monotonic()
        if now < rec["visible_mono"]:
            rec["reads_before_visible"] += 1
            return False
        if rec["first_seen_mono"] is None:
            rec["first_seen_mono"], rec["first_seen_wall"] = now, time.time()
        return True

    # ---- Connect Cases -------------------------------------------------------------------
    def _domain(self, did):
        d = self.cases_domains.get(did)
        if d is None:
            raise _nf("Domain %s not found" % did, did, "Domain")
        return d

    def cases_CreateDomain(self, p):
        for d in self.cases_domains.values():
            if d["name"] == p["name"]:
                raise ApiError(409, "ConflictException", "Domain with name %s already exists" % p["name"])
        did = str(uuid.uuid4())
        now = time.time()
        d = {"domainId": did, "domainArn": _arn("cases", "domain/" + did), "name": p["name"],
             "createdTime": now, "domainStatus": "Active", "fields": {}, "templates": {}, "layouts": {},
             "cases": {}, "case_order": [], "index": {}}
        for name, ftype in SYSTEM_FIELDS:
            d["fields"][name] = {"fieldId": name, "fieldArn": _arn("cases", "domain/%s/field/%s" % (did, name)),
                                 "name": name, "type": ftype, "namespace": "System", "createdTime": now,
                                 "lastModifiedTime": now, "deleted": False}
        self.cases_domains[did] = d
        return {"domainId": did, "domainArn": d["domainArn"], "domainStatus": "Active"}

    def cases_GetDomain(self, p):
        d = self._domain(p["domainId"])
        return {k: d[k] for k in ("domainId", "domainArn", "name", "createdTime", "domainStatus")}

    def cases_ListDomains(self, p):
        items = [{"domainId": d["domainId"], "domainArn": d["domainArn"], "name": d["name"]}
                 for d in self.cases_domains.values()]
        chunk, nxt = page(items, p, default=25)
        return {"domains": chunk, "nextToken": nxt}

    def cases_CreateField(self, p):
        d = self._domain(p["domainId"])
        if any(f["name"] == p["name"] for f in d["fields"].values()):
            raise ApiError(409, "ConflictException", "Field with name %s already exists" % p["name"])
        fid = str(uuid.uuid4())
        now = time.time()
        d["fields"][fid] = {"fieldId": fid, "fieldArn": _arn("cases", "domain/%s/field/%s" % (d["domainId"], fid)),
                            "name": p["name"], "type": p["type"], "namespace": "Custom",
                            "description": p.get("description"), "createdTime": now, "lastModifiedTime": now,
                            "deleted": False}
        return {"fieldId": fid, "fieldArn": d["fields"][fid]["fieldArn"]}

    def cases_ListFields(self, p):
        d = self._domain(p["domainId"])
        items = [{k: f[k] for k in ("fieldId", "fieldArn", "name", "type", "namespace")} for f in d["fields"].values()]
        chunk, nxt = page(items, p, default=50)
        return {"fields": chunk, "nextToken": nxt}

    def cases_BatchGetField(self, p):
        d = self._domain(p["domainId"])
        out, errs = [], []
        for ident in p["fields"]:
            f = d["fields"].get(ident["id"])
            if f:
                out.append({k: v for k, v in f.items() if v is not None})
            else:
                errs.append({"id": ident["id"], "errorCode": "ResourceNotFoundException",
                             "message": "Field %s not found" % ident["id"]})
        return {"fields": out, "errors": errs}

    def cases_CreateTemplate(self, p):
        d = self._domain(p["domainId"])
        if any(t["name"] == p["name"] for t in d["templates"].values()):
            raise ApiError(409, "ConflictException", "Template with name %s already exists" % p["name"])
        for rf in p.get("requiredFields") or []:
            if rf["fieldId"] not in d["fields"]:
                raise ApiError(400, "ValidationException", "Field %s does not exist" % rf["fieldId"])
        tid = str(uuid.uuid4())
        now = time.time()
        t = {"templateId": tid, "templateArn": _arn("cases", "domain/%s/template/%s" % (d["domainId"], tid)),
             "name": p["name"], "description": p.get("description"),
             "layoutConfiguration": p.get("layoutConfiguration"), "requiredFields": p.get("requiredFields") or [],
             "status": p.get("status") or "Active", "createdTime": now, "lastModifiedTime": now, "deleted": False,
             "rules": p.get("rules")}
        d["templates"][tid] = t
        return {"templateId": tid, "templateArn": t["templateArn"]}

    def cases_GetTemplate(self, p):
        d = self._domain(p["domainId"])
        t = d["templates"].get(p["templateId"])
        if t is None:
            raise _nf("Template %s not found" % p["templateId"], p["templateId"], "Template")
        return dict(t, tags={})

    def cases_ListTemplates(self, p):
        d = self._domain(p["domainId"])
        want = set(p.get("status") or [])
        items = [{k: t[k] for k in ("templateId", "templateArn", "name", "status")}
                 for t in d["templates"].values() if not want or t["status"] in want]
        chunk, nxt = page(items, p, default=25)
        return {"templates": chunk, "nextToken": nxt}

    def cases_CreateLayout(self, p):
        d = self._domain(p["domainId"])
        lid = str(uuid.uuid4())
        d["layouts"][lid] = {"layoutId": lid, "name": p["name"], "content": p["content"],
                             "layoutArn": _arn("cases", "domain/%s/layout/%s" % (d["domainId"], lid))}
        return {"layoutId": lid, "layoutArn": d["layouts"][lid]["layoutArn"]}

    def _check_fields(self, d, fields):
        for f in fields:
            if f["id"] not in d["fields"]:
                raise ApiError(400, "ValidationException", "Field %s does not exist in domain" % f["id"])

    def cases_CreateCase(self, p):
        d = self._domain(p["domainId"])
        token = p.get("clientToken")
        fp = json.dumps([p.get("templateId"), p.get("fields"), p.get("performedBy"), p.get("tags")], sort_keys=True)
        if token:
            prev = self.tokens.get((d["domainId"], token))
            if prev is not None:
                if prev[0] != fp:
                    raise ApiError(409, "ConflictException",
                                   "The clientToken was already used with different request parameters")
                self.counters["idempotent_replays"] += 1
                c = d["cases"][prev[1]]
                return {"caseId": c["caseId"], "caseArn": c["caseArn"]}
        t = d["templates"].get(p["templateId"])
        if t is None:
            raise _nf("Template %s not found" % p["templateId"], p["templateId"], "Template")
        if t["status"] != "Active":
            raise ApiError(400, "ValidationException", "Template %s is not active" % p["templateId"])
        self._check_fields(d, p["fields"])
        given = {f["id"] for f in p["fields"]}
        for rf in t["requiredFields"]:
            if rf["fieldId"] not in given:
                raise ApiError(400, "ValidationException", "Required field %s is missing" % rf["fieldId"])
        cid = str(uuid.uuid4())
        now = time.time()
        fields = {f["id"]: f["value"] for f in p["fields"]}
        fields.setdefault("status", {"stringValue": "open"})
        fields["reference_number"] = {"stringValue": "%08d" % (len(d["case_order"]) + 1)}
        iso = {"stringValue": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))}
        fields["created_datetime"] = fields["last_updated_datetime"] = iso
        c = {"caseId": cid, "caseArn": _arn("cases", "domain/%s/case/%s" % (d["domainId"], cid)),
             "templateId": p["templateId"], "fields": fields, "tags": p.get("tags") or {}, "related": []}
        c["seq"] = len(d["case_order"])
        d["cases"][cid] = c
        d["case_order"].append(cid)
        for fid, v in fields.items():
            self._index(d, cid, fid, v, +1)
        if token:
            self.tokens[(d["domainId"], token)] = (fp, cid)
        self.counters["cases_created"] += 1
        self._new_visible("cases", cid, d["domainId"])
        return {"caseId": cid, "caseArn": c["caseArn"]}

    def _case(self, d, cid):
        c = d["cases"].get(cid)
        if c is None or not self.visible(cid):
            raise _nf("Case %s not found" % cid, cid, "Case")
        return c

    def cases_GetCase(self, p):
        d = self._domain(p["domainId"])
        c = self._case(d, p["caseId"])
        fields = [{"id": f["id"], "value": c["fields"][f["id"]]} for f in p["fields"] if f["id"] in c["fields"]]
        return {"fields": fields, "templateId": c["templateId"], "tags": c["tags"]}

    def cases_UpdateCase(self, p):
        d = self._domain(p["domainId"])
        c = self._case(d, p["caseId"])
        self._check_fields(d, p["fields"])
        for f in p["fields"]:
            self._index(d, c["caseId"], f["id"], c["fields"].get(f["id"]), -1)
            c["fields"][f["id"]] = f["value"]
            self._index(d, c["caseId"], f["id"], f["value"], +1)
        c["fields"]["last_updated_datetime"] = {"stringValue": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        return {}

    @staticmethod
    def _index(d, cid, fid, value, delta):
        """(field id, string value) -> case ids, so equalTo searches do not scan every case."""
        if not value or "stringValue" not in value:
            return
        key = (fid, value["stringValue"])
        if delta > 0:
            d["index"].setdefault(key, []).append(cid)
        elif key in d["index"]:
            d["index"][key].remove(cid)

    def _candidates(self, d, flt):
        """A superset of the case ids the filter can match, or None (every case)."""
        if not flt:
            return None
        eq = (flt.get("field") or {}).get("equalTo")
        if eq is not None:
            v = eq.get("value") or {}
            if eq["id"] == "case_id":
                return [v.get("stringValue")] if v.get("stringValue") in d["cases"] else []
            if "stringValue" in v:
                return d["index"].get((eq["id"], v["stringValue"]), [])
            return None
        if "andAll" in flt:
            best = None
            for f in flt["andAll"]:
                cand = self._candidates(d, f)
                if cand is not None and (best is None or len(cand) < len(best)):
                    best = cand
            return best
        return None

    def _value(self, c, fid):
        if fid == "case_id":
            return c["caseId"]
        v = c["fields"].get(fid)
        if not v:
            return None
        for k in ("stringValue", "doubleValue", "booleanValue", "userArnValue"):
            if k in v:
                return v[k]
        return None

    def _match(self, c, flt):
        if not flt:
            return True
        if "andAll" in flt:
            return all(self._match(c, f) for f in flt["andAll"])
        if "orAll" in flt:
            return any(self._match(c, f) for f in flt["orAll"])
        if "not" in flt:
            return not self._match(c, flt["not"])
        if "tag" in flt:
            tf = flt["tag"]
            for op, kv in tf.items():
                if op == "equalTo":
                    return c["tags"].get(kv["key"]) == kv.get("value")
            return False
        ff = flt.get("field") or {}
        for op, fv in ff.items():
            have = self._value(c, fv["id"])
            want = next(iter(fv["value"].values()), None) if fv["value"] else None
            if op == "equalTo":
                return have == want
            if have is None or want is None:
                return False
            try:
                if op == "contains":
                    return str(want) in str(have)
                if op == "greaterThan":
                    return have > want
                if op == "greaterThanOrEqualTo":
                    return have >= want
                if op == "lessThan":
                    return have < want
                if op == "lessThanOrEqualTo":
                    return have <= want
            except TypeError:
                return False
        return False

    def cases_SearchCases(self, p):
        d = self._domain(p["domainId"])
        now = time.monotonic()
        term = (p.get("searchTerm") or "").lower()
        hits = []
        cand = self._candidates(d, p.get("filter"))
        order = reversed(d["case_order"]) if cand is None else \
            sorted(set(cand), key=lambda i: d["cases"][i]["seq"], reverse=True)
        for cid in order:  # newest first
            c = d["cases"][cid]
            if not self._match(c, p.get("filter")):
                continue
            if term and not any(term in str(v.get("stringValue", "")).lower() for v in c["fields"].values()):
                continue
            if not self.visible(cid, now):
                continue
            hits.append(c)
        for s in reversed(p.get("sorts") or []):
            hits.sort(key=lambda c: (self._value(c, s["fieldId"]) is None, str(self._value(c, s["fieldId"]))),
                      reverse=s["sortOrder"] == "Desc")
        chunk, nxt = page(hits, p, default=25)
        want = [f["id"] for f in p.get("fields") or []]
        out = [{"caseId": c["caseId"], "templateId": c["templateId"], "tags": c["tags"],
                "fields": [{"id": i, "value": c["fields"][i]} for i in want if i in c["fields"]]} for c in chunk]
        return {"cases": out, "nextToken": nxt, "totalCount": len(hits)}

    def cases_CreateRelatedItem(self, p):
        d = self._domain(p["domainId"])
        c = self._case(d, p["caseId"])
        rid = str(uuid.uuid4())
        content = dict(p["content"])
        if "contact" in content:
            content["contact"] = dict(content["contact"], channel="VOICE", connectedToSystemTime=time.time())
        c["related"].append({"relatedItemId": rid, "type": p["type"], "associationTime": time.time(),
                             "content": content, "tags": {}})
        self.counters["related_items_created"] += 1
        return {"relatedItemId": rid, "relatedItemArn": _arn("cases", "domain/%s/case/%s/related-item/%s"
                                                             % (d["domainId"], c["caseId"], rid))}

    def cases_SearchRelatedItems(self, p):
        d = self._domain(p["domainId"])
        c = self._case(d, p["caseId"])
        kinds = set()
        for f in p.get("filters") or []:
            kinds.update(f.keys())
        want = {"contact": "Contact", "comment": "Comment", "file": "File", "sla": "Sla",
                "connectCase": "ConnectCase", "custom": "Custom"}
        types = {want[k] for k in kinds if k in want}
        items = [r for r in reversed(c["related"]) if not types or r["type"] in types]
        chunk, nxt = page(items, p, default=25)
        return {"relatedItems": chunk, "nextToken": nxt}
