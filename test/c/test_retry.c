/* Unit tests for the retry timing parts: clock, rng, backoff, quota, CUBIC rate limiter. */
#include <math.h>
#include <string.h>

#include "backoff.h"
#include "clock.h"
#include "quota.h"
#include "ratelimiter.h"
#include "rng.h"
#include "tap.h"

static void test_clock(void) {
  int i;
  double a = laws_clock_monotonic(), b;
  i = laws_clock_sleep(0.02);
  TAP_OK(i == 0, "sleep returns 0");
  b = laws_clock_monotonic();
  TAP_OK(b - a >= 0.02 && b - a < 0.5, "sleep(0.02) waits about 20 ms (%.4f)", b - a);
  i = laws_clock_sleep(-1) == 0 && laws_clock_sleep(NAN) == -1;
  TAP_OK(i, "negative sleep is a no-op, NaN refused");
  TAP_OK(laws_clock_wall() > 1.7e9, "wall clock is an epoch time");
}

static void test_rng(void) {
  laws_rng a, b;
  char u[37], v[37];
  int i, same = 1, in_range = 1;
  laws_rng_seed(&a, 42);
  laws_rng_seed(&b, 42);
  for (i = 0; i < 100; i++) same &= laws_rng_next(&a) == laws_rng_next(&b);
  TAP_OK(same, "same seed, same sequence");
  laws_rng_seed(&b, 43);
  TAP_OK(laws_rng_next(&a) != laws_rng_next(&b), "another seed, another sequence");
  for (i = 0; i < 10000; i++) {
    double d = laws_rng_double(&a);
    if (!(d >= 0 && d < 1)) in_range = 0;
  }
  TAP_OK(in_range, "doubles in [0, 1)");
  TAP_OK(laws_uuid4(u) == 0 && laws_uuid4(v) == 0, "uuid4 succeeds");
  TAP_OK(strlen(u) == 36 && u[8] == '-' && u[13] == '-' && u[14] == '4' && u[18] == '-' && u[23] == '-'
         && strchr("89ab", u[19]) != NULL, "uuid4 has the version-4 layout: %s", u);
  TAP_OK(strcmp(u, v) != 0, "two uuids differ");
  for (i = 0, same = 1; i < 36; i++)
    if (!(i == 8 || i == 13 || i == 18 || i == 23) && strchr("0123456789abcdef", u[i]) == NULL) same = 0;
  TAP_OK(same, "uuid4 digits are lower-case hex: %s", u);
}

static void test_backoff(void) {
  laws_backoff b;
  int i, ok;
  double prev;
  laws_backoff_init(&b, LAWS_BACKOFF_EXPONENTIAL, 0.1);
  b.jitter = LAWS_JITTER_NONE;
  b.cap = 1;
  TAP_OK(fabs(laws_backoff_next(&b, 1, 0) - 0.1) < 1e-12 && fabs(laws_backoff_next(&b, 3, 0) - 0.4) < 1e-12,
         "no jitter: base * 2^(attempt-1)");
  TAP_OK(laws_backoff_next(&b, 5, 0) == 1 && laws_backoff_next(&b, 5000, 0) == 1, "capped, also for huge attempts");
  b.jitter = LAWS_JITTER_FULL;
  laws_rng_seed(&b.rng, 7);
  for (ok = 1, i = 0; i < 1000; i++) {
    double d = laws_backoff_next(&b, 3, 0);
    if (!(d >= 0 && d <= 0.4)) ok = 0;
  }
  TAP_OK(ok, "full jitter in [0, min(cap, base*2^(n-1))]");
  b.jitter = LAWS_JITTER_EQUAL;
  for (ok = 1, i = 0; i < 1000; i++) {
    double d = laws_backoff_next(&b, 3, 0);
    if (!(d >= 0.2 && d <= 0.4)) ok = 0;
  }
  TAP_OK(ok, "equal jitter in [ceiling/2, ceiling]");
  b.jitter = LAWS_JITTER_FLOOR;
  for (i = 0, ok = 1; i < 1000; i++) {
    double d = laws_backoff_next(&b, 3, 0);
    if (d < 0.1 || d > 0.4) ok = 0;
  }
  TAP_OK(ok, "floor jitter (Smithy waiters) in [base, ceiling]");
  b.base = 0;
  for (i = 0, ok = 1; i < 1000; i++) {
    double d = laws_backoff_next(&b, 3, 0);
    if (d < 0 || d > 1) ok = 0;
  }
  TAP_OK(ok, "floor jitter from a zero base ranges up to the cap");
  b.base = 0.1;
  b.jitter = LAWS_JITTER_DECORRELATED;
  for (ok = 1, i = 1; i < 1000; i++) {
    prev = i == 1 ? b.base : b.prev;
    double d = laws_backoff_next(&b, i, 0);
    if (!(d >= 0.1 && d <= 1 && d <= prev * 3 + 1e-12)) ok = 0;
  }
  TAP_OK(ok, "decorrelated jitter in [base, min(cap, prev*3)]");
  b.max_attempts = 3;
  TAP_OK(laws_backoff_next(&b, 2, 0) >= 0 && laws_backoff_next(&b, 3, 0) < 0, "stops after max_attempts");
  b.max_attempts = 0;
  b.max_elapsed = 10;
  b.jitter = LAWS_JITTER_NONE;
  TAP_OK(fabs(laws_backoff_next(&b, 4, 9.5) - 0.5) < 1e-12,
         "the last delay is shortened to land on the deadline");
  TAP_OK(laws_backoff_next(&b, 4, 10) < 0, "stops at max_elapsed");
  laws_backoff_init(&b, LAWS_BACKOFF_LINEAR, 0.5);
  TAP_OK(laws_backoff_next(&b, 3, 0) == 1.5, "linear: step * attempt");
  laws_backoff_init(&b, LAWS_BACKOFF_CONSTANT, 2);
  TAP_OK(laws_backoff_next(&b, 1, 0) == 2 && laws_backoff_next(&b, 9, 0) == 2, "constant");
  TAP_OK(laws_backoff_jitter_from_name("decorrelated") == LAWS_JITTER_DECORRELATED &&
         laws_backoff_jitter_from_name("floor") == LAWS_JITTER_FLOOR &&
         laws_backoff_jitter_from_name("bogus") == -1, "jitter names");
}

