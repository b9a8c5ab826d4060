"""Customer Profiles of the stand-in (mixed into standin_services.Store): domains, profiles with
a visibility lag, SearchProfiles by the standard keys or an Attributes key."""
import time
import uuid

from standin_model import ApiError, page


def _nf(message):
    return ApiError(404, "ResourceNotFoundException", message)


class Profiles:
    def _pdomain(self, name):
        d = self.profile_domains.get(name)
        if d is None:
            raise _nf("Domain %s not found" % name)
        return d

    def profile_CreateDomain(self, p):
        if p["DomainName"] in self.profile_domains:
            raise ApiError(400, "BadRequestException", "Domain %s already exists" % p["DomainName"])
        now = time.time()
        d = {"DomainName": p["DomainName"], "DefaultExpirationDays": p["DefaultExpirationDays"],
             "CreatedAt": now, "LastUpdatedAt": now, "Tags": p.get("Tags") or {}, "profiles": {}, "order": []}
        for k in ("DefaultEncryptionKey", "DeadLetterQueueUrl", "Matching", "RuleBasedMatching", "DataStore"):
            if p.get(k) is not None:
                d[k] = p[k]
        self.profile_domains[p["DomainName"]] = d
        return {k: v for k, v in d.items() if k not in ("profiles", "order")}

    def profile_GetDomain(self, p):
        d = self._pdomain(p["DomainName"])
        out = {k: v for k, v in d.items() if k not in ("profiles", "order")}
        out["Stats"] = {"ProfileCount": len(d["profiles"]), "ObjectCount": 0, "TotalSize": 0}
        return out

    def profile_CreateProfile(self, p):
        d = self._pdomain(p["DomainName"])
        pid = uuid.uuid4().hex
        prof = {k: v for k, v in p.items() if k != "DomainName"}
        prof["ProfileId"] = pid
        d["profiles"][pid] = prof
        d["order"].append(pid)
        self.counters["profiles_created"] += 1
        self._new_visible("profiles", pid, p["DomainName"])
        return {"ProfileId": pid}

    def _profile(self, d, pid):
        prof = d["profiles"].get(pid)
        if prof is None or not self.visible(pid):
            raise _nf("Profile %s not found" % pid)
        return prof

    def profile_UpdateProfile(self, p):
        d = self._pdomain(p["DomainName"])
        prof = self._profile(d, p["ProfileId"])
        for k, v in p.items():
            if k in ("DomainName", "ProfileId"):
                continue
            if k == "Attributes":
                attrs = dict(prof.get("Attributes") or {})
                for ak, av in v.items():
                    if av == "":
                        attrs.pop(ak, None)
                    else:
                        attrs[ak] = av
                prof["Attributes"] = attrs
            elif v == "":
                prof.pop(k, None)  # the API clears a member given as ""
            else:
                prof[k] = v
        return {"ProfileId": prof["ProfileId"]}

    def profile_DeleteProfile(self, p):
        d = self._pdomain(p["DomainName"])
        self._profile(d, p["ProfileId"])
        del d["profiles"][p["ProfileId"]]
        d["order"].remove(p["ProfileId"])
        return {"Message": "Successfully deleted profile"}

    KEYS = {"_profileId": ("ProfileId",), "_account": ("AccountNumber",),
            "_email": ("EmailAddress", "PersonalEmailAddress", "BusinessEmailAddress"),
            "_phone": ("PhoneNumber", "MobilePhoneNumber", "HomePhoneNumber", "BusinessPhoneNumber"),
            "_fullName": None}

    def _pvalues(self, prof, key):
        if key == "_fullName":
            return [" ".join(x for x in (prof.get("FirstName"), prof.get("MiddleName"), prof.get("LastName")) if x),
                    " ".join(x for x in (prof.get("FirstName"), prof.get("LastName")) if x)]
        if key in self.KEYS:
            return [prof.get(k) for k in self.KEYS[key] if prof.get(k) is not None]
        v = (prof.get("Attributes") or {}).get(key)
        return [v] if v is not None else []

    def profile_SearchProfiles(self, p):
        d = self._pdomain(p["DomainName"])
        conds = [(p["KeyName"], p["Values"])] + [(k["KeyName"], k["Values"]) for k in p.get("AdditionalSearchKeys") or []]
        combine = any if p.get("LogicalOperator") == "OR" else all
        now = time.monotonic()
        hits = []
        order = d["order"]
        if p["KeyName"] == "_profileId" and p.get("LogicalOperator") != "OR":
            order = [v for v in dict.fromkeys(p["Values"]) if v in d["profiles"]]
        for pid in order:
            prof = d["profiles"][pid]
            if not combine(any(v in vals for v in self._pvalues(prof, k)) for k, vals in conds):
                continue
            if not self.visible(pid, now):
                continue
            hits.append(prof)
        try:
            chunk, nxt = page(hits, p, "NextToken", "MaxResults", default=20)
        except ApiError as e:
            raise ApiError(400, "BadRequestException", e.message)
        return {"Items": chunk, "NextToken": nxt}

    def profile_ListProfileObjects(self, p):
        d = self._pdomain(p["DomainName"])
        self._profile(d, p["ProfileId"])
        return {"Items": []}
