/*
 * Unit tests of src/core/sign.c: signatures against known answers computed
 * apart from this code (Python's hashlib SM3 and hmac, checked with `openssl
 * dgst -sm3 -mac HMAC`), refusal of every single change to a signed request,
 * the timestamp window's edges, malformed and missing headers, and the nonce
 * cache: replays, expiry, SS_BUSY when full and recovery, probe chains with
 * dead entries inside them, and concurrent adds.
 */
#include "core/sign.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/str.h"
#include "check.h"
#include "crypto/crypto.h"

#define NOW INT64_C(1795680000) /* 2026-11-26T08:00:00Z */
#define TS  "1795680000"

/* key = 00 01 02 ... 1f */
static uint8_t key[32];

/* Known answer 1: a scan. */
#define KA_METHOD "POST"
#define KA_PATH   "/v1/scans"
#define KA_NONCE  "0123456789abcdef"
#define KA_BODY   "{\"code\":\"ABC\"}"
#define KA_SIG    "da860e41bea36f705e5879a85a8cf46f544300b2b58d4ac90266d4671be041c1"

/* Known answer 2: no body (hex(SM3("")) = 1ab21d83...5082aa2b). */
#define KB_NONCE "nonce-0000000001"
#define KB_SIG   "e818e7baca084021dc41467f9ec0896e9b8f21a0496e0900385e39fe2fd842cb"

static enum ss_err verify_body(const char *method, const char *path, const char *ts, const char *nonce, const char *sig,
                               const char *body, int64_t now)
{
	int64_t t = -1;
	ss_err_clear();
	enum ss_err err = ss_sign_verify(key, method, path, ts, nonce, sig, body, body ? strlen(body) : 0, now, &t);
	if (err == SS_OK && t != strtoll(ts, NULL, 10))
		return SS_INTERNAL; /* *ts must be the timestamp */
	return err;
}

static enum ss_err verify(const char *ts, const char *nonce, const char *sig, int64_t now)
{
	return verify_body(KA_METHOD, KA_PATH, ts, nonce, sig, KA_BODY, now);
}

/* verify() must refuse with SS_UNAUTHENTICATED, this message and field. */
#define CHECK_REFUSED(call, msg, field)              \
	do {                                         \
		CHECK((call) == SS_UNAUTHENTICATED); \
		CHECK_STR(ss_err_message(), msg);    \
		CHECK_STR(ss_err_field(), field);    \
	} while (0)

static void test_known_answer(void)
{
	char sig[65];

	ss_sign_compute(key, KA_METHOD, KA_PATH, TS, KA_NONCE, KA_BODY, strlen(KA_BODY), sig);
	CHECK_STR(sig, KA_SIG);
	ss_sign_compute(key, "GET", "/v1/me", TS, KB_NONCE, NULL, 0, sig);
	CHECK_STR(sig, KB_SIG);
	ss_sign_compute(key, "GET", "/v1/me", TS, KB_NONCE, "", 0, sig);
	CHECK_STR(sig, KB_SIG);

	CHECK(verify(TS, KA_NONCE, KA_SIG, NOW) == SS_OK);
	CHECK(verify_body("GET", "/v1/me", TS, KB_NONCE, KB_SIG, NULL, NOW) == SS_OK);
	CHECK(verify_body("GET", "/v1/me", TS, KB_NONCE, KB_SIG, "", NOW) == SS_OK);

	/* upper-case hex is the same signature */
	char upper[65];
	for (int i = 0; i < 65; i++)
		upper[i] = (char)(KA_SIG[i] >= 'a' && KA_SIG[i] <= 'f' ? KA_SIG[i] - 32 : KA_SIG[i]);
	CHECK(verify(TS, KA_NONCE, upper, NOW) == SS_OK);
}

