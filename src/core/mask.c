/* mask: masking rules for names, ID numbers and phone numbers (see mask.h). */
#include "core/mask.h"

#include <string.h>

#include "base/str.h"

void ss_mask_name(const char *name, char out[SS_MASK_MAX])
{
	size_t n = strlen(name), o = 0;
	if (n == 0) {
		out[0] = '\0';
		return;
	}
	size_t first = ss_utf8_char_len((unsigned char)name[0]);
	if (first > n)
		first = n;
	memcpy(out, name, first);
	o = first;
	for (size_t i = first; i < n && o < SS_MASK_MAX - 1; i += ss_utf8_char_len((unsigned char)name[i]))
		out[o++] = '*';
	out[o] = '\0';
}

/* Keeps head and tail characters of an ASCII string, '*' between. */
static void keep_ends(const char *s, size_t head, size_t tail, char out[SS_MASK_MAX])
{
	size_t n = strlen(s);
	if (n >= SS_MASK_MAX)
		n = SS_MASK_MAX - 1;
	for (size_t i = 0; i < n; i++)
		out[i] = (i < head || i >= n - tail || n <= head + tail) ? s[i] : '*';
	if (n <= head + tail) /* too short to show both ends: hide all */
		memset(out, '*', n);
	out[n] = '\0';
}

void ss_mask_id(const char *id, char out[SS_MASK_MAX])
{
	keep_ends(id, 2, 2, out);
}

void ss_mask_phone(const char *phone, char out[SS_MASK_MAX])
{
	keep_ends(phone, 3, 4, out);
}
