/* SHA-256 / HMAC-SHA256 helpers over OpenSSL 3 (pure C, no lua.h). */
#ifndef LAWS_HASH_H
#define LAWS_HASH_H
#include <stddef.h>

#define LAWS_SHA256_LEN 32

/* All return 0 on success, -1 when OpenSSL fails (out of memory, provider missing). */
int laws_sha256(const void *data, size_t len, unsigned char out[LAWS_SHA256_LEN]);
int laws_hmac_sha256(const void *key, size_t klen, const void *data, size_t dlen,
                     unsigned char out[LAWS_SHA256_LEN]);
/* Writes 2*len lower-case hex digits and a NUL to out (size 2*len+1). */
void laws_hex(const unsigned char *in, size_t len, char *out);
/* Parses 2*len hex digits; returns 0, or -1 on a non-hex digit. */
int laws_unhex(const char *in, size_t len, unsigned char *out);

#endif
