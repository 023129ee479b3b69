/*
 * fuzz_name: libFuzzer target for the checks of what people type into names
 * and URLs put in ids: ss_str_check_name() and ss_str_to_id() over arbitrary
 * bytes. An accepted name is the input with white space trimmed from its
 * ends, within the limit, clean text, and accepted again unchanged; a refused
 * one names the field and does not repeat the input. An accepted id is digits
 * that print back to the input.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/str.h"

#define MAX 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	char out[MAX + 1], again[MAX + 1];

	/* libFuzzer's buffer has exactly size bytes, so ASan catches any read past it */
	if (ss_str_check_name(s, size, MAX, "place", out) != SS_OK) {
		if (!ss_err_field() || strcmp(ss_err_field(), "place") != 0 || !*ss_err_message())
			abort();
		if (size >= 8 && memmem(ss_err_message(), strlen(ss_err_message()), s, size))
			abort();
	} else {
		size_t n = strlen(out);
		if (n == 0 || n > MAX || !ss_utf8_is_clean_text(out, n) || !memmem(s, size, out, n))
			abort();
		if (ss_str_check_name(out, n, MAX, "place", again) != SS_OK || strcmp(out, again) != 0)
			abort();
	}

	char text[32], back[32];
	int64_t id;
	if (size < sizeof(text)) {
		memcpy(text, s, size);
		text[size] = '\0';
		if (ss_str_to_id(text, &id)) {
			snprintf(back, sizeof(back), "%" PRId64, id);
			if (id <= 0 || strcmp(back, text) != 0)
				abort();
		}
	}
	return 0;
}
