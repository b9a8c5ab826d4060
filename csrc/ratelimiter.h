/* The adaptive retry mode's client-side rate limiter: a token bucket whose fill rate
 * follows CUBIC (as TCP's congestion window does). A throttling response cuts the rate
 * to beta x the measured send rate; successes grow it back along a cubic curve. Off until
 * the first throttling response. The algorithm is the one the AWS SDKs document
 * (botocore's retries/adaptive.py, bucket.py, CubicCalculator): beta 0.7, scale 0.4,
 * rate smoothing 0.8 over half-second buckets, minimum fill rate 0.5/s, and the rate
 * never above twice the measured rate. Non-blocking: acquire says how long to wait. */
#ifndef LAWS_RATELIMITER_H
#define LAWS_RATELIMITER_H

typedef struct laws_ratelimiter {
  int enabled;
  /* CUBIC */
  double w_max, k, last_fail;
  /* measured send rate */
  double measured, count, last_bucket;
  /* token bucket */
  double max_rate, fill_rate, capacity, tokens, last_refill;
  int refilled;  /* last_refill is valid */
} laws_ratelimiter;

#define LAWS_RL_BETA 0.7
#define LAWS_RL_SCALE 0.4
#define LAWS_RL_SMOOTH 0.8
#define LAWS_RL_BUCKET 0.5
#define LAWS_RL_MIN_RATE 0.5

void laws_ratelimiter_init(laws_ratelimiter *rl, double now);
/* Takes one token for a request about to be sent at `now`. Returns the seconds to wait
 * before sending (0 while disabled or when a token is there). The token is reserved: the
 * next caller queues behind this one. */
double laws_ratelimiter_acquire(laws_ratelimiter *rl, double now);
/* Records a response received at `now`; throttled != 0 for a throttling error. */
void laws_ratelimiter_update(laws_ratelimiter *rl, double now, int throttled);

#endif
