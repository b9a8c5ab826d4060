/* libFuzzer target for the SigV4 canonicaliser: URL (path + query) and headers.
 * Input: byte 0 = flags, then lines: URL, header lines "name:value", an empty line, body.
 * Besides "no crash / no sanitizer report" it checks properties that must always hold:
 *   - the canonical path and query use only unreserved characters, '%XX', '/', '=', '&';
 *   - query canonicalisation is idempotent (canonical form of a canonical query is itself);
 *   - the canonical path has no '/' after a final dot segment unless the path ends in '/';
 *   - the stages agree: the string to sign is laws_sigv4_string_to_sign over the scope and the
 *     hash of the canonical request the signer reports;
 *   - a signature is 64 hex digits, and the same input signs the same twice. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sigv4_int.h"

#define MAXH 64

static laws_sigv4_ctx *ctx;
static laws_hasher *hasher;

static void check_charset(const char *s, size_t n, const char *extra) {
  size_t i;
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr("-._~", c)) continue;
    if (c == '%' && n - i > 2) { i += 2; continue; }
    if (c && strchr(extra, c)) continue;
    abort();
  }
}

static void query_props(const char *q, size_t n) {
  laws_buf a = {0}, b = {0}, s = {0}, arr = {0};
  laws_canon_query(&a, &s, &arr, q, n, NULL, 0);
  if (!a.oom) {
    check_charset(a.p ? a.p : "", a.len, "=&");
    laws_canon_query(&b, &s, &arr, a.p ? a.p : "", a.len, NULL, 0);
    if (!b.oom && (a.len != b.len || (a.len && memcmp(a.p, b.p, a.len) != 0))) abort();
  }
  laws_buf_free(&a); laws_buf_free(&b); laws_buf_free(&s); laws_buf_free(&arr);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  laws_sigv4_header h[MAXH];
  laws_sigv4_request r;
  const laws_sigv4_result *res;
  const char *p = (const char *)data + 1, *end = (const char *)data + size, *nl;
  laws_buf path = {0};
  char sig1[65];
  unsigned flags;
  int rc;
  if (size < 1) return 0;
  if (ctx == NULL && (ctx = laws_sigv4_ctx_new()) == NULL) abort();
  flags = data[0];
  memset(&r, 0, sizeof r);
  r.method = "POST"; r.method_len = 4;
  nl = memchr(p, '\n', (size_t)(end - p));
  r.url = p; r.url_len = (size_t)((nl ? nl : end) - p);
  p = nl ? nl + 1 : end;
  while (p < end && r.nheaders < MAXH) {
    const char *colon;
    nl = memchr(p, '\n', (size_t)(end - p));
    if (nl == p) { p++; break; }
    if (!nl) nl = end;
    colon = memchr(p, ':', (size_t)(nl - p));
    h[r.nheaders].name = p;
    h[r.nheaders].nlen = (size_t)((colon ? colon : nl) - p);
    h[r.nheaders].value = colon ? colon + 1 : nl;
    h[r.nheaders].vlen = colon ? (size_t)(nl - colon - 1) : 0;
    r.nheaders++;
    p = nl < end ? nl + 1 : end;
  }
  r.headers = h;
  r.body = p; r.body_len = (size_t)(end - p);
  r.access_key_id = "AKIDEXAMPLE"; r.akid_len = 11;
  r.secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"; r.secret_len = 40;
  if (flags & 1) { r.token = "tok/en+=="; r.token_len = 9; }
  r.service = "service"; r.service_len = 7;
  r.region = "us-east-1"; r.region_len = 9;
  r.time = 1440938160 + (int64_t)(flags >> 5) * 86400;
  r.presign = (flags & 2) != 0;
  r.expires = 900;
  r.normalize_path = (flags & 4) != 0;
  r.double_encode = (flags & 8) != 0;
  r.allow_folded = (flags & 16) != 0;
  r.content_sha256_header = (flags & 1) != 0;
  r.canonical_only = (flags & 0x60) == 0x60 ? 0 : 1;

  rc = laws_sigv4_sign(ctx, &r, &res);
  if (rc == LAWS_SIGV4_OK) {
    laws_url u;
    char err[160];
    const char *c = res->canonical_request, *l2, *l3;
    if (laws_url_parse(r.url, r.url_len, &u, err) != 0) abort(); /* sign accepted it */
    /* line 2 = canonical path, line 3 = canonical query */
    l2 = strchr(c, '\n') + 1;
    l3 = strchr(l2, '\n') + 1;
    check_charset(l2, (size_t)(l3 - l2 - 1), "/");
    check_charset(l3, (size_t)(strchr(l3, '\n') - l3), "=&");
    laws_canon_path(&path, u.path, u.path_len, r.normalize_path, r.double_encode);
    if (!path.oom && (path.len != (size_t)(l3 - l2 - 1) || memcmp(path.p, l2, path.len) != 0)) abort();
    if (r.normalize_path && path.len > 1 && path.p[path.len - 1] == '/' && u.path_len > 0 &&
        u.path[u.path_len - 1] != '/')
      abort();
    laws_buf_free(&path);
    if (u.has_query) query_props(u.query, u.query_len);
    {
      laws_buf scope = {0}, sts = {0};
      char hash[65];
      laws_sigv4_scope(&scope, strchr(res->string_to_sign, '\n') + 1, r.region, r.region_len, r.service, r.service_len);
      if (hasher == NULL && (hasher = laws_hasher_new()) == NULL) abort();
      if (laws_sigv4_canonical_hash(hasher, res->canonical_request, res->canonical_len, hash) != 0) abort();
      laws_sigv4_string_to_sign(&sts, "AWS4-HMAC-SHA256", strchr(res->string_to_sign, '\n') + 1, scope.p, scope.len, hash);
      if (!sts.oom && (sts.len != res->sts_len || memcmp(sts.p, res->string_to_sign, sts.len) != 0)) abort();
      laws_buf_free(&scope);
      laws_buf_free(&sts);
    }
    if (!r.canonical_only) {
      if (res->signature_len != 64) abort();
      memcpy(sig1, res->signature, 65);
      if (laws_sigv4_sign(ctx, &r, &res) != LAWS_SIGV4_OK || memcmp(sig1, res->signature, 65) != 0) abort();
    }
  } else if (rc != LAWS_SIGV4_EINVAL) {
    abort();
  }
  return 0;
}