static void test_single_changes(void)
{
	CHECK_REFUSED(verify_body("PUT", KA_PATH, TS, KA_NONCE, KA_SIG, KA_BODY, NOW), "signature does not match",
	              "X-Signature");
	CHECK_REFUSED(verify_body("post", KA_PATH, TS, KA_NONCE, KA_SIG, KA_BODY, NOW), "signature does not match",
	              "X-Signature");
	CHECK_REFUSED(verify_body(KA_METHOD, "/v1/scan", TS, KA_NONCE, KA_SIG, KA_BODY, NOW),
	              "signature does not match", "X-Signature");
	CHECK_REFUSED(verify_body(KA_METHOD, "/v1/scans/", TS, KA_NONCE, KA_SIG, KA_BODY, NOW),
	              "signature does not match", "X-Signature");
	CHECK_REFUSED(verify("1795680001", KA_NONCE, KA_SIG, NOW), "signature does not match", "X-Signature");
	/* the same number written differently is a different message */
	CHECK_REFUSED(verify("01795680000", KA_NONCE, KA_SIG, NOW), "signature does not match", "X-Signature");
	CHECK_REFUSED(verify(TS, "0123456789abcdeF", KA_SIG, NOW), "signature does not match", "X-Signature");
	CHECK_REFUSED(verify(TS, "0123456789abcdef0", KA_SIG, NOW), "signature does not match", "X-Signature");

	/* every body byte, each bit in turn of the first, one bit of the others */
	char body[] = KA_BODY;
	for (size_t i = 0; i < strlen(KA_BODY); i++) {
		for (int bit = 0; bit < (i == 0 ? 8 : 1); bit++) {
			body[i] ^= (char)(1 << bit);
			CHECK(verify_body(KA_METHOD, KA_PATH, TS, KA_NONCE, KA_SIG, body, NOW) == SS_UNAUTHENTICATED);
			body[i] ^= (char)(1 << bit);
		}
	}
	CHECK(verify_body(KA_METHOD, KA_PATH, TS, KA_NONCE, KA_SIG, body, NOW) == SS_OK);
	/* a body one byte shorter, or with a NUL byte appended */
	int64_t t;
	CHECK(ss_sign_verify(key, KA_METHOD, KA_PATH, TS, KA_NONCE, KA_SIG, KA_BODY, strlen(KA_BODY) - 1, NOW, &t) ==
	      SS_UNAUTHENTICATED);
	CHECK(ss_sign_verify(key, KA_METHOD, KA_PATH, TS, KA_NONCE, KA_SIG, KA_BODY, strlen(KA_BODY) + 1, NOW, &t) ==
	      SS_UNAUTHENTICATED);

	/* every signature character changed to another hex digit */
	char sig[] = KA_SIG;
	for (int i = 0; i < 64; i++) {
		char was = sig[i];
		sig[i] = was == '0' ? '1' : '0';
		CHECK_REFUSED(verify(TS, KA_NONCE, sig, NOW), "signature does not match", "X-Signature");
		sig[i] = was;
	}
	CHECK(verify(TS, KA_NONCE, sig, NOW) == SS_OK);

	/* another key */
	uint8_t other[32];
	memcpy(other, key, sizeof(other));
	other[31] ^= 1;
	CHECK(ss_sign_verify(other, KA_METHOD, KA_PATH, TS, KA_NONCE, KA_SIG, KA_BODY, strlen(KA_BODY), NOW, &t) ==
	      SS_UNAUTHENTICATED);
}

/* A request signed at timestamp ts, verified at now. */
static enum ss_err signed_at(int64_t ts, int64_t now)
{
	char text[24], sig[65];
	snprintf(text, sizeof(text), "%" PRId64, ts);
	ss_sign_compute(key, KA_METHOD, KA_PATH, text, KA_NONCE, KA_BODY, strlen(KA_BODY), sig);
	return verify(text, KA_NONCE, sig, now);
}

