/* Monotonic clock, wall clock and sleep: the only timing primitives the C core offers. */
#ifndef LAWS_CLOCK_H
#define LAWS_CLOCK_H

double laws_clock_monotonic(void);  /* seconds from an arbitrary origin; never goes back */
double laws_clock_wall(void);       /* epoch seconds, with sub-second precision */
/* Sleeps s seconds (<= 0: returns at once); resumes after EINTR. Returns 0, or -1 if s is NaN. */
int laws_clock_sleep(double s);

#endif
