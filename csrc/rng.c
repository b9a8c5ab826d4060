#include "rng.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>

int laws_rng_os_bytes(void *buf, size_t n) {
  unsigned char *p = buf;
  while (n > 0) {
    ssize_t got = getrandom(p, n, 0);
    if (got < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    p += got;
    n -= (size_t)got;
  }
  return 0;
}

/* splitmix64 spreads one seed over the four state words (the xoshiro authors' advice). */
static uint64_t splitmix64(uint64_t *x) {
  uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

void laws_rng_seed(laws_rng *r, uint64_t seed) {
  int i;
  for (i = 0; i < 4; i++) r->s[i] = splitmix64(&seed);
}

int laws_rng_seed_os(laws_rng *r) {
  uint64_t seed;
  if (laws_rng_os_bytes(&seed, sizeof seed) != 0) return -1;
  laws_rng_seed(r, seed);
  return 0;
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t laws_rng_next(laws_rng *r) {
  uint64_t *s = r->s;
  uint64_t result = rotl(s[1] * 5, 7) * 9;
  uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return result;
}

double laws_rng_double(laws_rng *r) {
  return (double)(laws_rng_next(r) >> 11) * (1.0 / 9007199254740992.0);  /* 53 bits */
}

double laws_rng_uniform(laws_rng *r, double lo, double hi) {
  return lo + (hi - lo) * laws_rng_double(r);
}

int laws_uuid4(char out[37]) {
  static const char hex[] = "0123456789abcdef";
  unsigned char b[16];
  int i, o;
  if (laws_rng_os_bytes(b, sizeof b) != 0) return -1;
  b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);  /* version 4 */
  b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);  /* RFC 4122 variant */
  /* by hand: snprintf with 16 conversions cost more than the rest of a client call's token */
  for (i = 0, o = 0; i < 16; i++) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out[o++] = '-';
    out[o++] = hex[b[i] >> 4];
    out[o++] = hex[b[i] & 0x0f];
  }
  out[o] = '\0';
  return 0;
}
