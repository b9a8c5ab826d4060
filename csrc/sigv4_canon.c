/* SigV4 canonicalisation: URL split, canonical path, query and headers.
 * Inputs are untrusted bytes (fuzzed in fuzz/fuzz_canonical.c): every index is bounded
 * by an explicit length, nothing assumes NUL termination. */
#include "sigv4_int.h"
#include "text.h"

#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* Byte classes (see sigv4_int.h): LAWS_C_UNRESERVED = RFC 3986 unreserved (ALPHA DIGIT - . _ ~),
 * LAWS_C_TCHAR = RFC 9110 tchar (ALPHA DIGIT ! # $ % & ' * + - . ^ _ ` | ~). One lookup a byte
 * instead of a chain of range compares: paths, queries and header names go through these. */
const unsigned char laws_cclass[256] = {
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,  /* 0x00 */
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,  /* 0x10 */
  0, 2, 0, 2, 2, 2, 2, 2, 0, 0, 2, 2, 0, 3, 3, 0,  /* 0x20 */
  3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 0, 0, 0, 0, 0, 0,  /* 0x30 */
  0, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,  /* 0x40 */
  3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 0, 0, 0, 2, 3,  /* 0x50 */
  2, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,  /* 0x60 */
  3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 0, 2, 0, 3, 0,  /* 0x70 */
  /* 0x80..0xff: none */
};

static int is_alpha(unsigned char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static int is_digit(unsigned char c) { return c >= '0' && c <= '9'; }
static int is_unreserved(unsigned char c) { return laws_cclass[c] & LAWS_C_UNRESERVED; }
static int hexval(unsigned char c) {
  if (is_digit(c)) return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
static const char HEX[] = "0123456789ABCDEF";

static void add_pct(laws_buf *out, unsigned char c) {
  char e[3];
  e[0] = '%'; e[1] = HEX[c >> 4]; e[2] = HEX[c & 15];
  laws_buf_add(out, e, 3);
}

size_t laws_uri_plain_len(const char *s, size_t len, int keep_slash) {
  size_t i;
  for (i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    if (!is_unreserved(c) && !(keep_slash && c == '/')) break;
  }
  return i;
}

#ifdef __SSE2__
/* Bit j set when byte j of the 16 at s is plain (unreserved, or '/' with keep_slash). Bytes
 * >= 0x80 are negative as signed and match nothing. */
static unsigned plain16(const char *s, __m128i slash) {
  __m128i x = _mm_loadu_si128((const __m128i *)(const void *)s);
  __m128i l = _mm_or_si128(x, _mm_set1_epi8(0x20));
  __m128i ok = _mm_and_si128(_mm_cmpgt_epi8(x, _mm_set1_epi8('0' - 1)), _mm_cmplt_epi8(x, _mm_set1_epi8('9' + 1)));
  ok = _mm_or_si128(ok, _mm_and_si128(_mm_cmpgt_epi8(l, _mm_set1_epi8('a' - 1)), _mm_cmplt_epi8(l, _mm_set1_epi8('z' + 1))));
  ok = _mm_or_si128(ok, _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('-')), _mm_cmpeq_epi8(x, _mm_set1_epi8('.'))));
  ok = _mm_or_si128(ok, _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('_')), _mm_cmpeq_epi8(x, _mm_set1_epi8('~'))));
  ok = _mm_or_si128(ok, _mm_cmpeq_epi8(x, slash));
  return (unsigned)_mm_movemask_epi8(ok);
}
#endif

/* bench/10-sign.sh fast path: one pass writing into reserved room (3 bytes a byte at most),
 * sixteen bytes classified at once, a plain block copied whole: a presigned URL encodes the
 * session token twice. */
void laws_uri_encode_ex(laws_buf *out, const char *s, size_t len, int keep_slash) {
  size_t i = 0;
  char *d;
  if (len == 0) return;
  if (len > ((size_t)-1) / 3) { out->oom = 1; return; }
  if (laws_buf_reserve(out, 3 * len) != 0) return;
  d = out->p + out->len;
#ifdef __SSE2__
  {
    __m128i slash = _mm_set1_epi8(keep_slash ? '/' : 'a');  /* 'a' is plain anyway */
    for (; i + 16 <= len; i += 16) {
      unsigned m = plain16(s + i, slash), j;
      if (m == 0xffffu) {
        _mm_storeu_si128((__m128i *)(void *)d, _mm_loadu_si128((const __m128i *)(const void *)(s + i)));
        d += 16;
        continue;
      }
      for (j = 0; j < 16; j++) {
        unsigned char c = (unsigned char)s[i + j];
        if (m >> j & 1) {
          *d++ = (char)c;
        } else {
          d[0] = '%'; d[1] = HEX[c >> 4]; d[2] = HEX[c & 15];
          d += 3;
        }
      }
    }
  }
#endif
  for (; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    if (is_unreserved(c) || (c == '/' && keep_slash)) {
      *d++ = (char)c;
    } else {
      d[0] = '%'; d[1] = HEX[c >> 4]; d[2] = HEX[c & 15];
      d += 3;
    }
  }
  *d = '\0';
  out->len = (size_t)(d - out->p);
}

