/* SigV4 / SigV4a signing: validation, the headers the signer adds, canonical request, string
 * to sign, header and query (presign) modes. Canonicalisation is in sigv4_canon.c, the key
 * caches in sigv4_keys.c, SigV4a keys in sigv4a.c. */
#include "sigv4_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>

struct laws_sigv4_ctx {
  laws_sigv4_keys keys;
  laws_hasher *hs;
  laws_buf canon, sts, sig, url, auth, strs, arr, signed_list, hdrs, scope, path, drop, skip;
  char amzdate[17], payload[65], sechex[2 * LAWS_SHA256_LEN + 1], expires[24];
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

void laws_sigv4_ctx_free(laws_sigv4_ctx *c) {
  if (c == NULL) return;
  laws_buf_free(&c->canon); laws_buf_free(&c->sts); laws_buf_free(&c->sig); laws_buf_free(&c->url);
  laws_buf_free(&c->auth); laws_buf_free(&c->strs); laws_buf_free(&c->arr); laws_buf_free(&c->signed_list);
  laws_buf_free(&c->hdrs); laws_buf_free(&c->scope); laws_buf_free(&c->path); laws_buf_free(&c->drop);
  laws_buf_free(&c->skip);
  laws_keys_clear(&c->keys);
  laws_hasher_free(c->hs);
  OPENSSL_cleanse(c, sizeof *c);
  free(c);
}

int laws_sigv4_cached_keys(const laws_sigv4_ctx *c, int algorithm) {
  return laws_keys_count(&c->keys, algorithm);
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

static int is_tchar(unsigned char ch) { return laws_cclass[ch] & LAWS_C_TCHAR; } /* RFC 9110 token */

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
  /* memchr scans are vectorised: three of them cost less than one compare chain a byte */
  if (h->vlen > 0 && (memchr(h->value, 0, h->vlen) ||
      (!allow_folded && (memchr(h->value, '\r', h->vlen) || memchr(h->value, '\n', h->vlen))))) {
    snprintf(c->res.error, sizeof c->res.error,
             "request.headers[\"%.*s\"]: value contains CR, LF or NUL (header injection)",
             h->nlen > 64 ? 64 : (int)h->nlen, h->name);
    return LAWS_SIGV4_EINVAL;
  }
  return 0;
}

static int check_payload(const char *p, size_t n) {
  size_t i;
  if ((n == 16 && memcmp(p, "UNSIGNED-PAYLOAD", 16) == 0) || (n > 10 && memcmp(p, "STREAMING-", 10) == 0)) return 0;
  if (n != 64) return -1;
  for (i = 0; i < n; i++)
    if (!strchr("0123456789abcdef", p[i]) || p[i] == 0) return -1;
  return 0;
}

/* Everything about r that is not a header; u receives the parsed URL. */
static int validate(laws_sigv4_ctx *c, const laws_sigv4_request *r, laws_url *u) {
  size_t i, rset_len = r->region_set ? r->region_set_len : r->region_len;
  int v4a = r->algorithm == LAWS_SIGV4A;
  if (r->method_len == 0) return fail(c, "request.method must not be empty");
  for (i = 0; i < r->method_len; i++)
    if (!is_tchar((unsigned char)r->method[i])) return fail(c, "request.method contains an invalid character");
  if (laws_url_parse(r->url, r->url_len, u, c->res.error) != 0) return LAWS_SIGV4_EINVAL;
  if (r->akid_len == 0) return fail(c, "credentials.access_key_id must not be empty");
  if (r->secret_len == 0) return fail(c, "credentials.secret_access_key must not be empty");
  if (r->service_len == 0) return fail(c, "options.service must not be empty");
  if (!v4a && r->region_len == 0) return fail(c, "options.region must not be empty");
  if (v4a && rset_len == 0) return fail(c, "options.region_set (or options.region) must not be empty");
  if (r->presign && (r->expires < 1 || r->expires > 604800)) return fail(c, "options.expires must be 1..604800 seconds");
  if (r->payload && check_payload(r->payload, r->payload_len) != 0)
    return fail(c, "options.payload must be nil, \"UNSIGNED-PAYLOAD\" or a lower-case hex SHA-256");
  if (r->time < 0 || r->time > 253402300799LL) return fail(c, "options.time is out of range");
  return 0;
}

static void add_hdr(laws_sigv4_result *res, const char *name, size_t off, size_t len) {
  res->added_name[res->nadded] = name;
  res->added_value[res->nadded] = (const char *)(uintptr_t)off; /* fixed up when c->hdrs is final */
  res->added_len[res->nadded++] = len;
}

/* Header mode: the Authorization header. */
static int finish_header(laws_sigv4_ctx *c, const laws_sigv4_request *r, const char *alg) {
  laws_sigv4_result *res = &c->res;
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
  return LAWS_SIGV4_OK;
}

/* Query mode: the URL as sent, plus the X-Amz-* parameters and the signature. */
static int finish_query(laws_sigv4_ctx *c, const laws_sigv4_request *r, const laws_url *u,
                        const laws_kv *qx, size_t nqx) {
  laws_sigv4_result *res = &c->res;
  size_t i, end = (size_t)(u->query ? (u->query + u->query_len) - r->url : (u->path + u->path_len) - r->url);
  laws_buf_add(&c->url, r->url, end);
  if (!u->has_query) laws_buf_addc(&c->url, '?');
  else if (u->query_len && r->url[end - 1] != '&') laws_buf_addc(&c->url, '&');
  for (i = 0; i < nqx; i++) {
    laws_buf_add(&c->url, qx[i].k, qx[i].kl);
    laws_buf_addc(&c->url, '=');
    laws_uri_encode(&c->url, qx[i].v, qx[i].vl);
    laws_buf_addc(&c->url, '&');
  }
  if (r->token && r->omit_session_token) { /* added after signing */
    laws_buf_adds(&c->url, "X-Amz-Security-Token=");
    laws_uri_encode(&c->url, r->token, r->token_len);
    laws_buf_addc(&c->url, '&');
  }
  laws_buf_adds(&c->url, "X-Amz-Signature=");
  laws_buf_add(&c->url, c->sig.p, c->sig.len);
  if (c->url.oom) return LAWS_SIGV4_ENOMEM;
  res->url = c->url.p; res->url_len = c->url.len;
  return LAWS_SIGV4_OK;
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

  memset(res, 0, sizeof *res);
  *out = res;
  c->canon.len = c->sts.len = c->sig.len = c->url.len = c->auth.len = c->strs.len = c->arr.len = 0;
  c->signed_list.len = c->hdrs.len = c->scope.len = c->path.len = c->drop.len = c->skip.len = 0;

  if ((rc = validate(c, r, &u)) != 0) return rc;
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
  } else if (r->body_len == 0) {  /* GET, DELETE...: the hash of nothing, known */
    memcpy(c->payload, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", 65);
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
    snprintf(c->expires, sizeof c->expires, "%ld", r->expires);
#define QX(K, V, VL) do { qx[nqx].k = (K); qx[nqx].kl = strlen(K); qx[nqx].v = (V); qx[nqx].vl = (VL); nqx++; } while (0)
    QX("X-Amz-Algorithm", alg, strlen(alg));
    laws_buf_add(&c->auth, r->access_key_id, r->akid_len); /* credential, reused for the URL */
    laws_buf_addc(&c->auth, '/');
    laws_buf_add(&c->auth, c->scope.p, c->scope.len);
    if (c->auth.oom || c->scope.oom) return LAWS_SIGV4_ENOMEM;
    QX("X-Amz-Credential", c->auth.p, c->auth.len);
    QX("X-Amz-Date", c->amzdate, 16);
    QX("X-Amz-Expires", c->expires, strlen(c->expires));
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
    const laws_ec_key *k = laws_keys_ec(&c->keys, r, &owned);
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
    const laws_hmac_key *hk = laws_keys_hmac(&c->keys, c->hs, r, c->amzdate, &owned);
    rc = hk ? laws_hasher_hmac_keyed(c->hs, hk, c->sts.p, c->sts.len, d) : -1;
    laws_hmac_key_free(owned);
    if (rc != 0) return LAWS_SIGV4_ECRYPTO;
    laws_hex(d, sizeof d, c->sechex);
    laws_buf_add(&c->sig, c->sechex, 2 * LAWS_SHA256_LEN);
  }
  if (c->sig.oom) return LAWS_SIGV4_ENOMEM;
  res->signature = c->sig.p; res->signature_len = c->sig.len;

  return hdr_mode ? finish_header(c, r, alg) : finish_query(c, r, &u, qx, nqx);
}
