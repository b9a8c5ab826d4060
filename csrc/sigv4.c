/* SigV4 / SigV4a signing in named stages, as aws-c-auth does:
 *   credential scope      laws_sigv4_scope
 *   canonical request     laws_sigv4_canonical_request, laws_sigv4_canonical_hash
 *   string to sign        laws_sigv4_string_to_sign
 *   signature             laws_sigv4_signature_hmac / laws_sigv4_signature_ecdsa
 * Each reads only its arguments (test/c/test_sigv4.c tests them alone). laws_sigv4_sign runs
 * them in order after validating the request and choosing the headers the signer adds, then
 * writes the Authorization header or the presigned URL. Canonicalisation pieces are in
 * sigv4_canon.c, the key caches in sigv4_keys.c, SigV4a keys in sigv4a.c. */
#include "sigv4_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>

struct laws_sigv4_ctx {
  laws_sigv4_keys keys;
  laws_hasher *hs;
  laws_buf canon, sts, sig, url, auth, strs, arr, signed_list, hdrs, scope, path, drop, skip;
  laws_buf canon_hdrs; /* the canonical header block */
  laws_buf qenc;       /* query mode: the X-Amz-* values, URI-encoded once */
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
  laws_buf_free(&c->skip); laws_buf_free(&c->canon_hdrs); laws_buf_free(&c->qenc);
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

/* ---- the stages ---- */

void laws_sigv4_scope(laws_buf *out, const char *amzdate, const char *region, size_t region_len,
                      const char *service, size_t service_len) {
  laws_buf_add(out, amzdate, 8);
  laws_buf_addc(out, '/');
  if (region != NULL) {
    laws_buf_add(out, region, region_len);
    laws_buf_addc(out, '/');
  }
  laws_buf_add(out, service, service_len);
  laws_buf_add(out, "/aws4_request", 13);
}

void laws_sigv4_canonical_request(laws_buf *out, laws_buf *strs, laws_buf *arr, const laws_sigv4_canon_parts *p) {
  laws_buf_add(out, p->method, p->method_len);
  laws_buf_addc(out, '\n');
  laws_canon_path(out, p->path, p->path_len, p->normalize_path, p->double_encode);
  laws_buf_addc(out, '\n');
  laws_canon_query(out, strs, arr, p->query, p->query_len, p->extra_query, p->nextra_query);
  laws_buf_addc(out, '\n');
  laws_buf_add(out, p->headers, p->headers_len);
  laws_buf_addc(out, '\n');
  laws_buf_add(out, p->signed_headers, p->signed_len);
  laws_buf_addc(out, '\n');
  laws_buf_add(out, p->payload, p->payload_len);
}

int laws_sigv4_canonical_hash(laws_hasher *hs, const char *creq, size_t len, char hex[2 * LAWS_SHA256_LEN + 1]) {
  unsigned char d[LAWS_SHA256_LEN];
  if (laws_hasher_sha256(hs, creq, len, d) != 0) return -1;
  laws_hex(d, sizeof d, hex);
  return 0;
}

void laws_sigv4_string_to_sign(laws_buf *out, const char *algorithm, const char *amzdate, const char *scope,
                               size_t scope_len, const char *creq_hash) {
  laws_buf_adds(out, algorithm);
  laws_buf_addc(out, '\n');
  laws_buf_add(out, amzdate, 16);
  laws_buf_addc(out, '\n');
  laws_buf_add(out, scope, scope_len);
  laws_buf_addc(out, '\n');
  laws_buf_add(out, creq_hash, 2 * LAWS_SHA256_LEN);
}

int laws_sigv4_signature_hmac(laws_buf *out, laws_hasher *hs, const laws_hmac_key *k, const char *sts, size_t len) {
  unsigned char d[LAWS_SHA256_LEN];
  char hex[2 * LAWS_SHA256_LEN + 1];
  if (laws_hasher_hmac_keyed(hs, k, sts, len, d) != 0) return -1;
  laws_hex(d, sizeof d, hex);
  laws_buf_add(out, hex, 2 * LAWS_SHA256_LEN);
  return 0;
}

int laws_sigv4_signature_ecdsa(laws_buf *out, const laws_ec_key *k, const char *sts, size_t len) {
  unsigned char der[80];
  char hex[2 * sizeof der + 1];
  int n = laws_sigv4a_sign(k, sts, len, der, sizeof der);
  if (n < 0) return -1;
  laws_hex(der, (size_t)n, hex);
  laws_buf_add(out, hex, 2 * (size_t)n);
  return 0;
}

/* ---- laws_sigv4_sign ---- */

/* Which request headers the signer replaces (dropped) or leaves unsigned (skip), and whether
 * the request names its own Host. */
static int classify_headers(laws_sigv4_ctx *c, const laws_sigv4_request *r, int *has_host) {
  int v4a = r->algorithm == LAWS_SIGV4A, hdr_mode = !r->presign, rc;
  size_t i;
  *has_host = 0;
  for (i = 0; i < r->nheaders; i++) {
    const laws_sigv4_header *h = &r->headers[i];
    int drop = 0, skip;
    if ((rc = check_header(c, h, r->allow_folded)) != 0) return rc;
    if (lower_eq(h->name, h->nlen, "host")) *has_host = 1;
    /* headers the signer sets replace any the caller sent (a retried request is re-signed) */
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
  return c->drop.oom || c->skip.oom ? LAWS_SIGV4_ENOMEM : LAWS_SIGV4_OK;
}

/* The payload hash: given, the hash of nothing (known), or SHA-256 of the body. */
static int payload_hash(laws_sigv4_ctx *c, const laws_sigv4_request *r, const char **p, size_t *len) {
  unsigned char d[LAWS_SHA256_LEN];
  if (r->payload) {
    *p = r->payload;
    *len = r->payload_len;
    return 0;
  }
  *len = 2 * LAWS_SHA256_LEN;
  if (r->body_len == 0) {
    *p = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    return 0;
  }
  if (laws_hasher_sha256(c->hs, r->body ? r->body : "", r->body_len, d) != 0) return -1;
  laws_hex(d, sizeof d, c->payload);
  *p = c->payload;
  return 0;
}

/* The headers the signer adds (res->added_*), in a fixed order; those signed are also listed
 * in extra for the canonical header block. Values are copied into c->hdrs (NUL-terminated);
 * their offsets are kept apart until the buffer stops growing. */
static int added_headers(laws_sigv4_ctx *c, const laws_sigv4_request *r, const laws_url *u, int has_host,
                         const char *payload, size_t payload_len, laws_sigv4_header *extra, size_t *nextra) {
  laws_sigv4_result *res = &c->res;
  size_t off[LAWS_SIGV4_MAX_ADDED], i;
  int sign_it[LAWS_SIGV4_MAX_ADDED];
  int v4a = r->algorithm == LAWS_SIGV4A;
#define ADD(NAME, V, VL, SIGNED) do { \
    off[res->nadded] = c->hdrs.len; sign_it[res->nadded] = (SIGNED); \
    res->added_name[res->nadded] = (NAME); res->added_len[res->nadded++] = (VL); \
    laws_buf_add(&c->hdrs, (V), (VL)); laws_buf_addc(&c->hdrs, '\0'); } while (0)
  if (!has_host) ADD("Host", u->host, u->host_len, 1);
  if (!r->presign) {
    ADD("X-Amz-Date", c->amzdate, 16, 1);
    if (v4a) ADD("X-Amz-Region-Set", r->region_set ? r->region_set : r->region,
                 r->region_set ? r->region_set_len : r->region_len, 1);
    if (r->token) ADD("X-Amz-Security-Token", r->token, r->token_len, !r->omit_session_token);
    if (r->content_sha256_header) ADD("X-Amz-Content-Sha256", payload, payload_len, 1);
  }
#undef ADD
  if (c->hdrs.oom) return LAWS_SIGV4_ENOMEM;
  *nextra = 0;
  for (i = 0; i < (size_t)res->nadded; i++) {
    res->added_value[i] = c->hdrs.p + off[i];
    if (!sign_it[i]) continue;
    extra[*nextra].name = res->added_name[i];
    extra[*nextra].nlen = strlen(res->added_name[i]);
    extra[*nextra].value = res->added_value[i];
    extra[*nextra].vlen = res->added_len[i];
    (*nextra)++;
  }
  return LAWS_SIGV4_OK;
}

/* Query mode: the X-Amz-* parameters signed with the URL. Their values are URI-encoded once,
 * into c->qenc, for both the canonical query and the URL (bench/10-sign.sh: the session token is
 * the longest of them); the offsets become pointers once c->qenc stops growing. */
static int presign_params(laws_sigv4_ctx *c, const laws_sigv4_request *r, const char *alg, laws_kv *qx, size_t *nqx) {
  const char *rset = r->region_set ? r->region_set : r->region;
  size_t rset_len = r->region_set ? r->region_set_len : r->region_len, off[7], i;
  *nqx = 0;
  snprintf(c->expires, sizeof c->expires, "%ld", r->expires);
  laws_buf_add(&c->auth, r->access_key_id, r->akid_len);
  laws_buf_addc(&c->auth, '/');
  laws_buf_add(&c->auth, c->scope.p, c->scope.len);
  if (c->auth.oom || c->signed_list.oom) return LAWS_SIGV4_ENOMEM;
#define QX(K, V, VL) do { qx[*nqx].k = (K); qx[*nqx].kl = sizeof(K) - 1; off[*nqx] = c->qenc.len; \
    laws_uri_encode(&c->qenc, (V), (VL)); qx[*nqx].vl = c->qenc.len - off[*nqx]; \
    qx[*nqx].orig = NULL; qx[*nqx].idx = 0; (*nqx)++; } while (0)
  QX("X-Amz-Algorithm", alg, strlen(alg));
  QX("X-Amz-Credential", c->auth.p, c->auth.len);
  QX("X-Amz-Date", c->amzdate, 16);
  QX("X-Amz-Expires", c->expires, strlen(c->expires));
  if (r->algorithm == LAWS_SIGV4A) QX("X-Amz-Region-Set", rset, rset_len);
  if (r->token && !r->omit_session_token) QX("X-Amz-Security-Token", r->token, r->token_len);
  QX("X-Amz-SignedHeaders", c->signed_list.p ? c->signed_list.p : "", c->signed_list.len);
#undef QX
  if (c->qenc.oom) return LAWS_SIGV4_ENOMEM;
  for (i = 0; i < *nqx; i++) qx[i].v = c->qenc.p ? c->qenc.p + off[i] : "";
  return LAWS_SIGV4_OK;
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
  for (i = 0; i < nqx; i++) {  /* keys are plain, values already encoded (presign_params) */
    laws_buf_add(&c->url, qx[i].k, qx[i].kl);
    laws_buf_addc(&c->url, '=');
    laws_buf_add(&c->url, qx[i].v, qx[i].vl);
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

static void reset(laws_sigv4_ctx *c) {
  laws_buf *b[] = { &c->canon, &c->sts, &c->sig, &c->url, &c->auth, &c->strs, &c->arr, &c->signed_list,
                    &c->hdrs, &c->scope, &c->path, &c->drop, &c->skip, &c->canon_hdrs, &c->qenc };
  size_t i;
  for (i = 0; i < sizeof b / sizeof b[0]; i++) {
    b[i]->len = 0;
    b[i]->oom = 0;
  }
  memset(&c->res, 0, sizeof c->res);
}

int laws_sigv4_sign(laws_sigv4_ctx *c, const laws_sigv4_request *r, const laws_sigv4_result **out) {
  laws_sigv4_result *res = &c->res;
  laws_sigv4_header extra[LAWS_SIGV4_MAX_ADDED];
  laws_sigv4_canon_parts cp;
  laws_kv qx[7];
  size_t nextra = 0, nqx = 0;
  int v4a = r->algorithm == LAWS_SIGV4A, has_host, rc;
  const char *alg = v4a ? "AWS4-ECDSA-P256-SHA256" : "AWS4-HMAC-SHA256";
  laws_url u;

  reset(c);
  *out = res;
  if ((rc = validate(c, r, &u)) != 0) return rc;
  amz_date(r->time, c->amzdate);
  if ((rc = classify_headers(c, r, &has_host)) != 0) return rc;
  res->dropped = (const unsigned char *)c->drop.p;
  memset(&cp, 0, sizeof cp);
  if (payload_hash(c, r, &cp.payload, &cp.payload_len) != 0) return LAWS_SIGV4_ECRYPTO;

  /* 1. credential scope */
  laws_sigv4_scope(&c->scope, c->amzdate, v4a ? NULL : r->region, r->region_len, r->service, r->service_len);
  if (c->scope.oom) return LAWS_SIGV4_ENOMEM;

  /* 2. canonical request (c->path is scratch for the header sort) */
  if ((rc = added_headers(c, r, &u, has_host, cp.payload, cp.payload_len, extra, &nextra)) != 0) return rc;
  laws_canon_headers(&c->canon_hdrs, &c->signed_list, &c->path, &c->arr, r->headers, r->nheaders,
                     (const unsigned char *)c->skip.p, extra, nextra);
  if (c->canon_hdrs.oom || c->signed_list.oom) return LAWS_SIGV4_ENOMEM;
  if (r->presign && (rc = presign_params(c, r, alg, qx, &nqx)) != 0) return rc;
  cp.method = r->method; cp.method_len = r->method_len;
  cp.path = u.path; cp.path_len = u.path_len;
  cp.query = u.query; cp.query_len = u.query_len;
  cp.normalize_path = r->normalize_path; cp.double_encode = r->double_encode;
  cp.extra_query = qx; cp.nextra_query = nqx;
  cp.headers = c->canon_hdrs.p; cp.headers_len = c->canon_hdrs.len;
  cp.signed_headers = c->signed_list.p; cp.signed_len = c->signed_list.len;
  laws_sigv4_canonical_request(&c->canon, &c->strs, &c->arr, &cp);
  if (c->canon.oom) return LAWS_SIGV4_ENOMEM;
  if (laws_sigv4_canonical_hash(c->hs, c->canon.p, c->canon.len, c->sechex) != 0) return LAWS_SIGV4_ECRYPTO;

  /* 3. string to sign */
  laws_sigv4_string_to_sign(&c->sts, alg, c->amzdate, c->scope.p, c->scope.len, c->sechex);
  if (c->sts.oom) return LAWS_SIGV4_ENOMEM;
  res->canonical_request = c->canon.p; res->canonical_len = c->canon.len;
  res->string_to_sign = c->sts.p; res->sts_len = c->sts.len;
  res->url = r->url; res->url_len = r->url_len;
  res->signature = "";
  if (r->canonical_only) return LAWS_SIGV4_OK;

  /* 4. signature, with the cached key */
  if (v4a) {
    laws_ec_key *owned;
    const laws_ec_key *k = laws_keys_ec(&c->keys, r, &owned);
    rc = k ? laws_sigv4_signature_ecdsa(&c->sig, k, c->sts.p, c->sts.len) : -1;
    laws_sigv4a_key_free(owned);
  } else {
    laws_hmac_key *owned;
    const laws_hmac_key *hk = laws_keys_hmac(&c->keys, c->hs, r, c->amzdate, &owned);
    rc = hk ? laws_sigv4_signature_hmac(&c->sig, c->hs, hk, c->sts.p, c->sts.len) : -1;
    laws_hmac_key_free(owned);
  }
  if (rc != 0) return LAWS_SIGV4_ECRYPTO;
  if (c->sig.oom) return LAWS_SIGV4_ENOMEM;
  res->signature = c->sig.p; res->signature_len = c->sig.len;

  return r->presign ? finish_query(c, r, &u, qx, nqx) : finish_header(c, r, alg);
}