void laws_uri_encode(laws_buf *out, const char *s, size_t len) { laws_uri_encode_ex(out, s, len, 0); }

int laws_url_parse(const char *url, size_t len, laws_url *u, char *err) {
  size_t i = 0, a, e;
  memset(u, 0, sizeof *u);
  while (i < len && (is_alpha((unsigned char)url[i]) ||
                     (i > 0 && (is_digit((unsigned char)url[i]) || url[i] == '+' || url[i] == '-' || url[i] == '.'))))
    i++;
  if (i == 0 || len - i < 3 || memcmp(url + i, "://", 3) != 0) {
    strcpy(err, "request.url must be absolute (scheme://host/path): no scheme");
    return -1;
  }
  u->scheme = url; u->scheme_len = i;
  a = i + 3;
  for (e = a; e < len && url[e] != '/' && url[e] != '?' && url[e] != '#'; e++) {}
  u->authority = url + a; u->authority_len = e - a;
  u->host = u->authority; u->host_len = u->authority_len;
  if (memchr(url + a, '@', e - a) != NULL)  /* drop any userinfo: it is never part of Host */
    for (i = a; i < e; i++)
      if (url[i] == '@') { u->host = url + i + 1; u->host_len = e - i - 1; }
  if (laws_span_ge(url, len, 0x20) != len) {
    strcpy(err, "request.url contains a control character");
    return -1;
  }
  if (u->host_len == 0 || u->host[0] == ':') {
    strcpy(err, "request.url has no host");
    return -1;
  }
  /* the default port is not sent in Host by HTTP clients, so it is not signed either */
  if (u->host_len > 4 && u->scheme_len == 5 && memcmp(u->host + u->host_len - 4, ":443", 4) == 0 &&
      (url[0] | 0x20) == 'h')
    u->host_len -= 4;
  else if (u->host_len > 3 && u->scheme_len == 4 && memcmp(u->host + u->host_len - 3, ":80", 3) == 0)
    u->host_len -= 3;
  u->path = url + e;
  {  /* bench/10-sign.sh fast path: the path and query ends found by memchr, not a byte loop */
    const char *hash = memchr(url + e, '#', len - e), *q;
    size_t end = hash ? (size_t)(hash - url) : len;
    q = memchr(url + e, '?', end - e);
    i = q ? (size_t)(q - url) : end;
    u->path_len = i - e;
    if (q) {
      u->has_query = 1;
      u->query = url + i + 1;
      u->query_len = end - i - 1;
    }
  }
  return 0;
}

/* Appends path[0..len) encoded: double = every byte not unreserved or '/' (so '%' -> %25),
 * single (S3) = existing %XX kept (hex upper-cased), other reserved bytes encoded. */
static void encode_path(laws_buf *out, const char *p, size_t len, int double_encode) {
  size_t i, run;
  for (i = 0; i < len; i++) {
    unsigned char c = (unsigned char)p[i];
    if (is_unreserved(c) || c == '/') {
      for (run = i + 1; run < len && (is_unreserved((unsigned char)p[run]) || p[run] == '/'); run++) {}
      laws_buf_add(out, p + i, run - i);
      i = run - 1;
    }
    else if (!double_encode && c == '%' && len - i > 2 &&
             hexval((unsigned char)p[i + 1]) >= 0 && hexval((unsigned char)p[i + 2]) >= 0) {
      char e[3];
      e[0] = '%'; e[1] = HEX[hexval((unsigned char)p[i + 1])]; e[2] = HEX[hexval((unsigned char)p[i + 2])];
      laws_buf_add(out, e, 3);
      i += 2;
    } else add_pct(out, c);
  }
}

