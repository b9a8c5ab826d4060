/* Backoff schedules: how long to wait before the next attempt, or "stop". The one
 * implementation behind laws.backoff's policies, the AWS retry strategy's delays and the
 * waiters' delays. Exponential with the jitters of the AWS Architecture Blog's
 * "Exponential Backoff And Jitter" (none, full, equal, decorrelated) and the Smithy
 * waiters' (floor: uniform between the base and the ceiling), constant and linear; a cap,
 * an attempt limit and an elapsed-time limit. Pure arithmetic: the caller supplies the
 * elapsed time. */
#ifndef LAWS_BACKOFF_H
#define LAWS_BACKOFF_H

#include "rng.h"

enum { LAWS_BACKOFF_EXPONENTIAL, LAWS_BACKOFF_CONSTANT, LAWS_BACKOFF_LINEAR };
enum { LAWS_JITTER_NONE, LAWS_JITTER_FULL, LAWS_JITTER_EQUAL, LAWS_JITTER_DECORRELATED, LAWS_JITTER_FLOOR };

typedef struct laws_backoff {
  int kind, jitter;
  double base;         /* exponential: first delay; constant: the delay; linear: the step */
  double cap;          /* no single delay is longer (<= 0: no cap) */
  int max_attempts;    /* attempts in all, the first included (<= 0: no limit) */
  double max_elapsed;  /* seconds since the call started (<= 0: no limit) */
  double prev;         /* decorrelated jitter: the previous delay */
  laws_rng rng;
} laws_backoff;

/* Fills b with defaults for kind (jitter full, no limits) and an OS-seeded RNG.
 * Returns 0, or -1 if the OS gave no entropy (then the RNG is seeded from the clock). */
int laws_backoff_init(laws_backoff *b, int kind, double base);
/* Delay before attempt `attempt + 1`, given `attempt` attempts made so far (>= 1) and the
 * seconds elapsed since the call began. Returns the delay (>= 0) or -1 to stop. The delay
 * is shortened so the last attempt still happens at the max_elapsed deadline. */
double laws_backoff_next(laws_backoff *b, int attempt, double elapsed);
/* Parses "none" | "full" | "equal" | "decorrelated" | "floor"; -1 if unknown. */
int laws_backoff_jitter_from_name(const char *name);

#endif
