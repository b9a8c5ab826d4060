/* SigV4 / SigV4a signing: validation, string to sign, cached key derivation, header and
 * query (presign) modes. Canonicalisation lives in sigv4_canon.c, SigV4a keys in sigv4a.c. */
#include "sigv4_int.h"
#include "hash.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>

#define NKEYS 8       /* (secret, date, region, service) -> kSigning */
#define NAKEYS 4      /* (access key, secret) -> P-256 key */
#define KFIELD 128    /* longer secrets/scopes are derived every time instead of cached */

struct key_entry {
  uint64_t stamp;     /* 0: empty */
  laws_hmac_key *hk;  /* kSigning, as precomputed HMAC states */
  char secret[KFIELD], region[KFIELD], service[KFIELD], date[8];
  size_t slen, rlen, svlen;
};

struct akey_entry {
  uint64_t stamp;
  laws_ec_key *k;
  char akid[KFIELD], secret[KFIELD];
  size_t alen, slen;
};

struct laws_sigv4_ctx {
  struct key_entry keys[NKEYS];
  struct akey_entry akeys[NAKEYS];
  uint64_t clock;
  laws_hasher *hs;
  laws_buf canon, sts, sig, url, auth, strs, arr, signed_list, hdrs, scope, path, drop, skip;
  char amzdate[17], payload[65], sechex[2 * LAWS_SHA256_LEN + 1];
  laws_sigv4_result res;
};

laws_sigv4_ctx *laws_sigv4_ctx_new(void) {
  laws_sigv4_ctx *c = calloc(1, sizeof(laws_sigv4_ctx));
  if (c && (c->hs = laws_hasher_new()) == NULL) {
    free(c);
    c = NULL;
  }
  return c;
}

static void free_key(struct key_entry *e) {
  laws_hmac_key_free(e->hk);
  OPENSSL_cleanse(e, sizeof *e);
}

static void free_akey(struct akey_entry *e) {
  laws_sigv4a_key_free(e->k);
  OPENSSL_cleanse(e, sizeof *e);
}

void laws_sigv4_ctx_free(laws_sigv4_ctx *c) {
  int i;
  laws_buf *bufs[] = { &c->canon, &c->sts, &c->sig, &c->url, &c->auth, &c->strs, &c->arr, &c->signed_list,
                       &c->hdrs, &c->scope, &c->path, &c->drop, &c->skip };
  if (c == NULL) return;
  for (i = 0; i < NAKEYS; i++) free_akey(&c->akeys[i]);
  for (i = 0; i < NKEYS; i++) free_key(&c->keys[i]);
  laws_hasher_free(c->hs);
  for (i = 0; i < (int)(sizeof bufs / sizeof bufs[0]); i++) laws_buf_free(bufs[i]);
  OPENSSL_cleanse(c, sizeof *c);
  free(c);
}

int laws_sigv4_cached_keys(const laws_sigv4_ctx *c, int algorithm) {
  int i, n = 0;
  if (algorithm == LAWS_SIGV4A) {
    for (i = 0; i < NAKEYS; i++) n += c->akeys[i].stamp != 0;
  } else {
    for (i = 0; i < NKEYS; i++) n += c->keys[i].stamp != 0;
  }
  return n;
}

static int eq(const char *a, size_t al, const char *b, size_t bl) { return al == bl && memcmp(a, b, al) == 0; }

static int derive_key(laws_hasher *hs, const laws_sigv4_request *r, const char *date, unsigned char out[LAWS_SHA256_LEN]) {
  unsigned char k[LAWS_SHA256_LEN];
  char *first;
  int rc = -1;
  if ((first = malloc(r->secret_len + 4)) == NULL) return -1;
  memcpy(first, "AWS4", 4);
  memcpy(first + 4, r->secret, r->secret_len);
  if (laws_hasher_hmac(hs, first, r->secret_len + 4, date, 8, k) == 0 &&
      laws_hasher_hmac(hs, k, sizeof k, r->region, r->region_len, k) == 0 &&
      laws_hasher_hmac(hs, k, sizeof k, r->service, r->service_len, k) == 0 &&
      laws_hasher_hmac(hs, k, sizeof k, "aws4_request", 12, out) == 0)
    rc = 0;
  OPENSSL_cleanse(first, r->secret_len + 4);
  OPENSSL_cleanse(k, sizeof k);
  free(first);
  return rc;
}

