/* SigV4a keys: the P-256 key derived from the credentials (NIST SP 800-108 counter KDF,
 * HMAC-SHA256, as aws-c-auth does), ECDSA-SHA256 signing and verification (OpenSSL 3 EVP). */
#include "sigv4.h"
#include "hash.h"

#include <stdlib.h>
#include <string.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>

struct laws_ec_key {
  EVP_PKEY *pkey;
  unsigned char pub[65]; /* 04 || X || Y */
};

static const char LABEL[] = "AWS4-ECDSA-P256-SHA256";

static EVP_PKEY *from_params(const BIGNUM *priv, const unsigned char *pub, size_t publen) {
  OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
  OSSL_PARAM *params = NULL;
  EVP_PKEY_CTX *pctx = NULL;
  EVP_PKEY *pkey = NULL;
  if (bld == NULL ||
      !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) ||
      !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub, publen) ||
      (priv && !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, priv)) ||
      (params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
      (pctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) == NULL ||
      EVP_PKEY_fromdata_init(pctx) != 1 ||
      EVP_PKEY_fromdata(pctx, &pkey, priv ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, params) != 1)
    pkey = NULL;
  EVP_PKEY_CTX_free(pctx);
  OSSL_PARAM_free(params); /* the scalar is a secure BIGNUM: its copy here is in secure memory, cleared on free */
  OSSL_PARAM_BLD_free(bld);
  return pkey;
}

laws_ec_key *laws_sigv4a_derive(const char *akid, size_t akid_len, const char *secret, size_t secret_len) {
  EC_GROUP *g = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
  BN_CTX *bn = BN_CTX_secure_new();
  BIGNUM *c = BN_secure_new(), *nm2 = BN_new();
  EC_POINT *pt = NULL;
  laws_ec_key *k = NULL, *ok = NULL;
  unsigned char *key = NULL, *in = NULL, out[LAWS_SHA256_LEN];
  size_t inlen = 4 + sizeof LABEL - 1 + 1 + akid_len + 1 + 4, klen = 5 + secret_len;
  int counter;

  if (g == NULL || bn == NULL || c == NULL || nm2 == NULL || (key = malloc(klen)) == NULL ||
      (in = malloc(inlen)) == NULL || (k = calloc(1, sizeof *k)) == NULL)
    goto done;
  memcpy(key, "AWS4A", 5);
  memcpy(key + 5, secret, secret_len);
  /* i (32-bit BE) = 1 || label || 0x00 || context (akid || counter) || L = 256 (32-bit BE) */
  memcpy(in, "\0\0\0\1", 4);
  memcpy(in + 4, LABEL, sizeof LABEL - 1);
  in[4 + sizeof LABEL - 1] = 0;
  memcpy(in + 4 + sizeof LABEL, akid, akid_len);
  memcpy(in + inlen - 4, "\0\0\1\0", 4);
  if (!BN_copy(nm2, EC_GROUP_get0_order(g)) || !BN_sub_word(nm2, 2)) goto done;
  for (counter = 1; counter <= 254; counter++) {
    in[inlen - 5] = (unsigned char)counter;
    if (laws_hmac_sha256(key, klen, in, inlen, out) != 0 || BN_bin2bn(out, sizeof out, c) == NULL) goto done;
    if (BN_cmp(c, nm2) <= 0) break;
  }
  if (counter > 254 || !BN_add_word(c, 1)) goto done;
  if ((pt = EC_POINT_new(g)) == NULL || !EC_POINT_mul(g, pt, c, NULL, NULL, bn) ||
      EC_POINT_point2oct(g, pt, POINT_CONVERSION_UNCOMPRESSED, k->pub, sizeof k->pub, bn) != sizeof k->pub)
    goto done;
  if ((k->pkey = from_params(c, k->pub, sizeof k->pub)) == NULL) goto done;
  ok = k;
  k = NULL;
done:
  if (key) { OPENSSL_cleanse(key, klen); free(key); }
  free(in);
  OPENSSL_cleanse(out, sizeof out);
  BN_clear_free(c);
  BN_free(nm2);
  EC_POINT_free(pt);
  BN_CTX_free(bn);
  EC_GROUP_free(g);
  laws_sigv4a_key_free(k);
  return ok;
}

void laws_sigv4a_key_free(laws_ec_key *k) {
  if (k == NULL) return;
  EVP_PKEY_free(k->pkey); /* OpenSSL clears the private scalar */
  free(k);
}

int laws_sigv4a_pubkey(const laws_ec_key *k, unsigned char x[32], unsigned char y[32]) {
  memcpy(x, k->pub + 1, 32);
  memcpy(y, k->pub + 33, 32);
  return 0;
}

int laws_sigv4a_sign(const laws_ec_key *k, const void *msg, size_t len, unsigned char *sig, size_t cap) {
  EVP_MD_CTX *m = EVP_MD_CTX_new();
  size_t n = cap;
  int rc = -1;
  if (m && EVP_DigestSignInit_ex(m, NULL, "SHA256", NULL, NULL, k->pkey, NULL) == 1 &&
      EVP_DigestSign(m, sig, &n, msg, len) == 1)
    rc = (int)n;
  EVP_MD_CTX_free(m);
  return rc;
}

int laws_sigv4a_verify(const unsigned char x[32], const unsigned char y[32], const void *msg, size_t len,
                       const unsigned char *sig, size_t siglen) {
  unsigned char pub[65];
  EVP_PKEY *pkey;
  EVP_MD_CTX *m;
  int rc = -1;
  pub[0] = 4;
  memcpy(pub + 1, x, 32);
  memcpy(pub + 33, y, 32);
  if ((pkey = from_params(NULL, pub, sizeof pub)) == NULL) return -1;
  if ((m = EVP_MD_CTX_new()) != NULL && EVP_DigestVerifyInit_ex(m, NULL, "SHA256", NULL, NULL, pkey, NULL) == 1)
    rc = EVP_DigestVerify(m, sig, siglen, msg, len) == 1;
  EVP_MD_CTX_free(m);
  EVP_PKEY_free(pkey);
  return rc;
}
