/*
 * Monotonic and wall clocks.
 */
#include "core/clock.h"

#include <string.h>
#include <time.h>

uint64_t sg_mono_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void sg_wall_iso(char out[32]) {
  /* Formatting the date is costly next to the rest of a call; it changes once a second,
   * so the "YYYY-MM-DDTHH:MM:SS" part is cached per second. */
  static _Thread_local time_t cached_sec = -1;
  static _Thread_local char cached[24];
  static _Thread_local size_t cached_len;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  if (ts.tv_sec != cached_sec) {
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    cached_len = strftime(cached, sizeof cached, "%Y-%m-%dT%H:%M:%S", &tm);
    cached_sec = ts.tv_sec;
  }
  memcpy(out, cached, cached_len);
  long us = ts.tv_nsec / 1000;
  char *p = out + cached_len;
  *p++ = '.';
  for (int i = 5; i >= 0; i--) {
    p[i] = (char)('0' + us % 10);
    us /= 10;
  }
  p[6] = 'Z';
  p[7] = '\0';
}
