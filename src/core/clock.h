/*
 * Clocks: monotonic microseconds for latency, wall-clock text for the audit.
 */
#ifndef SG_CORE_CLOCK_H
#define SG_CORE_CLOCK_H

#include <stdint.h>

uint64_t sg_mono_us(void);
/* Current UTC time as "YYYY-MM-DDTHH:MM:SS.uuuuuuZ" into out (at least 32 bytes). */
void sg_wall_iso(char out[32]);

#endif
