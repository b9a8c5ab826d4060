#include "clock.h"

#include <errno.h>
#include <math.h>
#include <time.h>

static double ts_seconds(const struct timespec *ts) {
  return (double)ts->tv_sec + (double)ts->tv_nsec / 1e9;
}

double laws_clock_monotonic(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts_seconds(&ts);
}

double laws_clock_wall(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return ts_seconds(&ts);
}

int laws_clock_sleep(double s) {
  struct timespec req, rem;
  if (isnan(s)) return -1;
  if (s <= 0) return 0;
  if (s > 1e9) s = 1e9;  /* keeps tv_sec in range; 31 years is "forever" enough */
  req.tv_sec = (time_t)s;
  req.tv_nsec = (long)((s - (double)req.tv_sec) * 1e9);
  if (req.tv_nsec >= 1000000000L) req.tv_nsec = 999999999L;
  /* an interrupted sleep continues with what is left, so a signal cannot shorten a backoff */
  while (nanosleep(&req, &rem) != 0 && errno == EINTR) req = rem;
  return 0;
}
