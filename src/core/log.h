/*
 * Logging to stderr only: on stdio transports stdout carries the protocol, so nothing
 * else may ever be written there. The level comes from SCOPEGATE_LOG
 * (error|warn|info|debug), default info.
 */
#ifndef SG_CORE_LOG_H
#define SG_CORE_LOG_H

typedef enum { SG_LOG_ERROR = 0, SG_LOG_WARN, SG_LOG_INFO, SG_LOG_DEBUG } sg_log_level_t;

void sg_log_init(void);
int sg_log_enabled(sg_log_level_t level);
void sg_log(sg_log_level_t level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define sg_error(...) sg_log(SG_LOG_ERROR, __VA_ARGS__)
#define sg_warn(...) sg_log(SG_LOG_WARN, __VA_ARGS__)
#define sg_info(...) sg_log(SG_LOG_INFO, __VA_ARGS__)
#define sg_debug(...) \
  do { if (sg_log_enabled(SG_LOG_DEBUG)) sg_log(SG_LOG_DEBUG, __VA_ARGS__); } while (0)

#endif