/* kSigning for the request as an HMAC key, from the cache when possible; the evicted entry
 * is wiped. *owned is set (and must be freed) when the key could not be cached. */
static const laws_hmac_key *signing_key(laws_sigv4_ctx *c, const laws_sigv4_request *r, const char *date,
                                        laws_hmac_key **owned) {
  struct key_entry *e, *victim = &c->keys[0];
  unsigned char k[LAWS_SHA256_LEN];
  int i;
  *owned = NULL;
  if (r->secret_len > KFIELD || r->region_len > KFIELD || r->service_len > KFIELD) {
    if (derive_key(c->hs, r, date, k) == 0) *owned = laws_hmac_key_new(k, sizeof k);
    OPENSSL_cleanse(k, sizeof k);
    return *owned;
  }
  for (i = 0; i < NKEYS; i++) {
    e = &c->keys[i];
    if (e->stamp && memcmp(e->date, date, 8) == 0 && eq(e->secret, e->slen, r->secret, r->secret_len) &&
        eq(e->region, e->rlen, r->region, r->region_len) && eq(e->service, e->svlen, r->service, r->service_len)) {
      e->stamp = ++c->clock;
      return e->hk;
    }
    if (e->stamp < victim->stamp) victim = e;
  }
  free_key(victim);
  if (derive_key(c->hs, r, date, k) == 0) victim->hk = laws_hmac_key_new(k, sizeof k);
  OPENSSL_cleanse(k, sizeof k);
  if (victim->hk == NULL) return NULL;
  memcpy(victim->secret, r->secret, r->secret_len); victim->slen = r->secret_len;
  memcpy(victim->region, r->region, r->region_len); victim->rlen = r->region_len;
  memcpy(victim->service, r->service, r->service_len); victim->svlen = r->service_len;
  memcpy(victim->date, date, 8);
  victim->stamp = ++c->clock;
  return victim->hk;
}

static const laws_ec_key *ec_key(laws_sigv4_ctx *c, const laws_sigv4_request *r, laws_ec_key **owned) {
  struct akey_entry *e, *victim = &c->akeys[0];
  int i;
  *owned = NULL;
  if (r->akid_len > KFIELD || r->secret_len > KFIELD)
    return *owned = laws_sigv4a_derive(r->access_key_id, r->akid_len, r->secret, r->secret_len);
  for (i = 0; i < NAKEYS; i++) {
    e = &c->akeys[i];
    if (e->stamp && eq(e->akid, e->alen, r->access_key_id, r->akid_len) && eq(e->secret, e->slen, r->secret, r->secret_len)) {
      e->stamp = ++c->clock;
      return e->k;
    }
    if (e->stamp < victim->stamp) victim = e;
  }
  free_akey(victim);
  if ((victim->k = laws_sigv4a_derive(r->access_key_id, r->akid_len, r->secret, r->secret_len)) == NULL) return NULL;
  memcpy(victim->akid, r->access_key_id, r->akid_len); victim->alen = r->akid_len;
  memcpy(victim->secret, r->secret, r->secret_len); victim->slen = r->secret_len;
  victim->stamp = ++c->clock;
  return victim->k;
}

static int fail(laws_sigv4_ctx *c, const char *msg) {
  snprintf(c->res.error, sizeof c->res.error, "%s", msg);
  return LAWS_SIGV4_EINVAL;
}

#define lower_eq(a, al, lit) lower_eqn((a), (al), lit, sizeof(lit) - 1)
static int lower_eqn(const char *a, size_t al, const char *lower, size_t n) {
  size_t i;
  if (al != n) return 0;
  for (i = 0; i < n; i++) {
    char ch = a[i];
    if (ch >= 'A' && ch <= 'Z') ch = (char)(ch + 32);
    if (ch != lower[i]) return 0;
  }
  return 1;
}

