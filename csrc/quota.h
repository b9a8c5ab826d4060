/* The AWS retry quota: a token bucket every retry draws from and every success refills,
 * so a client facing an outage stops retrying (fails fast) instead of multiplying load. */
#ifndef LAWS_QUOTA_H
#define LAWS_QUOTA_H

typedef struct laws_quota {
  int capacity;
  int available;
} laws_quota;

void laws_quota_init(laws_quota *q, int capacity);   /* starts full */
int laws_quota_acquire(laws_quota *q, int cost);     /* 1 and takes cost, or 0 and takes nothing */
void laws_quota_release(laws_quota *q, int amount);  /* adds, up to capacity */
int laws_quota_available(const laws_quota *q);

#endif
