/* err: error table lookups and the per-thread error detail (see err.h). */
#include "base/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static _Thread_local char detail_msg[256];
static _Thread_local char detail_field[64];
static _Thread_local bool detail_has_field;

int ss_err_status(enum ss_err err)
{
	switch (err) {
#define SS_ERR_CASE(name, status, code) \
	case SS_##name:                 \
		return status;
		SS_ERR_MAP(SS_ERR_CASE)
#undef SS_ERR_CASE
	}
	return 500;
}

const char *ss_err_code(enum ss_err err)
{
	switch (err) {
#define SS_ERR_CASE(name, status, code) \
	case SS_##name:                 \
		return code;
		SS_ERR_MAP(SS_ERR_CASE)
#undef SS_ERR_CASE
	}
	return "internal";
}

enum ss_err ss_fail(enum ss_err err, const char *field, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail_msg, sizeof(detail_msg), fmt, ap);
	va_end(ap);
	detail_has_field = field != NULL;
	if (field)
		snprintf(detail_field, sizeof(detail_field), "%s", field);
	return err;
}

const char *ss_err_message(void)
{
	return detail_msg;
}

const char *ss_err_field(void)
{
	return detail_has_field ? detail_field : NULL;
}

void ss_err_clear(void)
{
	detail_msg[0] = '\0';
	detail_has_field = false;
}