void laws_canon_path(laws_buf *out, const char *path, size_t len, int normalize, int double_encode) {
  size_t i = 0, s, base = out->len;
  int trailing = 0;
  if (len == 0) { laws_buf_addc(out, '/'); return; }
  if (!normalize) { encode_path(out, path, len, double_encode); return; }
  /* RFC 3986 remove_dot_segments plus empty segments collapsed ("//" -> "/"), written
   * straight to out: ".." cuts out back to the previous segment. A trailing '/' is kept only
   * when the path itself ends in '/': "/a/b/." is "/a/b", as botocore and smithy-rs sign it. */
  laws_buf_addc(out, '/');
  while (i <= len && !out->oom) {
    for (s = i; i < len && path[i] != '/'; i++) {}
    trailing = 0;
    if (i - s == 0) {
      trailing = s > 0;
    } else if (i - s == 1 && path[s] == '.') {
      /* nothing: "." names the segment it is in */
    } else if (i - s == 2 && path[s] == '.' && path[s + 1] == '.') {
      while (out->len > base + 1 && out->p[out->len - 1] != '/') out->len--;
      if (out->len > base + 1) out->len--; /* the '/' before the removed segment */
      out->p[out->len] = '\0';
    } else {
      if (out->len > base + 1) laws_buf_addc(out, '/');
      encode_path(out, path + s, i - s, double_encode);
    }
    i++;
  }
  if (trailing && out->len > base + 1) laws_buf_addc(out, '/');
}

/* Decodes %XX (an invalid escape stays literal) and re-encodes with the unreserved set.
 * bench/10-sign.sh fast path: written straight into reserved room (3 bytes a byte at most). */
static void reencode(laws_buf *out, const char *s, size_t len) {
  size_t i;
  char *d;
  if (len == 0) return;
  if (len > ((size_t)-1) / 3) { out->oom = 1; return; }
  if (laws_buf_reserve(out, 3 * len) != 0) return;
  d = out->p + out->len;
  for (i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '%' && len - i > 2 && hexval((unsigned char)s[i + 1]) >= 0 && hexval((unsigned char)s[i + 2]) >= 0) {
      c = (unsigned char)(hexval((unsigned char)s[i + 1]) << 4 | hexval((unsigned char)s[i + 2]));
      i += 2;
    }
    if (is_unreserved(c)) {
      *d++ = (char)c;
    } else {
      d[0] = '%'; d[1] = HEX[c >> 4]; d[2] = HEX[c & 15];
      d += 3;
    }
  }
  *d = '\0';
  out->len = (size_t)(d - out->p);
}

static int bytecmp(const char *a, size_t al, const char *b, size_t bl) {
  int r = memcmp(a, b, al < bl ? al : bl);
  if (r) return r;
  return al < bl ? -1 : al > bl;
}

static int kv_cmp(const void *x, const void *y) {
  const laws_kv *a = x, *b = y;
  int r = bytecmp(a->k, a->kl, b->k, b->kl);
  if (!r) r = bytecmp(a->v, a->vl, b->v, b->vl);
  if (!r) r = a->idx < b->idx ? -1 : a->idx > b->idx;
  return r;
}

/* A request has a handful of headers and query pairs: insertion sort beats qsort's indirect
 * calls up to a few dozen; qsort keeps a long list O(n log n). Both are stable here: every
 * comparison ends on the entry's index. */
static void sort_kv(laws_kv *kv, size_t n, int (*cmp)(const void *, const void *)) {
  size_t i, j;
  if (n > 24) {
    qsort(kv, n, sizeof *kv, cmp);
    return;
  }
  for (i = 1; i < n; i++) {
    laws_kv x = kv[i];
    for (j = i; j > 0 && cmp(&kv[j - 1], &x) > 0; j--) kv[j] = kv[j - 1];
    kv[j] = x;
  }
}

/* Pairs are first written as offsets into strs (which may move while growing), then
 * turned into pointers for sorting once strs is complete. */
static void push_pair(laws_buf *strs, laws_buf *arr, size_t ko, size_t vo) {
  laws_kv kv;
  kv.k = NULL; kv.v = NULL; kv.orig = NULL;
  kv.idx = ko; kv.kl = vo - ko; kv.vl = strs->len - vo;
  laws_buf_add(arr, &kv, sizeof kv);
}

void laws_canon_query(laws_buf *out, laws_buf *strs, laws_buf *arr, const char *q, size_t qlen,
                      const laws_kv *extra, size_t nextra) {
  size_t i = 0, s, eq, n, ko, vo;
  const char *base;
  laws_kv *kv;
  strs->len = 0; arr->len = 0;
  while (i < qlen) {
    for (s = i; i < qlen && q[i] != '&'; i++) {}
    if (i > s) {
      for (eq = s; eq < i && q[eq] != '='; eq++) {}
      ko = strs->len;
      reencode(strs, q + s, eq - s);
      vo = strs->len;
      if (eq < i) reencode(strs, q + eq + 1, i - eq - 1);
      push_pair(strs, arr, ko, vo);
    }
    i++;
  }
  for (i = 0; i < nextra; i++) {
    ko = strs->len;
    laws_buf_add(strs, extra[i].k, extra[i].kl);
    vo = strs->len;
    laws_buf_add(strs, extra[i].v, extra[i].vl);
    push_pair(strs, arr, ko, vo);
  }
  if (strs->oom || arr->oom) { out->oom = 1; return; }
  n = arr->len / sizeof(laws_kv);
  kv = (laws_kv *)(void *)arr->p;
  base = strs->p ? strs->p : ""; /* "?=" gives pairs of empty strings and no bytes at all */
  for (i = 0; i < n; i++) {
    size_t off = kv[i].idx;
    kv[i].k = base + off;
    kv[i].v = base + off + kv[i].kl;
    kv[i].idx = i;
  }
  sort_kv(kv, n, kv_cmp);
  for (i = 0; i < n; i++) {
    if (i) laws_buf_addc(out, '&');
    laws_buf_add(out, kv[i].k, kv[i].kl);
    laws_buf_addc(out, '=');
    laws_buf_add(out, kv[i].v, kv[i].vl);
  }
}

