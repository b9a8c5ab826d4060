/* SigV4 / SigV4a request signer (pure C, no lua.h).
 *
 * One laws_sigv4_ctx per Lua state (or per thread): it owns the signing-key caches and
 * the buffers reused by every signature, so a signature allocates nothing once warm.
 * The result points into the context and stays valid until the next call on it. */
#ifndef LAWS_SIGV4_H
#define LAWS_SIGV4_H
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

typedef struct {
  const char *name, *value;
  size_t nlen, vlen;
} laws_sigv4_header;

enum { LAWS_SIGV4_HMAC = 0, LAWS_SIGV4A = 1 };
enum { LAWS_SIGV4_OK = 0, LAWS_SIGV4_EINVAL = 1, LAWS_SIGV4_ECRYPTO = 2, LAWS_SIGV4_ENOMEM = 3 };

typedef struct {
  const char *method, *url;
  size_t method_len, url_len;
  const laws_sigv4_header *headers;
  size_t nheaders;
  const char *body;
  size_t body_len;
  const char *access_key_id, *secret, *token; /* token may be NULL */
  size_t akid_len, secret_len, token_len;
  const char *service, *region, *region_set;  /* region_set: sigv4a, NULL = region */
  size_t service_len, region_len, region_set_len;
  int64_t time;                               /* epoch seconds */
  int algorithm;                              /* LAWS_SIGV4_HMAC | LAWS_SIGV4A */
  int presign;
  long expires;                               /* presign only, 1..604800 */
  int normalize_path, double_encode;
  const char *payload;                        /* NULL: hex sha256 of body */
  size_t payload_len;
  int content_sha256_header, omit_session_token;
  int allow_folded;     /* accept LF/CR+whitespace (obs-fold) inside header values: C tests only */
  int canonical_only;   /* stop after the string to sign: no key, no signature */
} laws_sigv4_request;

#define LAWS_SIGV4_MAX_ADDED 6

typedef struct {
  const char *canonical_request, *string_to_sign, *signature, *url;
  size_t canonical_len, sts_len, signature_len, url_len;
  /* headers the signer adds, in this order; values NUL-terminated */
  const char *added_name[LAWS_SIGV4_MAX_ADDED];
  const char *added_value[LAWS_SIGV4_MAX_ADDED];
  size_t added_len[LAWS_SIGV4_MAX_ADDED];
  int nadded;
  /* dropped[i] != 0: request header i is replaced by the signer (e.g. an old X-Amz-Date) */
  const unsigned char *dropped;
  char error[160]; /* set on LAWS_SIGV4_EINVAL: names the field, never a secret */
} laws_sigv4_result;

typedef struct laws_sigv4_ctx laws_sigv4_ctx;

laws_sigv4_ctx *laws_sigv4_ctx_new(void);
void laws_sigv4_ctx_free(laws_sigv4_ctx *ctx); /* wipes cached keys */
int laws_sigv4_sign(laws_sigv4_ctx *ctx, const laws_sigv4_request *req, const laws_sigv4_result **res);
/* Number of derived keys currently cached (tests of the cache). */
int laws_sigv4_cached_keys(const laws_sigv4_ctx *ctx, int algorithm);

/* Canonicalisation pieces (sigv4_canon.c), exposed for tests and the fuzzer. Each
 * appends to out and returns 0, or -1 with a message in err (size 160). */
typedef struct {
  const char *scheme, *authority, *host, *path, *query;
  size_t scheme_len, authority_len, host_len, path_len, query_len;
  int has_query;
} laws_url;
int laws_url_parse(const char *url, size_t len, laws_url *u, char *err);
void laws_canon_path(laws_buf *out, const char *path, size_t len, int normalize, int double_encode);
void laws_uri_encode(laws_buf *out, const char *s, size_t len); /* RFC 3986 unreserved kept */
/* The same, '/' kept too when keep_slash (greedy URI labels); plain_len: how many leading bytes
 * need no encoding (len when none does). */
void laws_uri_encode_ex(laws_buf *out, const char *s, size_t len, int keep_slash);
size_t laws_uri_plain_len(const char *s, size_t len, int keep_slash);

/* SigV4a (sigv4a.c) */
typedef struct laws_ec_key laws_ec_key;
laws_ec_key *laws_sigv4a_derive(const char *akid, size_t akid_len, const char *secret, size_t secret_len);
void laws_sigv4a_key_free(laws_ec_key *k);
int laws_sigv4a_pubkey(const laws_ec_key *k, unsigned char x[32], unsigned char y[32]);
/* DER ECDSA signature of SHA-256(msg) into sig (cap 80); returns its length or -1. */
int laws_sigv4a_sign(const laws_ec_key *k, const void *msg, size_t len, unsigned char *sig, size_t cap);
/* 1 valid, 0 invalid, -1 bad key */
int laws_sigv4a_verify(const unsigned char x[32], const unsigned char y[32], const void *msg, size_t len,
                       const unsigned char *sig, size_t siglen);

#endif