static void test_window(void)
{
	CHECK(signed_at(NOW, NOW) == SS_OK);
	CHECK(signed_at(NOW - 300, NOW) == SS_OK);
	CHECK(signed_at(NOW + 300, NOW) == SS_OK);
	CHECK_REFUSED(signed_at(NOW - 301, NOW), "timestamp is more than 300 s off", "X-Timestamp");
	CHECK_REFUSED(signed_at(NOW + 301, NOW), "timestamp is more than 300 s off", "X-Timestamp");
	CHECK_REFUSED(signed_at(0, NOW), "timestamp is more than 300 s off", "X-Timestamp");
	CHECK_REFUSED(signed_at(INT64_MAX, NOW), "timestamp is more than 300 s off", "X-Timestamp");
	/* the edges of int64 on either side, without overflow */
	CHECK(signed_at(INT64_MAX, INT64_MAX) == SS_OK);
	CHECK(signed_at(INT64_MAX - 300, INT64_MAX) == SS_OK);
	CHECK(signed_at(0, -300) == SS_OK);
	CHECK(signed_at(0, INT64_MIN) == SS_UNAUTHENTICATED);
	CHECK(signed_at(INT64_MAX, INT64_MIN) == SS_UNAUTHENTICATED);
	/* 19 digits above INT64_MAX: well-formed, but no clock is there */
	CHECK_REFUSED(verify("9999999999999999999", KA_NONCE, KA_SIG, INT64_MAX), "timestamp is more than 300 s off",
	              "X-Timestamp");
	CHECK_REFUSED(verify("9223372036854775808", KA_NONCE, KA_SIG, INT64_MAX), "timestamp is more than 300 s off",
	              "X-Timestamp");
	/* the timestamp is checked before the signature, so a wrong one says so whatever the signature */
	CHECK_REFUSED(verify("1795679699", KA_NONCE, KA_SIG, NOW), "timestamp is more than 300 s off", "X-Timestamp");
	/* the signature is checked even within the window */
	CHECK_REFUSED(verify("1795680300", KA_NONCE, KA_SIG, NOW), "signature does not match", "X-Signature");
}

#define TS_FORM    "timestamp must be unix seconds: 1 to 19 digits"
#define NONCE_LEN  "nonce must be 16 to 64 characters"
#define NONCE_FORM "nonce must be visible ascii characters, without spaces"
#define SIG_FORM   "signature must be 64 hex digits"

static void test_malformed(void)
{
	CHECK_REFUSED(verify(NULL, KA_NONCE, KA_SIG, NOW), "missing X-Timestamp", "X-Timestamp");
	CHECK_REFUSED(verify(TS, NULL, KA_SIG, NOW), "missing X-Nonce", "X-Nonce");
	CHECK_REFUSED(verify(TS, KA_NONCE, NULL, NOW), "missing X-Signature", "X-Signature");
	CHECK_REFUSED(verify(NULL, NULL, NULL, NOW), "missing X-Timestamp", "X-Timestamp");

	static const char *bad_ts[] = {"",
	                               "-1",
	                               "+1795680000",
	                               " 1795680000",
	                               "1795680000 ",
	                               "1795680000\n",
	                               "17956800.0",
	                               "1795680000x",
	                               "0x6b07f400",
	                               "1e9",
	                               "00000000000000000000",
	                               "17956800000000000000"};
	for (size_t i = 0; i < sizeof(bad_ts) / sizeof(bad_ts[0]); i++)
		CHECK_REFUSED(verify(bad_ts[i], KA_NONCE, KA_SIG, NOW), TS_FORM, "X-Timestamp");

	CHECK_REFUSED(verify(TS, "", KA_SIG, NOW), NONCE_LEN, "X-Nonce");
	CHECK_REFUSED(verify(TS, "0123456789abcde", KA_SIG, NOW), NONCE_LEN, "X-Nonce");
	char long_nonce[66];
	memset(long_nonce, 'n', 65);
	long_nonce[65] = '\0';
	CHECK_REFUSED(verify(TS, long_nonce, KA_SIG, NOW), NONCE_LEN, "X-Nonce");
	static const char *bad_nonce[] = {"0123456789 abcdef", "0123456789\tabcdef", "0123456789\nabcdef",
	                                  "0123456789\x7f"
	                                  "abcdef",
	                                  "0123456789\xc3\xa9"
	                                  "abcdef"};
	for (size_t i = 0; i < sizeof(bad_nonce) / sizeof(bad_nonce[0]); i++)
		CHECK_REFUSED(verify(TS, bad_nonce[i], KA_SIG, NOW), NONCE_FORM, "X-Nonce");

	/* the edges of the nonce's form are accepted: 16 and 64 characters, every visible ASCII character */
	static const char *good_nonce[] = {
	        "!\"#$%&'()*+,-./0",
	        "123456789:;<=>?@",
	        "ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`",
	        "abcdefghijklmnopqrstuvwxyz{|}~~~",
	        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
	        "rL0Y20zC+Fzt72VPzMSk2A==", /* base64 */
	};
	for (size_t i = 0; i < sizeof(good_nonce) / sizeof(good_nonce[0]); i++) {
		char sig[65];
		ss_sign_compute(key, KA_METHOD, KA_PATH, TS, good_nonce[i], KA_BODY, strlen(KA_BODY), sig);
		CHECK(verify(TS, good_nonce[i], sig, NOW) == SS_OK);
	}

	static const char *bad_sig[] = {
	        "",
	        "da860e41bea36f705e5879a85a8cf46f544300b2b58d4ac90266d4671be041c",   /* 63 */
	        "da860e41bea36f705e5879a85a8cf46f544300b2b58d4ac90266d4671be041c10", /* 65 */
	        "ga860e41bea36f705e5879a85a8cf46f544300b2b58d4ac90266d4671be041c1",
	        "da860e41bea36f705e5879a85a8cf46f544300b2b58d4ac90266d4671be041c ",
	        " da860e41bea36f705e5879a85a8cf46f544300b2b58d4ac90266d4671be041c",
	        "0xda860e41bea36f705e5879a85a8cf46f544300b2b58d4ac90266d4671be041",
	};
	for (size_t i = 0; i < sizeof(bad_sig) / sizeof(bad_sig[0]); i++)
		CHECK_REFUSED(verify(TS, KA_NONCE, bad_sig[i], NOW), SIG_FORM, "X-Signature");

	/* a refusal leaves *ts alone */
	int64_t t = 42;
	CHECK(ss_sign_verify(key, KA_METHOD, KA_PATH, TS, KA_NONCE, bad_sig[0], KA_BODY, strlen(KA_BODY), NOW, &t) ==
	      SS_UNAUTHENTICATED);
	CHECK(t == 42);
}

