/* Internal to sigv4*.c: canonicalisation pieces shared by the signer and its tests. */
#ifndef LAWS_SIGV4_INT_H
#define LAWS_SIGV4_INT_H
#include "sigv4.h"
#include "hash.h"

#define LAWS_NKEYS 8     /* (secret, date, region, service) -> kSigning */
#define LAWS_NAKEYS 4    /* (access key, secret) -> P-256 key */
#define LAWS_KFIELD 128  /* longer secrets/scopes are derived every time instead of cached */

struct laws_key_entry {
  uint64_t stamp;     /* 0: empty; else last use, for LRU */
  laws_hmac_key *hk;  /* kSigning, as precomputed HMAC states */
  char secret[LAWS_KFIELD], region[LAWS_KFIELD], service[LAWS_KFIELD], date[8];
  size_t slen, rlen, svlen;
};

struct laws_akey_entry {
  uint64_t stamp;
  laws_ec_key *k;
  char akid[LAWS_KFIELD], secret[LAWS_KFIELD];
  size_t alen, slen;
};

typedef struct {
  struct laws_key_entry keys[LAWS_NKEYS];
  struct laws_akey_entry akeys[LAWS_NAKEYS];
  uint64_t clock;
} laws_sigv4_keys;

/* sigv4_keys.c. The key for r, cached; when it cannot be cached (over-long secret) it is
 * returned in *owned too, and the caller frees it. NULL on failure. */
const laws_hmac_key *laws_keys_hmac(laws_sigv4_keys *ks, laws_hasher *hs, const laws_sigv4_request *r,
                                    const char *date, laws_hmac_key **owned);
const laws_ec_key *laws_keys_ec(laws_sigv4_keys *ks, const laws_sigv4_request *r, laws_ec_key **owned);
void laws_keys_clear(laws_sigv4_keys *ks); /* frees and wipes every entry */
int laws_keys_count(const laws_sigv4_keys *ks, int algorithm);

/* Byte classes, laws_cclass[byte] & bit (sigv4_canon.c). */
#define LAWS_C_UNRESERVED 1u  /* RFC 3986 unreserved */
#define LAWS_C_TCHAR 2u       /* RFC 9110 token character */
extern const unsigned char laws_cclass[256];

typedef struct {
  const char *k, *v, *orig; /* orig: the header name as given (sort tie-break) */
  size_t kl, vl, idx;
} laws_kv;

/* Canonical query string of q (as on the wire) plus extra pairs already URI-encoded (a presigned
 * URL's X-Amz-* parameters, encoded once for both the canonical query and the URL).
 * strs/arr are scratch buffers reused between calls. */
void laws_canon_query(laws_buf *out, laws_buf *strs, laws_buf *arr, const char *q, size_t qlen,
                      const laws_kv *extra, size_t nextra);
/* The signing stages (sigv4.c), in order; each reads only its arguments and appends to out. */

/* 1. Credential scope: "YYYYMMDD/region/service/aws4_request" from the 16-byte amzdate
 *    ("YYYYMMDDTHHMMSSZ"); region NULL (SigV4a): "YYYYMMDD/service/aws4_request". */
void laws_sigv4_scope(laws_buf *out, const char *amzdate, const char *region, size_t region_len,
                      const char *service, size_t service_len);

/* 2. Canonical request: method, canonical path, canonical query (the URL's, plus the encoded
 *    extra pairs of a presigned URL), canonical header block, signed header list and payload
 *    hash, one per line; then its hex SHA-256 (-1 if OpenSSL fails). strs/arr: scratch. */
typedef struct {
  const char *method, *path, *query;        /* path and query as on the wire */
  size_t method_len, path_len, query_len;
  int normalize_path, double_encode;
  const laws_kv *extra_query;
  size_t nextra_query;
  const char *headers, *signed_headers;     /* from laws_canon_headers */
  size_t headers_len, signed_len;
  const char *payload;                      /* hex SHA-256, UNSIGNED-PAYLOAD, STREAMING-... */
  size_t payload_len;
} laws_sigv4_canon_parts;
void laws_sigv4_canonical_request(laws_buf *out, laws_buf *strs, laws_buf *arr, const laws_sigv4_canon_parts *p);
int laws_sigv4_canonical_hash(laws_hasher *hs, const char *creq, size_t len, char hex[2 * LAWS_SHA256_LEN + 1]);

/* 3. String to sign: algorithm, amzdate, scope and the canonical request's hex hash, one per line. */
void laws_sigv4_string_to_sign(laws_buf *out, const char *algorithm, const char *amzdate, const char *scope,
                               size_t scope_len, const char *creq_hash);

/* 4. Signature, appended as hex: HMAC-SHA256 with the derived kSigning (SigV4), or the DER
 *    ECDSA-P256-SHA256 signature (SigV4a, randomised). 0, or -1 if OpenSSL fails. */
int laws_sigv4_signature_hmac(laws_buf *out, laws_hasher *hs, const laws_hmac_key *k, const char *sts, size_t len);
int laws_sigv4_signature_ecdsa(laws_buf *out, const laws_ec_key *k, const char *sts, size_t len);

/* Canonical header block ("name:value\n" each) and signed-header list of the headers whose
 * skip[i] is 0, plus extra (already lower-case, canonical) headers. */
void laws_canon_headers(laws_buf *canon, laws_buf *signed_list, laws_buf *strs, laws_buf *arr,
                        const laws_sigv4_header *h, size_t n, const unsigned char *skip,
                        const laws_sigv4_header *extra, size_t nextra);
#endif
