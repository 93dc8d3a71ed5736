/*
 * stderr logger with a UTC timestamp and level on each line.
 */
#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static sg_log_level_t current = SG_LOG_INFO;
static const char *const names[] = {"error", "warn", "info", "debug"};

void sg_log_init(void) {
  const char *env = getenv("SCOPEGATE_LOG");
  if (env == NULL) return;
  for (int i = 0; i <= SG_LOG_DEBUG; i++)
    if (strcmp(env, names[i]) == 0) current = (sg_log_level_t)i;
}

int sg_log_enabled(sg_log_level_t level) { return level <= current; }

void sg_log(sg_log_level_t level, const char *fmt, ...) {
  if (level > current) return;
  struct timespec ts;
  struct tm tm;
  char stamp[32];
  clock_gettime(CLOCK_REALTIME, &ts);
  gmtime_r(&ts.tv_sec, &tm);
  strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
  char line[2048];
  int n = snprintf(line, sizeof line, "%s.%03ldZ scopegate %s: ", stamp, ts.tv_nsec / 1000000,
                   names[level]);
  va_list ap;
  va_start(ap, fmt);
  if (n > 0 && (size_t)n < sizeof line) vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
  va_end(ap);
  /* One fputs per line so lines from a single process never interleave. */
  size_t len = strlen(line);
  if (len + 1 < sizeof line) {
    line[len] = '\n';
    line[len + 1] = '\0';
  }
  fputs(line, stderr);
}
