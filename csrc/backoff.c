#include "backoff.h"
#include "clock.h"

#include <float.h>
#include <math.h>
#include <string.h>

int laws_backoff_init(laws_backoff *b, int kind, double base) {
  int rc = 0;
  memset(b, 0, sizeof *b);
  b->kind = kind;
  b->jitter = kind == LAWS_BACKOFF_EXPONENTIAL ? LAWS_JITTER_FULL : LAWS_JITTER_NONE;
  b->base = base;
  b->prev = base;
  if (laws_rng_seed_os(&b->rng) != 0) {
    /* never fails on Linux >= 3.17; the clock still decorrelates processes well enough */
    laws_rng_seed(&b->rng, (uint64_t)(laws_clock_wall() * 1e9));
    rc = -1;
  }
  return rc;
}

int laws_backoff_jitter_from_name(const char *name) {
  static const char *const names[] = { "none", "full", "equal", "decorrelated", "floor" };
  int i;
  for (i = 0; i < 5; i++)
    if (strcmp(name, names[i]) == 0) return i;
  return -1;
}

static double capped(const laws_backoff *b, double d) {
  return (b->cap > 0 && d > b->cap) ? b->cap : d;
}

static double exponential(laws_backoff *b, int attempt) {
  /* 2^(attempt-1) overflows to inf for large attempts; the cap takes over long before */
  double ceiling = capped(b, b->base * pow(2.0, attempt > 1000 ? 1000 : attempt - 1));
  double d;
  switch (b->jitter) {
  case LAWS_JITTER_FULL:
    return laws_rng_uniform(&b->rng, 0, ceiling);
  case LAWS_JITTER_EQUAL:
    return ceiling / 2 + laws_rng_uniform(&b->rng, 0, ceiling / 2);
  case LAWS_JITTER_FLOOR:
    /* Smithy waiters: uniform in [base, ceiling]. A zero base never grows: the ceiling is
     * then the cap, so the waits are not all zero (a spin when calls take no time). */
    if (b->base <= 0 && b->cap > 0) ceiling = b->cap;
    return laws_rng_uniform(&b->rng, b->base < ceiling ? b->base : ceiling, ceiling);
  case LAWS_JITTER_DECORRELATED:
    /* sleep = min(cap, random(base, prev * 3)); each call starts again from base */
    if (attempt <= 1) b->prev = b->base;
    d = capped(b, laws_rng_uniform(&b->rng, b->base, b->prev * 3));
    b->prev = d;
    return d;
  default:
    return ceiling;
  }
}

double laws_backoff_next(laws_backoff *b, int attempt, double elapsed) {
  double d;
  if (attempt < 1) attempt = 1;
  if (b->max_attempts > 0 && attempt >= b->max_attempts) return -1;
  if (b->max_elapsed > 0 && elapsed >= b->max_elapsed) return -1;
  switch (b->kind) {
  case LAWS_BACKOFF_CONSTANT: d = capped(b, b->base); break;
  case LAWS_BACKOFF_LINEAR: d = capped(b, b->base * attempt); break;
  default: d = exponential(b, attempt); break;
  }
  if (!(d >= 0)) d = 0;  /* NaN from a silly base is "no wait", never a negative sleep */
  if (d > DBL_MAX) d = DBL_MAX;  /* base * attempt can overflow: a policy never answers inf */
  /* one more attempt right at the deadline rather than giving up early: a consistency
   * wait must not stop while the thing it waits for could already be there */
  if (b->max_elapsed > 0 && elapsed + d > b->max_elapsed) d = b->max_elapsed - elapsed;
  return d;
}