static void test_capacity(void)
{
	static const size_t asked[][2] = {{0, 16}, {1, 16}, {16, 16}, {17, 32}, {100, 128}, {1024, 1024}};
	for (size_t i = 0; i < sizeof(asked) / sizeof(asked[0]); i++) {
		struct ss_nonce_cache *c = ss_nonce_cache_new(asked[i][0]);
		CHECK(ss_nonce_cache_capacity(c) == asked[i][1]);
		ss_nonce_cache_free(c);
	}
	ss_nonce_cache_free(NULL);
}

static void test_replay(void)
{
	struct ss_nonce_cache *c = ss_nonce_cache_new(1024);

	CHECK(ss_nonce_cache_add(c, 7, KA_NONCE, NOW, NOW) == SS_OK);
	ss_err_clear();
	CHECK(ss_nonce_cache_add(c, 7, KA_NONCE, NOW, NOW) == SS_UNAUTHENTICATED);
	CHECK_STR(ss_err_message(), "nonce already used");
	/* the same nonce with another timestamp is still a replay */
	CHECK(ss_nonce_cache_add(c, 7, KA_NONCE, NOW + 100, NOW + 100) == SS_UNAUTHENTICATED);
	/* another client may use the same nonce, once */
	CHECK(ss_nonce_cache_add(c, 8, KA_NONCE, NOW, NOW) == SS_OK);
	CHECK(ss_nonce_cache_add(c, 8, KA_NONCE, NOW, NOW) == SS_UNAUTHENTICATED);
	/* client ids that differ only in high bits, or as bytes reversed */
	CHECK(ss_nonce_cache_add(c, UINT64_C(7) << 56, KA_NONCE, NOW, NOW) == SS_OK);
	CHECK(ss_nonce_cache_add(c, 0, KA_NONCE, NOW, NOW) == SS_OK);
	/* another nonce of the same client */
	CHECK(ss_nonce_cache_add(c, 7, KB_NONCE, NOW, NOW) == SS_OK);
	CHECK(ss_nonce_cache_add(c, 7, KB_NONCE, NOW, NOW) == SS_UNAUTHENTICATED);
	/* a prefix of a recorded nonce is another nonce */
	CHECK(ss_nonce_cache_add(c, 7, "0123456789abcde", NOW, NOW) == SS_OK);
	ss_nonce_cache_free(c);
}

