/*
 * log: structured log lines, one event a line, in logfmt
 * (`ts=2026-11-26T08:00:00Z level=info event=request route="POST /v1/citizens" status=201`).
 *
 * Callers pass an event name and key=value text. Personal data (names, ID
 * numbers, phone numbers, tokens, codes) never goes into a log line: log
 * internal ids and routes, not values. Thread-safe; each line is one write(2).
 */
#ifndef SS_BASE_LOG_H
#define SS_BASE_LOG_H

enum ss_log_level { SS_LOG_DEBUG, SS_LOG_INFO, SS_LOG_WARN, SS_LOG_ERROR };

/* Lines below level are dropped (default SS_LOG_INFO; SUISHEN_LOG=debug|info|warn|error sets it). */
void ss_log_set_level(enum ss_log_level level);

/*
 * Sets the level unless SUISHEN_LOG names one, which decides over any
 * default: info for the server, whose log operators read; warn for the
 * commands, whose output is what they print (`--verbose`: info).
 */
void ss_log_set_default(enum ss_log_level level);

/* Writes one line: ts, level, event, then the formatted key=value text. */
void ss_log(enum ss_log_level level, const char *event, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#define ss_log_info(event, ...)  ss_log(SS_LOG_INFO, event, __VA_ARGS__)
#define ss_log_warn(event, ...)  ss_log(SS_LOG_WARN, event, __VA_ARGS__)
#define ss_log_error(event, ...) ss_log(SS_LOG_ERROR, event, __VA_ARGS__)
#define ss_log_debug(event, ...) ss_log(SS_LOG_DEBUG, event, __VA_ARGS__)

#endif
