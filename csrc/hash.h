/* SHA-256 / HMAC-SHA256 helpers over OpenSSL 3 (pure C, no lua.h). */
#ifndef LAWS_HASH_H
#define LAWS_HASH_H
#include <stddef.h>

#define LAWS_SHA256_LEN 32

/* All return 0 on success, -1 when OpenSSL fails (out of memory, provider missing). */
int laws_sha256(const void *data, size_t len, unsigned char out[LAWS_SHA256_LEN]);
int laws_hmac_sha256(const void *key, size_t klen, const void *data, size_t dlen,
                     unsigned char out[LAWS_SHA256_LEN]);
/* Reusable contexts for callers that hash many small inputs (the signer): saves an
 * allocation and a provider lookup per call. One per thread; NULL from new on failure. */
typedef struct laws_hasher laws_hasher;
laws_hasher *laws_hasher_new(void);
void laws_hasher_free(laws_hasher *h);
int laws_hasher_sha256(laws_hasher *h, const void *data, size_t len, unsigned char out[LAWS_SHA256_LEN]);
int laws_hasher_hmac(laws_hasher *h, const void *key, size_t klen, const void *data, size_t dlen,
                     unsigned char out[LAWS_SHA256_LEN]);

/* An HMAC-SHA256 key with its inner and outer digest states precomputed, for a key used
 * many times (the cached SigV4 signing key): each MAC then skips the two key blocks. */
typedef struct laws_hmac_key laws_hmac_key;
laws_hmac_key *laws_hmac_key_new(const void *key, size_t klen);
void laws_hmac_key_free(laws_hmac_key *k); /* the states are cleared by OpenSSL on free */
int laws_hasher_hmac_keyed(laws_hasher *h, const laws_hmac_key *k, const void *data, size_t dlen,
                           unsigned char out[LAWS_SHA256_LEN]);

/* Writes 2*len lower-case hex digits and a NUL to out (size 2*len+1). */
void laws_hex(const unsigned char *in, size_t len, char *out);
/* Parses 2*len hex digits; returns 0, or -1 on a non-hex digit. */
int laws_unhex(const char *in, size_t len, unsigned char *out);

#endif
