/*
 * str: small text helpers over bytes: hex, base32 (RFC 4648), UTF-8 checks,
 * constant-time comparison. libc only; no allocation unless said.
 */
#ifndef SS_BASE_STR_H
#define SS_BASE_STR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

/* Writes 2*n lowercase hex digits and a NUL to out (2*n+1 bytes). */
void ss_hex_encode(const uint8_t *in, size_t n, char *out);

/* The value of one hex digit (either case), or -1 if c is not one. */
int ss_hex_value(char c);

/*
 * Decodes the %HH escapes of a URL path or query argument in place and
 * returns the new length, except %00, which stays as it is written: a NUL
 * inside would end the C string early and make "/assets/a.js%00.png" the same
 * as "/assets/a.js". With it kept, such a path names nothing and such a
 * value is refused by whoever parses it. The result is never longer.
 */
size_t ss_url_unescape(char *s);

/* Decodes exactly 2*n hex digits (either case) from in into n bytes; false if in is not that. */
bool ss_hex_decode(const char *in, size_t inlen, uint8_t *out, size_t n);

/* RFC 4648 base32 without padding; out needs (n*8+4)/5+1 bytes. */
void ss_base32_encode(const uint8_t *in, size_t n, char *out);

/* True if the n bytes at s are well-formed UTF-8 with no control characters (below U+0020, or U+007F). */
bool ss_utf8_is_clean_text(const char *s, size_t n);

/*
 * Checks a name that people read (a resident's, a member of staff's, an
 * organisation's, a place's, a source client's): white space (U+0020, U+3000
 * and the other Unicode spaces) trimmed from both ends, what is left must be
 * 1 to max bytes of clean text (as above) with no invisible character that
 * changes what is shown or makes one name look like another: the
 * bidirectional controls (U+061C, U+200E, U+200F, U+202A-U+202E,
 * U+2066-U+2069), zero-width characters (U+200B-U+200D, U+2060-U+2064,
 * U+FEFF), the soft hyphen, fillers and tags. On success out (max + 1 bytes)
 * holds the trimmed name. SS_INVALID naming field, saying which rule, never
 * the name.
 */
enum ss_err ss_str_check_name(const char *s, size_t n, size_t max, const char *field, char *out) SS_MUST;

/* Number of UTF-8 characters in a well-formed string. */
size_t ss_utf8_count(const char *s, size_t n);

/* Byte length of the UTF-8 character starting with lead byte c (1 for a stray byte). */
size_t ss_utf8_char_len(unsigned char c);

/* Compares n bytes in time independent of where they differ. */
bool ss_ct_equal(const void *a, const void *b, size_t n);

/* True if every one of the n bytes at s is an ASCII digit (and n > 0). */
bool ss_str_is_digits(const char *s, size_t n);

/* Parses the whole of s as a decimal number in [min, max] (an optional sign, digits, nothing else). */
bool ss_str_to_ll(const char *s, long long min, long long max, long long *out);

/*
 * Parses an id as a URL names it: decimal digits only (no sign, no space, no
 * leading zero), 1 to INT64_MAX. "+1", "01" and "1 " name no id: one object,
 * one spelling.
 */
bool ss_str_to_id(const char *s, int64_t *out);

#endif