static void test_quota(void) {
  laws_quota q;
  int i, n = 0;
  laws_quota_init(&q, 500);
  TAP_OK(laws_quota_available(&q) == 500, "starts full");
  while (laws_quota_acquire(&q, 14)) n++;
  TAP_OK(n == 35 && laws_quota_available(&q) == 10, "35 retries of cost 14 fit in 500 (%d, left %d)", n,
         laws_quota_available(&q));
  n = laws_quota_acquire(&q, 14);
  TAP_OK(!n && laws_quota_available(&q) == 10, "refusal takes nothing");
  n = laws_quota_acquire(&q, 5);
  TAP_OK(n && laws_quota_available(&q) == 5, "a throttling retry (5) still fits");
  for (i = 0; i < 3; i++) laws_quota_release(&q, 1);
  TAP_OK(laws_quota_available(&q) == 8, "successes refill 1 each");
  laws_quota_release(&q, 2000000000);
  TAP_OK(laws_quota_available(&q) == 500, "release never exceeds capacity (no overflow)");
}

static void test_ratelimiter(void) {
  laws_ratelimiter rl;
  double t = 100.0, w1, w2, before;
  int i;
  laws_ratelimiter_init(&rl, t);
  TAP_OK(laws_ratelimiter_acquire(&rl, t) == 0, "disabled until the first throttle");
  /* 10 responses per second for 3 seconds: the measured rate settles near 10/s */
  for (i = 0; i < 30; i++) { t += 0.1; laws_ratelimiter_update(&rl, t, 0); }
  TAP_OK(!rl.enabled && rl.measured > 8 && rl.measured < 11, "measured rate ~10/s (%.2f)", rl.measured);
  TAP_OK(rl.max_rate <= 2 * rl.measured + 1e-9, "rate never above 2x measured");
  before = rl.measured;
  t += 0.1;
  laws_ratelimiter_update(&rl, t, 1);
  TAP_OK(rl.enabled, "a throttle enables the limiter");
  TAP_OK(fabs(rl.max_rate - 0.7 * rl.w_max) < 1e-9 && rl.w_max > 0.9 * before, "rate cut to beta * measured (%.3f of %.3f)",
         rl.max_rate, rl.w_max);
  TAP_OK(fabs(rl.k - cbrt(rl.w_max * 0.3 / 0.4)) < 1e-12, "K = cbrt(w_max (1-beta) / scale)");
  /* the bucket kept what it filled while disabled; drain it, then requests queue */
  for (i = 0, w1 = 0; i < 100 && w1 == 0; i++) w1 = laws_ratelimiter_acquire(&rl, t);
  TAP_OK(i > 1 && i <= (int)rl.capacity + 1, "a full bucket lets %d requests through at once", i - 1);
  w2 = laws_ratelimiter_acquire(&rl, t);
  TAP_OK(w2 > w1 && fabs((w2 - w1) - 1 / rl.fill_rate) < 1e-9, "queued requests wait 1/rate apart (%.3f, %.3f)", w1, w2);
  /* successes at last_fail + K bring the rate back to w_max (CUBIC's plateau) */
  {
    laws_ratelimiter c = rl;
    double at = c.last_fail + c.k, wmax = c.w_max;
    c.measured = 1000;  /* keep the 2x-measured clamp out of the way for this check */
    c.last_bucket = floor(at / LAWS_RL_BUCKET) * LAWS_RL_BUCKET;
    laws_ratelimiter_update(&c, at, 0);
    TAP_OK(fabs(c.max_rate - wmax) < 1e-6, "rate at t = K equals w_max (%.4f vs %.4f)", c.max_rate, wmax);
  }
  laws_ratelimiter_init(&rl, 0);
  rl.enabled = 1;
  laws_ratelimiter_update(&rl, 0.1, 1);
  TAP_OK(rl.fill_rate == LAWS_RL_MIN_RATE, "fill rate never below 0.5/s");
}

int main(void) {
  test_clock();
  test_rng();
  test_backoff();
  test_quota();
  test_ratelimiter();
  return TAP_DONE();
}