static void test_expiry(void)
{
	struct ss_nonce_cache *c = ss_nonce_cache_new(64);
	int64_t live_until = NOW + 2 * SS_SIGN_WINDOW - 1;

	CHECK(ss_nonce_cache_add(c, 1, KA_NONCE, NOW, NOW) == SS_OK);
	/* live while ts > now - 2 windows */
	CHECK(ss_nonce_cache_add(c, 1, KA_NONCE, live_until - SS_SIGN_WINDOW, live_until) == SS_UNAUTHENTICATED);
	CHECK(ss_nonce_cache_add(c, 1, KA_NONCE, live_until + 1 - SS_SIGN_WINDOW, live_until + 1) == SS_OK);
	/* and the re-added entry is live again from its own timestamp */
	CHECK(ss_nonce_cache_add(c, 1, KA_NONCE, live_until + 1, live_until + 1) == SS_UNAUTHENTICATED);
	/* far ahead, everything is dead */
	CHECK(ss_nonce_cache_add(c, 1, KA_NONCE, NOW + 1000000, NOW + 1000000) == SS_OK);
	/* a clock near either end of int64 does not overflow */
	CHECK(ss_nonce_cache_add(c, 2, KA_NONCE, INT64_MIN + 5, INT64_MIN + 5) == SS_OK);
	CHECK(ss_nonce_cache_add(c, 2, KA_NONCE, INT64_MIN + 5, INT64_MIN + 5) == SS_UNAUTHENTICATED);
	CHECK(ss_nonce_cache_add(c, 3, KA_NONCE, INT64_MAX, INT64_MAX) == SS_OK);
	CHECK(ss_nonce_cache_add(c, 3, KA_NONCE, INT64_MAX, INT64_MAX) == SS_UNAUTHENTICATED);
	ss_nonce_cache_free(c);
}

static void nonce_of(int thread, int i, char out[32])
{
	snprintf(out, 32, "t%02d-n%012d", thread, i);
}

static void test_busy(void)
{
	struct ss_nonce_cache *c = ss_nonce_cache_new(16); /* one slot a shard */
	char nonce[32];
	int ok = 0, busy = 0, other = 0;

	for (int i = 0; i < 1000; i++) {
		nonce_of(0, i, nonce);
		ss_err_clear();
		enum ss_err err = ss_nonce_cache_add(c, 1, nonce, NOW, NOW);
		if (err == SS_OK)
			ok++;
		else if (err == SS_BUSY && strcmp(ss_err_message(), "too many requests in flight") == 0)
			busy++;
		else
			other++;
	}
	/* 1000 keys hit every shard: each slot is taken once, every other add is refused and not recorded */
	CHECK(ok == 16);
	CHECK(busy == 1000 - 16);
	CHECK(other == 0);
	/* still full just before the first entries die */
	nonce_of(1, 0, nonce);
	CHECK(ss_nonce_cache_add(c, 1, nonce, NOW + 2 * SS_SIGN_WINDOW - 1, NOW + 2 * SS_SIGN_WINDOW - 1) == SS_BUSY);

	/* once they expire, the slots are reused */
	int64_t later = NOW + 2 * SS_SIGN_WINDOW;
	ok = 0;
	for (int i = 0; i < 1000; i++) {
		nonce_of(0, i, nonce);
		enum ss_err err = ss_nonce_cache_add(c, 1, nonce, later, later);
		ok += err == SS_OK;
		other += err != SS_OK && err != SS_BUSY;
	}
	CHECK(ok == 16);
	CHECK(other == 0);
	ss_nonce_cache_free(c);
}

/*
 * A full table whose older half has died: every live entry must still be found past the dead slots in its
 * probe, and every dead one may be added again.
 */
static void test_dead_in_chains(void)
{
	enum { CAP = 256 };
	struct ss_nonce_cache *c = ss_nonce_cache_new(CAP);
	static int64_t added_at[20000];
	char nonce[32];
	int n = 0, tried = 0;

	for (; tried < 20000 && n < CAP; tried++) {
		nonce_of(2, tried, nonce);
		int64_t t = NOW + n;
		enum ss_err err = ss_nonce_cache_add(c, 5, nonce, t, t);
		added_at[tried] = err == SS_OK ? t : -1;
		n += err == SS_OK;
	}
	CHECK(n == CAP);
	int64_t now = NOW + CAP / 2 - 1 + 2 * SS_SIGN_WINDOW; /* the first CAP/2 entries (t < NOW + CAP/2) are dead */
	int live_refused = 0, dead_accepted = 0, wrong = 0;
	/* the live ones first, while the dead slots before them in their probes are still dead */
	for (int pass = 0; pass < 2; pass++) {
		for (int i = 0; i < tried; i++) {
			bool live = added_at[i] > now - 2 * SS_SIGN_WINDOW;
			if (added_at[i] < 0 || live != (pass == 0))
				continue;
			nonce_of(2, i, nonce);
			enum ss_err err = ss_nonce_cache_add(c, 5, nonce, now, now);
			if (live && err == SS_UNAUTHENTICATED)
				live_refused++;
			else if (!live && err == SS_OK)
				dead_accepted++;
			else
				wrong++;
		}
	}
	CHECK(live_refused == CAP / 2);
	CHECK(dead_accepted == CAP / 2);
	CHECK(wrong == 0);
	ss_nonce_cache_free(c);
}

