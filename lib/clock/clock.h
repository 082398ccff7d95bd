/* Time for measuring and waiting: a monotonic clock (never jumps with the wall clock)
 * and a sleep that resumes after signals. */
#ifndef PLAT_CLOCK_H
#define PLAT_CLOCK_H

long long plat_clock_ms(void);
void plat_sleep_ms(long long ms);

#endif
