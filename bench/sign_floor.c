/* The floor for bench/10-sign.sh: a plain C loop doing only the irreducible work of one
 * signature with a cached key: SHA-256(payload), SHA-256(canonical request), then
 * HMAC-SHA256(string to sign) (SigV4) or ECDSA-P256-SHA256(string to sign) (SigV4a).
 * Straight OpenSSL 3 calls, algorithms fetched once, contexts reused.
 * Usage: sign_floor <dir> <header|query|v4a> <iterations>  -> prints microseconds per signature */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

static char *slurp(const char *dir, const char *name, size_t *len) {
  char path[512];
  FILE *f;
  char *s;
  long n;
  snprintf(path, sizeof path, "%s/%s", dir, name);
  if (!(f = fopen(path, "rb"))) { perror(path); exit(2); }
  fseek(f, 0, SEEK_END);
  n = ftell(f);
  fseek(f, 0, SEEK_SET);
  s = malloc((size_t)n + 1);
  if (fread(s, 1, (size_t)n, f) != (size_t)n) exit(2);
  fclose(f);
  *len = (size_t)n;
  return s;
}

static double cpu_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  const char *dir = argc > 1 ? argv[1] : "build/bench", *mode = argc > 2 ? argv[2] : "header";
  long iters = argc > 3 ? atol(argv[3]) : 200000, i;
  char creq_name[32], sts_name[32];
  size_t blen, clen, slen, siglen;
  char *body, *creq, *sts;
  unsigned char d[32], key[32] = "cached signing key, 32 bytes...", sig[80];
  unsigned int n;
  EVP_MD *md = EVP_MD_fetch(NULL, "SHA256", NULL);
  EVP_MD_CTX *mctx = EVP_MD_CTX_new();
  EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
  EVP_MAC_CTX *hctx = EVP_MAC_CTX_new(mac);
  EVP_PKEY *pkey = NULL;
  EVP_MD_CTX *sctx = EVP_MD_CTX_new();
  OSSL_PARAM params[2];
  double t0, us;
  int v4a = strcmp(mode, "v4a") == 0;

  snprintf(creq_name, sizeof creq_name, "%s.creq", mode);
  snprintf(sts_name, sizeof sts_name, "%s.sts", mode);
  body = slurp(dir, "body.txt", &blen);
  creq = slurp(dir, creq_name, &clen);
  sts = slurp(dir, sts_name, &slen);
  params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0);
  params[1] = OSSL_PARAM_construct_end();
  if (v4a) pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
  EVP_MAC_CTX_set_params(hctx, params); /* once: re-setting the digest per call is avoidable work */

  t0 = cpu_s();
  for (i = 0; i < iters; i++) {
    EVP_DigestInit_ex2(mctx, md, NULL);
    EVP_DigestUpdate(mctx, body, blen);
    EVP_DigestFinal_ex(mctx, d, &n);
    EVP_DigestInit_ex2(mctx, md, NULL);
    EVP_DigestUpdate(mctx, creq, clen);
    EVP_DigestFinal_ex(mctx, d, &n);
    if (v4a) {
      siglen = sizeof sig;
      EVP_DigestSignInit_ex(sctx, NULL, "SHA256", NULL, NULL, pkey, NULL);
      EVP_DigestSign(sctx, sig, &siglen, (const unsigned char *)sts, slen);
    } else {
      size_t outl;
      EVP_MAC_init(hctx, key, sizeof key, NULL);
      EVP_MAC_update(hctx, (const unsigned char *)sts, slen);
      EVP_MAC_final(hctx, d, &outl, sizeof d);
    }
  }
  us = (cpu_s() - t0) / (double)iters * 1e6;
  printf("%.3f\n", us);
  EVP_PKEY_free(pkey);
  EVP_MD_CTX_free(sctx);
  EVP_MAC_CTX_free(hctx);
  EVP_MAC_free(mac);
  EVP_MD_CTX_free(mctx);
  EVP_MD_free(md);
  free(body); free(creq); free(sts);
  return 0;
}
