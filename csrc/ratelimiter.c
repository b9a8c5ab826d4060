#include "ratelimiter.h"

#include <math.h>
#include <string.h>

static double zero_point(const laws_ratelimiter *rl) {
  return cbrt(rl->w_max * (1 - LAWS_RL_BETA) / LAWS_RL_SCALE);
}

static void refill(laws_ratelimiter *rl, double now) {
  if (rl->refilled) {
    double dt = now - rl->last_refill;
    if (dt > 0) {
      rl->tokens += dt * rl->fill_rate;
      if (rl->tokens > rl->capacity) rl->tokens = rl->capacity;
    }
  }
  rl->last_refill = now;
  rl->refilled = 1;
}

static void set_max_rate(laws_ratelimiter *rl, double rate, double now) {
  refill(rl, now);
  rl->max_rate = rate;
  rl->fill_rate = rate > LAWS_RL_MIN_RATE ? rate : LAWS_RL_MIN_RATE;
  rl->capacity = rate >= 1 ? rate : 1;
  if (rl->tokens > rl->capacity) rl->tokens = rl->capacity;
}

void laws_ratelimiter_init(laws_ratelimiter *rl, double now) {
  memset(rl, 0, sizeof *rl);
  rl->last_fail = now;
  rl->last_bucket = floor(now / LAWS_RL_BUCKET) * LAWS_RL_BUCKET;
  rl->max_rate = rl->fill_rate = LAWS_RL_MIN_RATE;
  rl->capacity = 1;
}

double laws_ratelimiter_acquire(laws_ratelimiter *rl, double now) {
  if (!rl->enabled) return 0;
  refill(rl, now);
  rl->tokens -= 1;
  if (rl->tokens >= 0) return 0;
  return -rl->tokens / rl->fill_rate;
}

static double measure(laws_ratelimiter *rl, double now) {
  double bucket = floor(now / LAWS_RL_BUCKET) * LAWS_RL_BUCKET;
  rl->count += 1;
  if (bucket > rl->last_bucket) {
    double rate = rl->count / (bucket - rl->last_bucket);
    rl->measured = rate * LAWS_RL_SMOOTH + rl->measured * (1 - LAWS_RL_SMOOTH);
    rl->count = 0;
    rl->last_bucket = bucket;
  }
  return rl->measured;
}

void laws_ratelimiter_update(laws_ratelimiter *rl, double now, int throttled) {
  double measured = measure(rl, now), rate;
  if (!throttled) {
    double dt = now - rl->last_fail - rl->k;
    rate = LAWS_RL_SCALE * dt * dt * dt + rl->w_max;
  } else {
    double base = rl->enabled && rl->max_rate < measured ? rl->max_rate : measured;
    rl->w_max = base;
    rl->k = zero_point(rl);
    rl->last_fail = now;
    rate = base * LAWS_RL_BETA;
    rl->enabled = 1;
  }
  if (rate > 2 * measured) rate = 2 * measured;
  set_max_rate(rl, rate, now);
}
