/* str: hex, base32, UTF-8 and comparison helpers (see str.h). */
#include "base/str.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void ss_hex_encode(const uint8_t *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

int ss_hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

bool ss_hex_decode(const char *in, size_t inlen, uint8_t *out, size_t n)
{
	if (inlen != 2 * n)
		return false;
	for (size_t i = 0; i < n; i++) {
		int hi = ss_hex_value(in[2 * i]), lo = ss_hex_value(in[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return false;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

void ss_base32_encode(const uint8_t *in, size_t n, char *out)
{
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
	uint32_t acc = 0;
	int bits = 0;
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		acc = (acc << 8) | in[i];
		bits += 8;
		while (bits >= 5) {
			out[o++] = alphabet[(acc >> (bits - 5)) & 31];
			bits -= 5;
		}
	}
	if (bits > 0)
		out[o++] = alphabet[(acc << (5 - bits)) & 31];
	out[o] = '\0';
}

size_t ss_utf8_char_len(unsigned char c)
{
	if (c < 0x80)
		return 1;
	if ((c & 0xe0) == 0xc0)
		return 2;
	if ((c & 0xf0) == 0xe0)
		return 3;
	if ((c & 0xf8) == 0xf0)
		return 4;
	return 1;
}

/*
 * Decodes the character at p (n > 0 bytes left) into *cp, its length into
 * *len; false if it is not well-formed UTF-8 (overlong, a surrogate, past
 * U+10FFFF, cut short).
 */
static bool utf8_next(const unsigned char *p, size_t n, uint32_t *cp, size_t *len)
{
	unsigned char c = p[0];
	uint32_t min;
	if (c < 0x80) {
		*cp = c, *len = 1;
		return true;
	}
	if ((c & 0xe0) == 0xc0)
		*len = 2, *cp = c & 0x1f, min = 0x80;
	else if ((c & 0xf0) == 0xe0)
		*len = 3, *cp = c & 0x0f, min = 0x800;
	else if ((c & 0xf8) == 0xf0)
		*len = 4, *cp = c & 0x07, min = 0x10000;
	else
		return false;
	if (n < *len)
		return false;
	for (size_t k = 1; k < *len; k++) {
		if ((p[k] & 0xc0) != 0x80)
			return false;
		*cp = (*cp << 6) | (p[k] & 0x3f);
	}
	return *cp >= min && *cp <= 0x10ffff && !(*cp >= 0xd800 && *cp <= 0xdfff);
}

bool ss_utf8_is_clean_text(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	for (size_t i = 0, len; i < n; i += len) {
		uint32_t cp;
		if (!utf8_next(p + i, n - i, &cp, &len))
			return false;
		if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0)) /* C0, DEL and C1 controls */
			return false;
	}
	return true;
}

/* White space that a name may hold inside but not at its ends, nor alone (C0 controls are refused anyway). */
static bool is_space(uint32_t cp)
{
	return cp == 0x20 || cp == 0xa0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200a) || cp == 0x202f ||
	       cp == 0x205f || cp == 0x3000;
}

/*
 * Characters that show nothing themselves but change what is shown around
 * them, or make one name look like another: the bidirectional controls,
 * zero-width characters, invisible fillers and tags. Variation selectors stay
 * allowed: Chinese names use them for rare forms of a character.
 */
static bool is_invisible(uint32_t cp)
{
	static const uint32_t ranges[][2] = {
	        {0x00ad, 0x00ad},   /* soft hyphen */
	        {0x034f, 0x034f},   /* combining grapheme joiner */
	        {0x061c, 0x061c},   /* Arabic letter mark (bidi) */
	        {0x115f, 0x1160},   /* Hangul fillers */
	        {0x200b, 0x200f},   /* zero width space, non-joiner, joiner; LRM, RLM (bidi) */
	        {0x2028, 0x2029},   /* line and paragraph separators */
	        {0x202a, 0x202e},   /* bidi embeddings and overrides (U+202E: right-to-left override) */
	        {0x2060, 0x2064},   /* word joiner, invisible operators */
	        {0x2066, 0x206f},   /* bidi isolates; deprecated format characters */
	        {0x3164, 0x3164},   /* Hangul filler */
	        {0xfeff, 0xfeff},   /* zero width no-break space (byte-order mark) */
	        {0xffa0, 0xffa0},   /* halfwidth Hangul filler */
	        {0xfff9, 0xfffb},   /* interlinear annotation */
	        {0xe0000, 0xe007f}, /* tags */
	};
	for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++)
		if (cp >= ranges[i][0] && cp <= ranges[i][1])
			return true;
	return false;
}

enum ss_err ss_str_check_name(const char *s, size_t n, size_t max, const char *field, char *out)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t first = n, end = 0; /* the bytes from the first to past the last character that is not white space */
	for (size_t i = 0, len; i < n; i += len) {
		uint32_t cp;
		if (!utf8_next(p + i, n - i, &cp, &len) || cp < 0x20 || (cp >= 0x7f && cp < 0xa0))
			return ss_fail(SS_INVALID, field, "%s must be UTF-8 text without control characters", field);
		if (is_invisible(cp))
			return ss_fail(
			        SS_INVALID, field,
			        "%s must not hold invisible or bidirectional control characters (such as U+%04X)",
			        field, (unsigned)cp);
		if (!is_space(cp)) {
			if (first == n)
				first = i;
			end = i + len;
		}
	}
	if (first == n)
		return ss_fail(SS_INVALID, field, "%s must not be empty", field);
	if (end - first > max)
		return ss_fail(SS_INVALID, field, "%s must be at most %zu bytes", field, max);
	memcpy(out, s + first, end - first);
	out[end - first] = '\0';
	return SS_OK;
}

size_t ss_utf8_count(const char *s, size_t n)
{
	size_t count = 0;
	for (size_t i = 0; i < n; count++)
		i += ss_utf8_char_len((unsigned char)s[i]);
	return count;
}

bool ss_ct_equal(const void *a, const void *b, size_t n)
{
	const volatile unsigned char *x = a, *y = b;
	unsigned char d = 0;
	for (size_t i = 0; i < n; i++)
		d |= x[i] ^ y[i];
	return d == 0;
}

bool ss_str_is_digits(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

bool ss_str_to_ll(const char *s, long long min, long long max, long long *out)
{
	char *end;
	if (!s || !((*s >= '0' && *s <= '9') || *s == '-' || *s == '+'))
		return false; /* strtoll would skip white space */
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		return false;
	*out = v;
	return true;
}

bool ss_str_to_id(const char *s, int64_t *out)
{
	long long v;
	if (!s || *s < '1' || *s > '9' || !ss_str_is_digits(s, strlen(s)) || !ss_str_to_ll(s, 1, INT64_MAX, &v))
		return false;
	*out = v;
	return true;
}

size_t ss_url_unescape(char *s)
{
	char *out = s;
	for (const char *in = s; *in;) {
		int hi, lo;
		if (in[0] == '%' && (hi = ss_hex_value(in[1])) >= 0 && (lo = ss_hex_value(in[2])) >= 0 && (hi || lo)) {
			*out++ = (char)(hi * 16 + lo);
			in += 3;
		} else {
			*out++ = *in++;
		}
	}
	*out = '\0';
	return (size_t)(out - s);
}
