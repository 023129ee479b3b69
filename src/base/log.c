/* log: logfmt lines on standard error (see log.h). */
#include "base/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/time.h"

/* the level is read from the environment once, by whichever thread logs first */
static atomic_int min_level = SS_LOG_INFO;
static bool env_sets_level; /* SUISHEN_LOG named a level (written once, under env_once) */
static pthread_once_t env_once = PTHREAD_ONCE_INIT;

static const char *const names[] = {"debug", "info", "warn", "error"}; /* by enum ss_log_level */

static void read_env_level(void)
{
	const char *v = getenv("SUISHEN_LOG");
	for (int i = 0; v && i < 4; i++)
		if (!strcmp(v, names[i])) {
			atomic_store(&min_level, i);
			env_sets_level = true;
		}
}

void ss_log_set_level(enum ss_log_level level)
{
	pthread_once(&env_once, read_env_level);
	atomic_store(&min_level, (int)level);
}

void ss_log_set_default(enum ss_log_level level)
{
	pthread_once(&env_once, read_env_level);
	if (!env_sets_level)
		atomic_store(&min_level, (int)level);
}

void ss_log(enum ss_log_level level, const char *event, const char *fmt, ...)
{
	char line[1024], ts[SS_TIME_TEXT];
	va_list ap;

	pthread_once(&env_once, read_env_level);
	if ((int)level < atomic_load_explicit(&min_level, memory_order_relaxed))
		return;
	ss_time_format(ss_time_now(), ts);
	int n = snprintf(line, sizeof(line), "ts=%s level=%s event=%s ", ts, names[level], event);
	if (n < 0 || (size_t)n >= sizeof(line))
		return;
	va_start(ap, fmt);
	int m = vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	size_t len = m < 0 ? (size_t)n : (size_t)n + (size_t)m;
	if (len > sizeof(line) - 2)
		len = sizeof(line) - 2;
	while (len > 0 && line[len - 1] == ' ')
		len--;
	line[len++] = '\n';
	ssize_t w = write(STDERR_FILENO, line, len);
	(void)w;
}
