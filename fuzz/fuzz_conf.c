/*
 * fuzz_conf: libFuzzer target for the settings file parser (base/conf.h). A
 * file either parses, and then every key read back is one it set, every value
 * a string without line breaks, numbers read within their bounds; or it fails
 * with a message and no settings.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int count;

static void check(void *ctx, const char *key, const char *value)
{
	const struct ss_conf *c = ctx;
	count++;
	if (!*key || strchr(value, '\n') || ss_conf_get(c, key) != value)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ss_conf *c = NULL;
	enum ss_err err = ss_conf_parse("fuzz.conf", (const char *)data, size, &c);
	if (err) {
		if (c || !ss_err_message() || !*ss_err_message())
			abort();
		return 0;
	}
	count = 0;
	ss_conf_each(c, check, c);
	if (count > SS_CONF_MAX_ENTRIES)
		abort();
	/* a value set is read within its bounds (or refused); a value not set leaves the default as it was */
	double v = 7;
	bool set = ss_conf_get(c, "alerts.probe.rate") != NULL;
	if (ss_conf_number(c, "alerts.probe.rate", 0, 1, &v) == SS_OK && (set ? v < 0 || v > 1 : v != 7))
		abort();
	ss_conf_free(c);
	return 0;
}
