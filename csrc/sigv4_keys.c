/* Signing-key caches of one signer context: SigV4 kSigning per (secret, date, region,
 * service), SigV4a P-256 keys per (access key, secret). Small, fixed size, least recently
 * used entry evicted and wiped (secret copy included). */
#include "sigv4_int.h"

#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>

static int eq(const char *a, size_t al, const char *b, size_t bl) { return al == bl && memcmp(a, b, al) == 0; }

static void free_key(struct laws_key_entry *e) {
  laws_hmac_key_free(e->hk);
  OPENSSL_cleanse(e, sizeof *e);
}

static void free_akey(struct laws_akey_entry *e) {
  laws_sigv4a_key_free(e->k);
  OPENSSL_cleanse(e, sizeof *e);
}

void laws_keys_clear(laws_sigv4_keys *k) {
  int i;
  for (i = 0; i < LAWS_NKEYS; i++) free_key(&k->keys[i]);
  for (i = 0; i < LAWS_NAKEYS; i++) free_akey(&k->akeys[i]);
  k->clock = 0;
}

int laws_keys_count(const laws_sigv4_keys *k, int algorithm) {
  int i, n = 0;
  if (algorithm == LAWS_SIGV4A) {
    for (i = 0; i < LAWS_NAKEYS; i++) n += k->akeys[i].stamp != 0;
  } else {
    for (i = 0; i < LAWS_NKEYS; i++) n += k->keys[i].stamp != 0;
  }
  return n;
}

/* kSigning = HMAC chain over "AWS4"+secret, date, region, service, "aws4_request". */
static int derive(laws_hasher *hs, const laws_sigv4_request *r, const char *date, unsigned char out[LAWS_SHA256_LEN]) {
  unsigned char k[LAWS_SHA256_LEN];
  char *first;
  int rc = -1;
  if ((first = malloc(r->secret_len + 4)) == NULL) return -1;
  memcpy(first, "AWS4", 4);
  memcpy(first + 4, r->secret, r->secret_len);
  if (laws_hasher_hmac(hs, first, r->secret_len + 4, date, 8, k) == 0 &&
      laws_hasher_hmac(hs, k, sizeof k, r->region, r->region_len, k) == 0 &&
      laws_hasher_hmac(hs, k, sizeof k, r->service, r->service_len, k) == 0 &&
      laws_hasher_hmac(hs, k, sizeof k, "aws4_request", 12, out) == 0)
    rc = 0;
  OPENSSL_cleanse(first, r->secret_len + 4);
  OPENSSL_cleanse(k, sizeof k);
  free(first);
  return rc;
}

static laws_hmac_key *derive_hmac_key(laws_hasher *hs, const laws_sigv4_request *r, const char *date) {
  unsigned char k[LAWS_SHA256_LEN];
  laws_hmac_key *hk = derive(hs, r, date, k) == 0 ? laws_hmac_key_new(k, sizeof k) : NULL;
  OPENSSL_cleanse(k, sizeof k);
  return hk;
}

const laws_hmac_key *laws_keys_hmac(laws_sigv4_keys *ks, laws_hasher *hs, const laws_sigv4_request *r,
                                    const char *date, laws_hmac_key **owned) {
  struct laws_key_entry *e, *victim = &ks->keys[0];
  int i;
  *owned = NULL;
  if (r->secret_len > LAWS_KFIELD || r->region_len > LAWS_KFIELD || r->service_len > LAWS_KFIELD)
    return *owned = derive_hmac_key(hs, r, date);
  for (i = 0; i < LAWS_NKEYS; i++) {
    e = &ks->keys[i];
    if (e->stamp && memcmp(e->date, date, 8) == 0 && eq(e->secret, e->slen, r->secret, r->secret_len) &&
        eq(e->region, e->rlen, r->region, r->region_len) && eq(e->service, e->svlen, r->service, r->service_len)) {
      e->stamp = ++ks->clock;
      return e->hk;
    }
    if (e->stamp < victim->stamp) victim = e;
  }
  free_key(victim);
  if ((victim->hk = derive_hmac_key(hs, r, date)) == NULL) return NULL;
  memcpy(victim->secret, r->secret, r->secret_len); victim->slen = r->secret_len;
  memcpy(victim->region, r->region, r->region_len); victim->rlen = r->region_len;
  memcpy(victim->service, r->service, r->service_len); victim->svlen = r->service_len;
  memcpy(victim->date, date, 8);
  victim->stamp = ++ks->clock;
  return victim->hk;
}

const laws_ec_key *laws_keys_ec(laws_sigv4_keys *ks, const laws_sigv4_request *r, laws_ec_key **owned) {
  struct laws_akey_entry *e, *victim = &ks->akeys[0];
  int i;
  *owned = NULL;
  if (r->akid_len > LAWS_KFIELD || r->secret_len > LAWS_KFIELD)
    return *owned = laws_sigv4a_derive(r->access_key_id, r->akid_len, r->secret, r->secret_len);
  for (i = 0; i < LAWS_NAKEYS; i++) {
    e = &ks->akeys[i];
    if (e->stamp && eq(e->akid, e->alen, r->access_key_id, r->akid_len) &&
        eq(e->secret, e->slen, r->secret, r->secret_len)) {
      e->stamp = ++ks->clock;
      return e->k;
    }
    if (e->stamp < victim->stamp) victim = e;
  }
  free_akey(victim);
  if ((victim->k = laws_sigv4a_derive(r->access_key_id, r->akid_len, r->secret, r->secret_len)) == NULL) return NULL;
  memcpy(victim->akid, r->access_key_id, r->akid_len); victim->alen = r->akid_len;
  memcpy(victim->secret, r->secret, r->secret_len); victim->slen = r->secret_len;
  victim->stamp = ++ks->clock;
  return victim->k;
}