#define THREADS    4
#define PER_THREAD 5000

struct worker {
	struct ss_nonce_cache *c;
	pthread_barrier_t *start;
	int id;
	int ok, replay_refused, wrong;
};

/* Adds PER_THREAD nonces of its own, then adds each again. */
static void *work(void *arg)
{
	struct worker *w = arg;
	char nonce[32];

	pthread_barrier_wait(w->start);
	for (int i = 0; i < PER_THREAD; i++) {
		nonce_of(w->id, i, nonce);
		if (ss_nonce_cache_add(w->c, 42, nonce, NOW, NOW) == SS_OK)
			w->ok++;
		else
			w->wrong++;
	}
	for (int i = 0; i < PER_THREAD; i++) {
		nonce_of(w->id, i, nonce);
		if (ss_nonce_cache_add(w->c, 42, nonce, NOW + 1, NOW + 1) == SS_UNAUTHENTICATED)
			w->replay_refused++;
		else
			w->wrong++;
	}
	return NULL;
}

static void test_threads(void)
{
	struct ss_nonce_cache *c = ss_nonce_cache_new(THREADS * PER_THREAD * 4);
	struct worker w[THREADS];
	pthread_t th[THREADS];
	pthread_barrier_t start;
	char nonce[32];

	CHECK(pthread_barrier_init(&start, NULL, THREADS) == 0);
	for (int i = 0; i < THREADS; i++) {
		w[i] = (struct worker){.c = c, .start = &start, .id = i};
		CHECK(pthread_create(&th[i], NULL, work, &w[i]) == 0);
	}
	for (int i = 0; i < THREADS; i++) {
		CHECK(pthread_join(th[i], NULL) == 0);
		CHECK(w[i].ok == PER_THREAD);
		CHECK(w[i].replay_refused == PER_THREAD);
		CHECK(w[i].wrong == 0);
	}
	pthread_barrier_destroy(&start);
	/* every nonce of every thread is recorded, for that client only */
	int refused = 0, other_ok = 0;
	for (int t = 0; t < THREADS; t++) {
		for (int i = 0; i < PER_THREAD; i++) {
			nonce_of(t, i, nonce);
			refused += ss_nonce_cache_add(c, 42, nonce, NOW + 2, NOW + 2) == SS_UNAUTHENTICATED;
			other_ok += ss_nonce_cache_add(c, 43, nonce, NOW + 2, NOW + 2) == SS_OK;
		}
	}
	CHECK(refused == THREADS * PER_THREAD);
	CHECK(other_ok == THREADS * PER_THREAD);
	ss_nonce_cache_free(c);
}

static void test_client_id_and_accept(void)
{
	struct ss_signed_request req = {.id_header = "X-Terminal-Id",
	                                .timestamp = TS,
	                                .nonce = KA_NONCE,
	                                .signature = KA_SIG,
	                                .method = KA_METHOD,
	                                .path = KA_PATH,
	                                .body = KA_BODY,
	                                .body_len = strlen(KA_BODY)};
	int64_t id = -1;
	static const char *const bad_ids[] = {NULL, "", "0", "-1", "12a", "1234567890123456789", " 7"};
	for (size_t i = 0; i < sizeof(bad_ids) / sizeof(bad_ids[0]); i++) {
		req.id = bad_ids[i];
		CHECK(ss_sign_client_id(&req, &id) == SS_UNAUTHENTICATED);
		CHECK(ss_err_field() && !strcmp(ss_err_field(), "X-Terminal-Id"));
	}
	req.id = "123456789012345678";
	CHECK(ss_sign_client_id(&req, &id) == SS_OK && id == INT64_C(123456789012345678));

	struct ss_nonce_cache *c = ss_nonce_cache_new(64);
	struct ss_nonce_row n7 = {0}, n8 = {0}, n9 = {0};
	CHECK(ss_sign_accept(c, 7, key, &req, NOW, &n7) == SS_OK && n7.ts == NOW);
	CHECK(ss_sign_accept(c, 7, key, &req, NOW, NULL) == SS_UNAUTHENTICATED); /* the same nonce again */
	CHECK(ss_sign_accept(c, 8, key, &req, NOW, &n8) == SS_OK); /* another client's nonces are its own */
	CHECK(n8.ts == NOW && n8.key != n7.key);
	uint8_t other[32] = {1};
	CHECK(ss_sign_accept(c, 9, other, &req, NOW, &n9) ==
	      SS_UNAUTHENTICATED); /* wrong key: the nonce is not taken */
	CHECK(n9.ts == 0);
	CHECK(ss_sign_accept(NULL, 9, key, &req, NOW, &n9) == SS_OK && n9.ts == NOW);
	CHECK(ss_sign_accept(c, 9, key, &req, NOW + SS_SIGN_WINDOW + 1, NULL) == SS_UNAUTHENTICATED); /* stale */
	ss_nonce_cache_free(c);
}