static int is_ws(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

/* Trims and collapses every whitespace run (an obs-fold included) into one space. */
static void canon_value(laws_buf *out, const char *v, size_t len) {
  size_t i = 0, s;
  int first = 1;
  while (i < len) {
    while (i < len && is_ws(v[i])) i++;
    s = i;
    while (i < len) {  /* whitespace is below 0x21: runs above it are skipped eight bytes at a time */
      i += laws_span_ge(v + i, len - i, 0x21);
      if (i >= len || is_ws(v[i])) break;
      i++;  /* a control byte that is not whitespace */
    }
    if (i > s) {
      if (!first) laws_buf_addc(out, ' ');
      laws_buf_add(out, v + s, i - s);
      first = 0;
    }
  }
}

static void push_header(laws_buf *strs, laws_buf *arr, const char *name, size_t nlen,
                        const char *value, size_t vlen) {
  laws_kv kv;
  size_t i, ko = strs->len;
  laws_buf_add(strs, name, nlen);
  if (strs->oom) return;
  for (i = ko; i < ko + nlen; i++) {
    char c = strs->p[i];
    if (c >= 'A' && c <= 'Z') strs->p[i] = (char)(c + 32);
  }
  canon_value(strs, value, vlen);
  kv.k = NULL; kv.v = NULL; kv.orig = name;
  kv.kl = nlen; kv.vl = strs->len - ko - nlen;
  kv.idx = ko; /* offset for now; see push_pair */
  laws_buf_add(arr, &kv, sizeof kv);
}

static int hdr_cmp(const void *x, const void *y) {
  const laws_kv *a = x, *b = y;
  int r = bytecmp(a->k, a->kl, b->k, b->kl);
  /* "X-A" and "x-a" are two keys of a Lua table, met in no fixed order: order them by their
   * spelling; the values of one key (a list) keep their order */
  if (!r) r = bytecmp(a->orig, a->kl, b->orig, b->kl);
  if (!r) r = a->idx < b->idx ? -1 : a->idx > b->idx;
  return r;
}

void laws_canon_headers(laws_buf *canon, laws_buf *signed_list, laws_buf *strs, laws_buf *arr,
                        const laws_sigv4_header *h, size_t n, const unsigned char *skip,
                        const laws_sigv4_header *extra, size_t nextra) {
  size_t i, m;
  const char *base;
  laws_kv *kv;
  strs->len = 0; arr->len = 0;
  for (i = 0; i < n; i++)
    if (!skip[i]) push_header(strs, arr, h[i].name, h[i].nlen, h[i].value, h[i].vlen);
  for (i = 0; i < nextra; i++)
    push_header(strs, arr, extra[i].name, extra[i].nlen, extra[i].value, extra[i].vlen);
  if (strs->oom || arr->oom) { canon->oom = 1; return; }
  m = arr->len / sizeof(laws_kv);
  kv = (laws_kv *)(void *)arr->p;
  base = strs->p ? strs->p : "";
  for (i = 0; i < m; i++) {
    size_t off = kv[i].idx;
    kv[i].k = base + off;
    kv[i].v = base + off + kv[i].kl;
    kv[i].idx = i;
  }
  sort_kv(kv, m, hdr_cmp);
  for (i = 0; i < m; i++) {
    int same = i > 0 && bytecmp(kv[i].k, kv[i].kl, kv[i - 1].k, kv[i - 1].kl) == 0;
    if (same) {
      laws_buf_addc(canon, ',');
    } else {
      if (i) {
        laws_buf_addc(canon, '\n');
        laws_buf_addc(signed_list, ';');
      }
      laws_buf_add(canon, kv[i].k, kv[i].kl);
      laws_buf_addc(canon, ':');
      laws_buf_add(signed_list, kv[i].k, kv[i].kl);
    }
    laws_buf_add(canon, kv[i].v, kv[i].vl);
  }
  if (m) laws_buf_addc(canon, '\n');
}