static int is_tchar(unsigned char ch) { /* RFC 9110 token */
  if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '-') return 1;
  return ch > 0x20 && ch < 0x7f && !strchr("\"(),/:;<=>?@[\\]{}", ch);
}

/* UTC calendar from epoch seconds (Howard Hinnant's civil_from_days): no locale or TZ lock. */
static void amz_date(int64_t t, char out[17]) {
  int64_t days = t / 86400, secs = t % 86400, z = days + 719468, era = z / 146097;
  int64_t doe = z - era * 146097, yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
  int64_t d = doy - (153 * mp + 2) / 5 + 1, m = mp < 10 ? mp + 3 : mp - 9, y = yoe + era * 400 + (m <= 2);
  int v[6], w[6] = { 4, 2, 2, 2, 2, 2 }, k, j;
  v[0] = (int)y; v[1] = (int)m; v[2] = (int)d;
  v[3] = (int)(secs / 3600); v[4] = (int)(secs / 60 % 60); v[5] = (int)(secs % 60);
  for (k = 0; k < 6; k++) {
    if (k == 3) *out++ = 'T';
    for (j = w[k] - 1; j >= 0; j--, v[k] /= 10) out[j] = (char)('0' + v[k] % 10);
    out += w[k];
  }
  out[0] = 'Z';
  out[1] = '\0';
}

static int check_header(laws_sigv4_ctx *c, const laws_sigv4_header *h, int allow_folded) {
  size_t i;
  if (h->nlen == 0) return fail(c, "request.headers: empty header name");
  for (i = 0; i < h->nlen; i++)
    if (!is_tchar((unsigned char)h->name[i]))
      return fail(c, "request.headers: a header name contains CR, LF, NUL, space or a separator");
  for (i = 0; i < h->vlen; i++) {
    unsigned char ch = (unsigned char)h->value[i];
    if (ch == 0 || ((ch == '\r' || ch == '\n') && !allow_folded)) {
      snprintf(c->res.error, sizeof c->res.error,
               "request.headers[\"%.*s\"]: value contains CR, LF or NUL (header injection)",
               h->nlen > 64 ? 64 : (int)h->nlen, h->name);
      return LAWS_SIGV4_EINVAL;
    }
  }
  return 0;
}

static int check_payload(const char *p, size_t n) {
  size_t i;
  if (eq(p, n, "UNSIGNED-PAYLOAD", 16) || (n > 10 && memcmp(p, "STREAMING-", 10) == 0)) return 0;
  if (n != 64) return -1;
  for (i = 0; i < n; i++)
    if (!strchr("0123456789abcdef", p[i]) || p[i] == 0) return -1;
  return 0;
}

static void add_hdr(laws_sigv4_result *res, const char *name, size_t off, size_t len) {
  res->added_name[res->nadded] = name;
  res->added_value[res->nadded] = (const char *)(uintptr_t)off; /* fixed up when c->hdrs is final */
  res->added_len[res->nadded++] = len;
}

