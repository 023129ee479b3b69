/*
 * fuzz_idcard: libFuzzer target for ss_idcard_parse() over arbitrary bytes.
 * Whatever it accepts must be a well-formed number whose check character
 * re-computes, and whatever it refuses must come with field "id_number" and a
 * message that does not repeat the input.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "core/division.h"
#include "core/idcard.h"

/* 2026-11-26T08:00:00Z: a fixed "now" keeps runs reproducible */
#define NOW INT64_C(1795680000)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ss_idcard id;
	const char *s = (const char *)data;

	/* libFuzzer's buffer has exactly size bytes, so ASan catches any read past n */
	if (ss_idcard_parse(s, size, NOW, &id) != SS_OK) {
		const char *field = ss_err_field();
		if (!field || strcmp(field, "id_number") != 0 || !*ss_err_message())
			abort();
		/* no 6 consecutive digits of the input may appear in the message (messages hold at most "1900") */
		const char *msg = ss_err_message();
		for (size_t i = 0; i + 6 <= size; i++) {
			bool digits = true;
			for (size_t k = 0; k < 6; k++)
				digits = digits && s[i + k] >= '0' && s[i + k] <= '9';
			if (digits && memmem(msg, strlen(msg), s + i, 6))
				abort();
		}
		return 0;
	}
	if (size != SS_IDCARD_LEN || strlen(id.number) != SS_IDCARD_LEN)
		abort();
	if (ss_idcard_check_char(id.number) != id.number[17])
		abort();
	if (!ss_division_is_valid(id.division) || memcmp(id.division, s, 6) != 0)
		abort();
	if (id.year < 1900 || id.month < 1 || id.month > 12 || id.day < 1 || id.day > 31)
		abort();
	if (!ss_idcard_is_valid(id.number, NOW))
		abort();
	int age = ss_idcard_age(&id, NOW);
	if (age < 0 || age > 127)
		abort();
	return 0;
}
