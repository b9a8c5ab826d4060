/* SHA-256 and HMAC-SHA256 with the algorithms fetched once: OpenSSL 3's implicit
 * fetch in the one-shot helpers (SHA256(), HMAC()) costs more than hashing a small
 * request, and signing hashes three small inputs per request. */
#include "hash.h"

#include <pthread.h>
#include <string.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

static pthread_once_t once = PTHREAD_ONCE_INIT;
static EVP_MD *md_sha256;
static EVP_MAC *mac_hmac;

static void fetch(void) {
  md_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
  mac_hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
}

int laws_sha256(const void *data, size_t len, unsigned char out[LAWS_SHA256_LEN]) {
  unsigned int n = 0;
  pthread_once(&once, fetch);
  if (md_sha256 == NULL) return -1;
  return EVP_Digest(data, len, out, &n, md_sha256, NULL) == 1 && n == LAWS_SHA256_LEN ? 0 : -1;
}

int laws_hmac_sha256(const void *key, size_t klen, const void *data, size_t dlen,
                     unsigned char out[LAWS_SHA256_LEN]) {
  EVP_MAC_CTX *ctx;
  OSSL_PARAM params[2];
  size_t n = 0;
  int ok;
  static const unsigned char nokey[1] = {0};
  pthread_once(&once, fetch);
  if (mac_hmac == NULL || (ctx = EVP_MAC_CTX_new(mac_hmac)) == NULL) return -1;
  params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0);
  params[1] = OSSL_PARAM_construct_end();
  /* An empty key is valid HMAC; OpenSSL wants a non-NULL pointer for it. */
  ok = EVP_MAC_init(ctx, klen ? key : nokey, klen, params) == 1 &&
       EVP_MAC_update(ctx, data, dlen) == 1 &&
       EVP_MAC_final(ctx, out, &n, LAWS_SHA256_LEN) == 1 && n == LAWS_SHA256_LEN;
  EVP_MAC_CTX_free(ctx); /* clears the keyed state */
  return ok ? 0 : -1;
}

void laws_hex(const unsigned char *in, size_t len, char *out) {
  static const char digits[] = "0123456789abcdef";
  size_t i;
  for (i = 0; i < len; i++) {
    out[2 * i] = digits[in[i] >> 4];
    out[2 * i + 1] = digits[in[i] & 15];
  }
  out[2 * len] = '\0';
}

static int nibble(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

int laws_unhex(const char *in, size_t len, unsigned char *out) {
  size_t i;
  for (i = 0; i < len; i++) {
    int hi = nibble(in[2 * i]), lo = nibble(in[2 * i + 1]);
    if (hi < 0 || lo < 0) return -1;
    out[i] = (unsigned char)(hi << 4 | lo);
  }
  return 0;
}