static enum ss_err count_nonce(void *ctx, const struct ss_nonce_row *row)
{
	(*(int *)ctx)++;
	return SS_OK;
}

/* Nonces kept in the store: the unique key, loading into a new cache (a restart), purging. */
static void test_kept_nonces(void)
{
	char dir[] = "/tmp/suishen-sign-XXXXXX", cmd[64];
	struct ss_store *s = NULL;
	CHECK(mkdtemp(dir) && ss_store_open("sqlite", dir, true, &s) == SS_OK);
	struct ss_signed_request req = {.nonce = KA_NONCE,
	                                .timestamp = TS,
	                                .signature = KA_SIG,
	                                .method = KA_METHOD,
	                                .path = KA_PATH,
	                                .body = KA_BODY,
	                                .body_len = strlen(KA_BODY)};
	struct ss_nonce_cache *c = ss_nonce_cache_new(64);
	struct ss_nonce_row n = {0};
	CHECK(ss_sign_accept(c, 7, key, &req, NOW, &n) == SS_OK);
	CHECK(s->ops->nonce_put(s, &n) == SS_OK);
	CHECK(s->ops->nonce_put(s, &n) == SS_CONFLICT); /* the key another node would meet */
	ss_nonce_cache_free(c);

	/* after a restart: what was kept is refused, anything else accepted */
	c = ss_nonce_cache_new(64);
	CHECK(ss_nonce_cache_load(c, s, NOW + 10) == SS_OK);
	CHECK(ss_sign_accept(c, 7, key, &req, NOW + 10, NULL) == SS_UNAUTHENTICATED);
	CHECK(ss_sign_accept(c, 8, key, &req, NOW + 10, NULL) == SS_OK);
	ss_nonce_cache_free(c);
	/* one loaded when it is no longer live is not loaded */
	c = ss_nonce_cache_new(64);
	CHECK(ss_nonce_cache_load(c, s, NOW + 2 * SS_SIGN_WINDOW) == SS_OK);
	CHECK(ss_nonce_cache_add(c, 7, KA_NONCE, NOW + 1, NOW + 1) == SS_OK);
	ss_nonce_cache_free(c);

	/* purged once dead, not before */
	int kept = 0;
	CHECK(ss_nonce_purge(s, NOW + 2 * SS_SIGN_WINDOW - 1) == SS_OK);
	CHECK(s->ops->nonces_after(s, 0, count_nonce, &kept) == SS_OK && kept == 1);
	kept = 0;
	CHECK(ss_nonce_purge(s, NOW + 2 * SS_SIGN_WINDOW) == SS_OK);
	CHECK(s->ops->nonces_after(s, 0, count_nonce, &kept) == SS_OK && kept == 0);
	ss_store_close(s);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	CHECK(system(cmd) == 0);
}

int main(void)
{
	if (ss_crypto_init() != SS_OK) {
		printf("Bail out! %s\n", ss_err_message());
		return 1;
	}
	for (int i = 0; i < 32; i++)
		key[i] = (uint8_t)i;
	RUN(test_known_answer);
	RUN(test_single_changes);
	RUN(test_window);
	RUN(test_malformed);
	RUN(test_capacity);
	RUN(test_replay);
	RUN(test_expiry);
	RUN(test_busy);
	RUN(test_dead_in_chains);
	RUN(test_threads);
	RUN(test_client_id_and_accept);
	RUN(test_kept_nonces);
	return check_done();
}
