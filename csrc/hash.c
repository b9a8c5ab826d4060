/* SHA-256 and HMAC-SHA256. The one-shot helpers are for occasional use; the signer hashes
 * three small inputs per request and uses a laws_hasher, which fetches the algorithms once
 * (OpenSSL 3's implicit fetch costs more than hashing a small request) and reuses its
 * contexts. Nothing is cached in statics: core.so is unloaded by lua_close, and a static
 * fetch would then be leaked. */
#include "hash.h"

#include <stdlib.h>
#include <string.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/params.h>

int laws_sha256(const void *data, size_t len, unsigned char out[LAWS_SHA256_LEN]) {
  unsigned int n = 0;
  return EVP_Digest(data, len, out, &n, EVP_sha256(), NULL) == 1 && n == LAWS_SHA256_LEN ? 0 : -1;
}

int laws_hmac_sha256(const void *key, size_t klen, const void *data, size_t dlen,
                     unsigned char out[LAWS_SHA256_LEN]) {
  static const unsigned char nokey[1] = {0};
  unsigned int n = 0;
  /* an empty key is valid HMAC; OpenSSL wants a non-NULL pointer for it */
  if (klen > 0x7fffffff) return -1;
  return HMAC(EVP_sha256(), klen ? key : nokey, (int)klen, data, dlen, out, &n) != NULL &&
         n == LAWS_SHA256_LEN ? 0 : -1;
}

struct laws_hasher {
  EVP_MD *sha;
  EVP_MAC *hmac;
  EVP_MD_CTX *md;
  EVP_MD_CTX *hm;  /* HMAC with a precomputed key: copies land here, so md keeps its SHA-256
                    * state allocated from one digest to the next (bench/10-sign.sh) */
  EVP_MAC_CTX *mac;
};

laws_hasher *laws_hasher_new(void) {
  laws_hasher *h = calloc(1, sizeof *h);
  OSSL_PARAM params[2];
  if (h == NULL) return NULL;
  h->sha = EVP_MD_fetch(NULL, "SHA256", NULL);
  h->hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
  h->md = EVP_MD_CTX_new();
  h->hm = EVP_MD_CTX_new();
  h->mac = h->hmac ? EVP_MAC_CTX_new(h->hmac) : NULL;
  params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0);
  params[1] = OSSL_PARAM_construct_end();
  /* the digest is set once: EVP_MAC_init with params would look it up again on every call */
  if (h->sha == NULL || h->md == NULL || h->hm == NULL || h->mac == NULL || EVP_MAC_CTX_set_params(h->mac, params) != 1) {
    laws_hasher_free(h);
    return NULL;
  }
  return h;
}

void laws_hasher_free(laws_hasher *h) {
  if (h == NULL) return;
  EVP_MD_CTX_free(h->md);
  EVP_MD_CTX_free(h->hm);  /* clears the last inner/outer state */
  EVP_MAC_CTX_free(h->mac); /* clears the last key's state */
  EVP_MAC_free(h->hmac);
  EVP_MD_free(h->sha);
  free(h);
}

int laws_hasher_sha256(laws_hasher *h, const void *data, size_t len, unsigned char out[LAWS_SHA256_LEN]) {
  unsigned int n = 0;
  return EVP_DigestInit_ex2(h->md, h->sha, NULL) == 1 && EVP_DigestUpdate(h->md, data, len) == 1 &&
         EVP_DigestFinal_ex(h->md, out, &n) == 1 && n == LAWS_SHA256_LEN ? 0 : -1;
}

int laws_hasher_hmac(laws_hasher *h, const void *key, size_t klen, const void *data, size_t dlen,
                     unsigned char out[LAWS_SHA256_LEN]) {
  static const unsigned char nokey[1] = {0};
  size_t n = 0;
  return EVP_MAC_init(h->mac, klen ? key : nokey, klen, NULL) == 1 && EVP_MAC_update(h->mac, data, dlen) == 1 &&
         EVP_MAC_final(h->mac, out, &n, LAWS_SHA256_LEN) == 1 && n == LAWS_SHA256_LEN ? 0 : -1;
}

struct laws_hmac_key {
  EVP_MD_CTX *inner, *outer;
};

laws_hmac_key *laws_hmac_key_new(const void *key, size_t klen) {
  unsigned char block[64], kd[LAWS_SHA256_LEN];
  laws_hmac_key *k;
  size_t i;
  int ok;
  if ((k = calloc(1, sizeof *k)) == NULL) return NULL;
  if (klen > sizeof block) { /* RFC 2104: a long key is hashed first */
    if (laws_sha256(key, klen, kd) != 0) { free(k); return NULL; }
    key = kd;
    klen = sizeof kd;
  }
  k->inner = EVP_MD_CTX_new();
  k->outer = EVP_MD_CTX_new();
  memset(block, 0, sizeof block);
  memcpy(block, key, klen);
  for (i = 0; i < sizeof block; i++) block[i] ^= 0x36;
  ok = k->inner && k->outer && EVP_DigestInit_ex2(k->inner, EVP_sha256(), NULL) == 1 &&
       EVP_DigestUpdate(k->inner, block, sizeof block) == 1;
  for (i = 0; i < sizeof block; i++) block[i] ^= 0x36 ^ 0x5c;
  ok = ok && EVP_DigestInit_ex2(k->outer, EVP_sha256(), NULL) == 1 && EVP_DigestUpdate(k->outer, block, sizeof block) == 1;
  OPENSSL_cleanse(block, sizeof block);
  OPENSSL_cleanse(kd, sizeof kd);
  if (!ok) {
    laws_hmac_key_free(k);
    return NULL;
  }
  return k;
}

void laws_hmac_key_free(laws_hmac_key *k) {
  if (k == NULL) return;
  EVP_MD_CTX_free(k->inner);
  EVP_MD_CTX_free(k->outer);
  free(k);
}

int laws_hasher_hmac_keyed(laws_hasher *h, const laws_hmac_key *k, const void *data, size_t dlen,
                           unsigned char out[LAWS_SHA256_LEN]) {
  unsigned char ih[LAWS_SHA256_LEN];
  unsigned int n = 0, m = 0;
  int ok = EVP_MD_CTX_copy_ex(h->hm, k->inner) == 1 && EVP_DigestUpdate(h->hm, data, dlen) == 1 &&
           EVP_DigestFinal_ex(h->hm, ih, &n) == 1 && EVP_MD_CTX_copy_ex(h->hm, k->outer) == 1 &&
           EVP_DigestUpdate(h->hm, ih, sizeof ih) == 1 && EVP_DigestFinal_ex(h->hm, out, &m) == 1;
  OPENSSL_cleanse(ih, sizeof ih);
  return ok && n == LAWS_SHA256_LEN && m == LAWS_SHA256_LEN ? 0 : -1;
}

void laws_hex(const unsigned char *in, size_t len, char *out) {
  /* two digits per table entry: one load and one store a byte (three hashes per signature) */
  static const char pairs[513] =
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
    "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
    "404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f"
    "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f"
    "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"
    "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf"
    "c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf"
    "e0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff";
  size_t i;
  for (i = 0; i < len; i++) memcpy(out + 2 * i, pairs + 2 * in[i], 2);
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
