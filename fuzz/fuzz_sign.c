/*
 * fuzz_sign: libFuzzer target for signed terminal requests (src/core/sign.c).
 *
 * The input is split at its first five newlines into method, path,
 * X-Timestamp, X-Nonce and X-Signature, the rest being the body; a header
 * the input runs out before is missing (NULL). Each header is copied to a
 * buffer of exactly its length and a NUL, so ASan catches any read past it.
 * Checks, aborting on failure:
 *  - the input's own signature is refused unless it is the right one, and a
 *    refusal names one of the three headers and comes with a message;
 *  - the right signature (computed here) is accepted exactly when a reference
 *    check of the timestamp's and nonce's form and window, written apart from
 *    sign.c, says so, and then *ts is the timestamp; one changed character of
 *    it is refused;
 *  - the nonce cache: an accepted (client, nonce) is new once and a replay
 *    after, a refusal as busy records nothing.
 * "Now" is the input's timestamp moved by up to 350 s either way (by its last
 * byte), so that the window's edges are reached; the cache's clock moves on
 * 7 s with each input, so its entries die and their slots are reused.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Isrc fuzz/fuzz_sign.c src/core/sign.c \
 *     src/crypto/sm.c src/base/{err,mem,buf,arena,str,time,log}.c -lcrypto -o /tmp/fuzz_sign && /tmp/fuzz_sign
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "core/sign.h"
#include "crypto/crypto.h"

#define CHECK(x)                 \
	do {                     \
		if (!(x))        \
			abort(); \
	} while (0)

#define NOW INT64_C(1795680000) /* 2026-11-26T08:00:00Z */

/* the key of test/unit/test_sign.c's known answers, so the seeds carry right signatures */
static const uint8_t key[32] = {0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15,
                                16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31};
static struct ss_nonce_cache *cache;
static int64_t clock_now; /* seconds added to every request the cache sees */

/* The reference: 1-19 digits, at most SS_SIGN_WINDOW from now (values past int64 are never within). */
static bool ts_ok(const char *s, int64_t now, int64_t *out)
{
	size_t n = strlen(s);
	unsigned __int128 v = 0;
	if (n < 1 || n > 19)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	__int128 d = (__int128)v - now;
	*out = (int64_t)v;
	return v <= INT64_MAX && d >= -SS_SIGN_WINDOW && d <= SS_SIGN_WINDOW;
}

static bool nonce_ok(const char *s)
{
	size_t n = strlen(s);
	if (n < SS_NONCE_MIN || n > SS_NONCE_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x7f)
			return false;
	return true;
}

static bool names_a_header(void)
{
	const char *f = ss_err_field();
	return f && *ss_err_message() &&
	       (!strcmp(f, "X-Timestamp") || !strcmp(f, "X-Nonce") || !strcmp(f, "X-Signature"));
}

/*
 * Now, near the input's timestamp (within 350 s either way, by its last byte) so the window's edges are
 * reached; NOW if the timestamp is no number.
 */
static int64_t now_for(const char *ts_text, const uint8_t *data, size_t size)
{
	unsigned __int128 v = 0;
	size_t n = ts_text ? strlen(ts_text) : 0;

	if (n < 1 || n > 19 || strspn(ts_text, "0123456789") != n || size == 0)
		return NOW;
	for (size_t i = 0; i < n; i++)
		v = v * 10 + (unsigned)(ts_text[i] - '0');
	__int128 now = (__int128)v + (int)(data[size - 1] * 700 / 255) - 350;
	return now > INT64_MAX ? INT64_MAX : (int64_t)now;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *field[5] = {NULL};
	size_t pos = 0;

	if (!cache) {
		CHECK(ss_crypto_init() == SS_OK);
		cache = ss_nonce_cache_new(64);
	}
	clock_now += 7; /* an entry lives 2 windows: about 170 inputs */
	for (int i = 0; i < 5 && pos <= size; i++) {
		const uint8_t *nl = memchr(data + pos, '\n', size - pos);
		if (!nl)
			break;
		size_t n = (size_t)(nl - (data + pos));
		field[i] = malloc(n + 1);
		memcpy(field[i], data + pos, n);
		field[i][n] = '\0';
		pos += n + 1;
	}
	/* the body: exactly its bytes, in a buffer of its own */
	size_t body_len = pos < size ? size - pos : 0;
	uint8_t *body = malloc(body_len ? body_len : 1);
	memcpy(body, data + pos, body_len);
	const char *method = field[0] ? field[0] : "", *path = field[1] ? field[1] : "";
	const char *ts_text = field[2], *nonce = field[3], *sig = field[4];
	int64_t now = now_for(ts_text, data, size), ts = -1;

	/* the input's own signature */
	enum ss_err err = ss_sign_verify(key, method, path, ts_text, nonce, sig, body, body_len, now, &ts);
	if (err != SS_OK)
		CHECK(err == SS_UNAUTHENTICATED && names_a_header() && ts == -1);

	if (ts_text && nonce) {
		char right[65];
		int64_t want_ts = -1;
		ss_sign_compute(key, method, path, ts_text, nonce, body, body_len, right);
		CHECK(strlen(right) == 64 && strspn(right, "0123456789abcdef") == 64);
		/* the input's signature, if accepted, is the right one in either case */
		if (err == SS_OK)
			CHECK(strlen(sig) == 64 && strncasecmp(sig, right, 64) == 0);
		bool good = ts_ok(ts_text, now, &want_ts) && nonce_ok(nonce);
		ts = -1;
		err = ss_sign_verify(key, method, path, ts_text, nonce, right, body, body_len, now, &ts);
		CHECK(good ? err == SS_OK && ts == want_ts : err == SS_UNAUTHENTICATED && names_a_header());
		if (good) {
			right[size % 64] = right[size % 64] == '0' ? '1' : '0';
			CHECK(ss_sign_verify(key, method, path, ts_text, nonce, right, body, body_len, now, &ts) ==
			      SS_UNAUTHENTICATED);
			CHECK(!strcmp(ss_err_message(), "signature does not match"));

			uint64_t client = body_len ? body[0] % 4 : 0;
			/* the cache sees every request shifted by the clock, which moves on with each input */
			int64_t shift = (want_ts > now ? want_ts : now) > INT64_MAX - clock_now ? 0 : clock_now;
			enum ss_err first = ss_nonce_cache_add(cache, client, nonce, want_ts + shift, now + shift);
			enum ss_err again = ss_nonce_cache_add(cache, client, nonce, want_ts + shift, now + shift);
			if (first == SS_BUSY)
				CHECK(again == SS_BUSY);
			else
				CHECK((first == SS_OK || first == SS_UNAUTHENTICATED) && again == SS_UNAUTHENTICATED);
		}
	}
	/* the cache takes any nonce text the verifier would not, without reading past it */
	if (nonce) {
		enum ss_err e = ss_nonce_cache_add(cache, 99, nonce, NOW + clock_now, NOW + clock_now);
		CHECK(e == SS_OK || e == SS_UNAUTHENTICATED || e == SS_BUSY);
	}
	for (int i = 0; i < 5; i++)
		free(field[i]);
	free(body);
	return 0;
}