int laws_sigv4_sign(laws_sigv4_ctx *c, const laws_sigv4_request *r, const laws_sigv4_result **out) {
  laws_sigv4_result *res = &c->res;
  laws_sigv4_header extra[5];
  laws_kv qx[7];
  size_t i, nextra = 0, nqx = 0, off;
  unsigned char d[LAWS_SHA256_LEN];
  int v4a = r->algorithm == LAWS_SIGV4A, hdr_mode = !r->presign, has_host = 0, rc, tok_idx = -1;
  int sign_token = r->token != NULL && !r->omit_session_token;
  const char *alg = v4a ? "AWS4-ECDSA-P256-SHA256" : "AWS4-HMAC-SHA256";
  const char *rset = r->region_set ? r->region_set : r->region;
  size_t rset_len = r->region_set ? r->region_set_len : r->region_len;
  laws_url u;
  char expires[24];

  memset(res, 0, sizeof *res);
  *out = res;
  c->canon.len = c->sts.len = c->sig.len = c->url.len = c->auth.len = c->strs.len = c->arr.len = 0;
  c->signed_list.len = c->hdrs.len = c->scope.len = c->path.len = c->drop.len = c->skip.len = 0;

  if (r->method_len == 0) return fail(c, "request.method must not be empty");
  for (i = 0; i < r->method_len; i++)
    if (!is_tchar((unsigned char)r->method[i])) return fail(c, "request.method contains an invalid character");
  if (laws_url_parse(r->url, r->url_len, &u, res->error) != 0) return LAWS_SIGV4_EINVAL;
  if (r->akid_len == 0) return fail(c, "credentials.access_key_id must not be empty");
  if (r->secret_len == 0) return fail(c, "credentials.secret_access_key must not be empty");
  if (r->service_len == 0) return fail(c, "options.service must not be empty");
  if (!v4a && r->region_len == 0) return fail(c, "options.region must not be empty");
  if (v4a && rset_len == 0) return fail(c, "options.region_set (or options.region) must not be empty");
  if (r->presign && (r->expires < 1 || r->expires > 604800)) return fail(c, "options.expires must be 1..604800 seconds");
  if (r->payload && check_payload(r->payload, r->payload_len) != 0)
    return fail(c, "options.payload must be nil, \"UNSIGNED-PAYLOAD\" or a lower-case hex SHA-256");
  if (r->time < 0 || r->time > 253402300799LL) return fail(c, "options.time is out of range");
  amz_date(r->time, c->amzdate);

  /* headers the signer sets replace any the caller sent (a retried request is re-signed) */
  for (i = 0; i < r->nheaders; i++) {
    const laws_sigv4_header *h = &r->headers[i];
    int drop = 0, skip;
    if ((rc = check_header(c, h, r->allow_folded)) != 0) return rc;
    if (lower_eq(h->name, h->nlen, "host")) has_host = 1;
    if (lower_eq(h->name, h->nlen, "authorization") || lower_eq(h->name, h->nlen, "x-amz-date") ||
        (r->token && lower_eq(h->name, h->nlen, "x-amz-security-token")) ||
        (hdr_mode && r->content_sha256_header && lower_eq(h->name, h->nlen, "x-amz-content-sha256")) ||
        (v4a && lower_eq(h->name, h->nlen, "x-amz-region-set")))
      drop = 1;
    /* not signed (as botocore): proxies and HTTP stacks rewrite these */
    skip = drop || lower_eq(h->name, h->nlen, "user-agent") || lower_eq(h->name, h->nlen, "expect") ||
           lower_eq(h->name, h->nlen, "x-amzn-trace-id");
    laws_buf_addc(&c->drop, (char)drop);
    laws_buf_addc(&c->skip, (char)skip);
  }
  if (c->drop.oom || c->skip.oom) return LAWS_SIGV4_ENOMEM;

  if (r->payload) {
    memcpy(c->payload, r->payload, r->payload_len < 64 ? r->payload_len : 64);
    c->payload[r->payload_len < 64 ? r->payload_len : 64] = '\0';
  } else {
    if (laws_hasher_sha256(c->hs, r->body ? r->body : "", r->body_len, d) != 0) return LAWS_SIGV4_ECRYPTO;
    laws_hex(d, sizeof d, c->payload);
  }

  laws_buf_add(&c->scope, c->amzdate, 8);
  laws_buf_addc(&c->scope, '/');
  if (!v4a) { laws_buf_add(&c->scope, r->region, r->region_len); laws_buf_addc(&c->scope, '/'); }
  laws_buf_add(&c->scope, r->service, r->service_len);
  laws_buf_adds(&c->scope, "/aws4_request");

  /* added headers: values stored in c->hdrs, NUL-separated */
#define ADD(NAME, V, VL) do { off = c->hdrs.len; laws_buf_add(&c->hdrs, (V), (VL)); laws_buf_addc(&c->hdrs, '\0'); \
    add_hdr(res, NAME, off, (VL)); } while (0)
  if (!has_host) ADD("Host", u.host, u.host_len);
  if (hdr_mode) {
    ADD("X-Amz-Date", c->amzdate, 16);
    if (v4a) ADD("X-Amz-Region-Set", rset, rset_len);
    if (r->token) {
      tok_idx = res->nadded;
      ADD("X-Amz-Security-Token", r->token, r->token_len);
    }
    if (r->content_sha256_header)
      ADD("X-Amz-Content-Sha256", r->payload_len > 64 ? r->payload : c->payload,
          r->payload_len > 64 ? r->payload_len : strlen(c->payload));
  }
