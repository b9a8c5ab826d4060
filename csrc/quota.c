#include "quota.h"

void laws_quota_init(laws_quota *q, int capacity) {
  if (capacity < 0) capacity = 0;
  q->capacity = capacity;
  q->available = capacity;
}

int laws_quota_acquire(laws_quota *q, int cost) {
  if (cost < 0) cost = 0;
  if (cost > q->available) return 0;
  q->available -= cost;
  return 1;
}

void laws_quota_release(laws_quota *q, int amount) {
  if (amount <= 0) return;
  /* compare before adding: a huge amount must not overflow the int */
  if (amount >= q->capacity - q->available) q->available = q->capacity;
  else q->available += amount;
}

int laws_quota_available(const laws_quota *q) { return q->available; }
