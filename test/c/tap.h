/* Minimal TAP for the C unit tests: scripts/test.sh counts "ok"/"not ok" lines. */
#ifndef LAWS_TAP_H
#define LAWS_TAP_H
#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed;

#define TAP_OK(cond, ...) do { \
    tap_n++; \
    if (cond) { printf("ok %d - ", tap_n); } \
    else { tap_failed++; printf("not ok %d - ", tap_n); } \
    printf(__VA_ARGS__); printf("\n"); \
    if (!(cond)) printf("# failed at %s:%d: %s\n", __FILE__, __LINE__, #cond); \
  } while (0)

#define TAP_STREQ(a, b, ...) do { \
    const char *tap_a_ = (a), *tap_b_ = (b); \
    int tap_eq_ = tap_a_ && tap_b_ && strcmp(tap_a_, tap_b_) == 0; \
    TAP_OK(tap_eq_, __VA_ARGS__); \
    if (!tap_eq_) printf("#   got:      %s\n#   expected: %s\n", tap_a_ ? tap_a_ : "(null)", tap_b_ ? tap_b_ : "(null)"); \
  } while (0)

#define TAP_DONE() (printf("1..%d\n", tap_n), tap_failed ? 1 : 0)
#endif