#undef ADD
  for (i = 0; i < (size_t)res->nadded; i++) {
    const char *n = res->added_name[i];
    if (!sign_token && (int)i == tok_idx) continue; /* omit_session_token */
    extra[nextra].name = n;
    extra[nextra].nlen = strlen(n);
    extra[nextra].value = NULL; /* set below, once c->hdrs stops moving */
    extra[nextra].vlen = i;     /* index into added_*, for now */
    nextra++;
  }
  if (c->hdrs.oom) return LAWS_SIGV4_ENOMEM;
  for (i = 0; i < (size_t)res->nadded; i++)
    res->added_value[i] = c->hdrs.p + (size_t)(uintptr_t)res->added_value[i];
  for (i = 0; i < nextra; i++) {
    size_t k = extra[i].vlen;
    extra[i].value = res->added_value[k];
    extra[i].vlen = res->added_len[k];
  }
  /* c->strs receives the canonical header block; c->path is scratch here */
  laws_canon_headers(&c->strs, &c->signed_list, &c->path, &c->arr, r->headers, r->nheaders,
                     (const unsigned char *)c->skip.p, extra, nextra);
  res->dropped = (const unsigned char *)c->drop.p;

  if (!hdr_mode) {
    snprintf(expires, sizeof expires, "%ld", r->expires);
#define QX(K, V, VL) do { qx[nqx].k = (K); qx[nqx].kl = strlen(K); qx[nqx].v = (V); qx[nqx].vl = (VL); nqx++; } while (0)
    QX("X-Amz-Algorithm", alg, strlen(alg));
    laws_buf_add(&c->auth, r->access_key_id, r->akid_len); /* credential, reused for the URL */
    laws_buf_addc(&c->auth, '/');
    laws_buf_add(&c->auth, c->scope.p, c->scope.len);
    if (c->auth.oom || c->scope.oom) return LAWS_SIGV4_ENOMEM;
    QX("X-Amz-Credential", c->auth.p, c->auth.len);
    QX("X-Amz-Date", c->amzdate, 16);
    QX("X-Amz-Expires", expires, strlen(expires));
    if (v4a) QX("X-Amz-Region-Set", rset, rset_len);
    if (sign_token) QX("X-Amz-Security-Token", r->token, r->token_len);
    if (c->signed_list.oom) return LAWS_SIGV4_ENOMEM;
    QX("X-Amz-SignedHeaders", c->signed_list.p ? c->signed_list.p : "", c->signed_list.len);
#undef QX
  }

  /* canonical request */
  laws_buf_add(&c->canon, r->method, r->method_len);
  laws_buf_addc(&c->canon, '\n');
  laws_canon_path(&c->canon, u.path, u.path_len, r->normalize_path, r->double_encode);
  laws_buf_addc(&c->canon, '\n');
  laws_canon_query(&c->canon, &c->path, &c->arr, u.query, u.query_len, qx, nqx);
  laws_buf_addc(&c->canon, '\n');
  laws_buf_add(&c->canon, c->strs.p, c->strs.len);
  laws_buf_addc(&c->canon, '\n');
  laws_buf_add(&c->canon, c->signed_list.p, c->signed_list.len);
  laws_buf_addc(&c->canon, '\n');
  if (r->payload && r->payload_len > 64) laws_buf_add(&c->canon, r->payload, r->payload_len);
  else laws_buf_adds(&c->canon, c->payload);
  if (c->canon.oom || c->strs.oom) return LAWS_SIGV4_ENOMEM;

  /* string to sign */
  if (laws_hasher_sha256(c->hs, c->canon.p, c->canon.len, d) != 0) return LAWS_SIGV4_ECRYPTO;
  laws_hex(d, sizeof d, c->sechex);
  laws_buf_adds(&c->sts, alg);
  laws_buf_addc(&c->sts, '\n');
  laws_buf_add(&c->sts, c->amzdate, 16);
  laws_buf_addc(&c->sts, '\n');
  laws_buf_add(&c->sts, c->scope.p, c->scope.len);
  laws_buf_addc(&c->sts, '\n');
  laws_buf_add(&c->sts, c->sechex, 2 * LAWS_SHA256_LEN);
  if (c->sts.oom) return LAWS_SIGV4_ENOMEM;
  res->canonical_request = c->canon.p; res->canonical_len = c->canon.len;
  res->string_to_sign = c->sts.p; res->sts_len = c->sts.len;
  res->url = r->url; res->url_len = r->url_len;
  res->signature = "";
  if (r->canonical_only) return LAWS_SIGV4_OK;

  /* signature */
  if (v4a) {
    laws_ec_key *owned;
    const laws_ec_key *k = ec_key(c, r, &owned);
    unsigned char der[80];
    int n = k ? laws_sigv4a_sign(k, c->sts.p, c->sts.len, der, sizeof der) : -1;
    laws_sigv4a_key_free(owned);
    if (n < 0) return LAWS_SIGV4_ECRYPTO;
    for (i = 0; i < (size_t)n; i++) {
      char hx[3];
      laws_hex(der + i, 1, hx);
      laws_buf_add(&c->sig, hx, 2);
    }
  } else {
    laws_hmac_key *owned;
    const laws_hmac_key *hk = signing_key(c, r, c->amzdate, &owned);
    rc = hk ? laws_hasher_hmac_keyed(c->hs, hk, c->sts.p, c->sts.len, d) : -1;
    laws_hmac_key_free(owned);
    if (rc != 0) return LAWS_SIGV4_ECRYPTO;
    laws_hex(d, sizeof d, c->sechex);
    laws_buf_add(&c->sig, c->sechex, 2 * LAWS_SHA256_LEN);
  }
  if (c->sig.oom) return LAWS_SIGV4_ENOMEM;
  res->signature = c->sig.p; res->signature_len = c->sig.len;

  if (hdr_mode) {
    laws_buf_adds(&c->auth, alg);
    laws_buf_adds(&c->auth, " Credential=");
    laws_buf_add(&c->auth, r->access_key_id, r->akid_len);
    laws_buf_addc(&c->auth, '/');
    laws_buf_add(&c->auth, c->scope.p, c->scope.len);
    laws_buf_adds(&c->auth, ", SignedHeaders=");
    laws_buf_add(&c->auth, c->signed_list.p, c->signed_list.len);
    laws_buf_adds(&c->auth, ", Signature=");
    laws_buf_add(&c->auth, c->sig.p, c->sig.len);
    if (c->auth.oom) return LAWS_SIGV4_ENOMEM;
    res->added_name[res->nadded] = "Authorization";
    res->added_value[res->nadded] = c->auth.p;
    res->added_len[res->nadded++] = c->auth.len;
  } else {
    size_t end = (size_t)(u.query ? (u.query + u.query_len) - r->url : (u.path + u.path_len) - r->url);
    laws_buf_add(&c->url, r->url, end);
    if (!u.has_query) laws_buf_addc(&c->url, '?');
    else if (u.query_len && r->url[end - 1] != '&') laws_buf_addc(&c->url, '&');
    for (i = 0; i < nqx; i++) {
      laws_buf_add(&c->url, qx[i].k, qx[i].kl);
      laws_buf_addc(&c->url, '=');
      laws_uri_encode(&c->url, qx[i].v, qx[i].vl);
      laws_buf_addc(&c->url, '&');
    }
    if (r->token && !sign_token) {
      laws_buf_adds(&c->url, "X-Amz-Security-Token=");
      laws_uri_encode(&c->url, r->token, r->token_len);
      laws_buf_addc(&c->url, '&');
    }
    laws_buf_adds(&c->url, "X-Amz-Signature=");
    laws_buf_add(&c->url, c->sig.p, c->sig.len);
    if (c->url.oom) return LAWS_SIGV4_ENOMEM;
    res->url = c->url.p; res->url_len = c->url.len;
  }
  return LAWS_SIGV4_OK;
}
