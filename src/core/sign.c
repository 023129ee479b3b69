/* sign: signatures of terminal requests and the nonce cache that refuses replays (see sign.h). */
#include "core/sign.h"

#include <assert.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "base/str.h"
#include "crypto/crypto.h"

#define TS_MAX_DIGITS 19 /* INT64_MAX has 19 digits */
#define SIG_HEX       (2 * SS_SM3_LEN)
#define SHARDS        16 /* a power of two */
#define PROBE_MAX     64 /* slots an add looks at before it gives up with SS_BUSY */
#define CAPACITY_MAX  ((size_t)1 << 32)
#define NEVER_USED    INT64_MIN /* the ts of a slot no entry has ever held: dead, and ends every probe */

/* The raw HMAC-SM3 of the request's message under key. */
static void sign_raw(const uint8_t key[32], const char *method, const char *path, const char *timestamp,
                     const char *nonce, const void *body, size_t body_len, uint8_t out[SS_SM3_LEN])
{
	uint8_t digest[SS_SM3_LEN];
	char body_hex[SIG_HEX + 1];

	ss_sm3(body ? body : "", body_len, digest);
	ss_hex_encode(digest, sizeof(digest), body_hex);
	const struct ss_iov parts[] = {
	        {method, strlen(method)},
	        {"\n", 1},
	        {path, strlen(path)},
	        {"\n", 1},
	        {timestamp, strlen(timestamp)},
	        {"\n", 1},
	        {nonce, strlen(nonce)},
	        {"\n", 1},
	        {body_hex, SIG_HEX},
	};
	ss_hmac_sm3_v(key, 32, parts, sizeof(parts) / sizeof(parts[0]), out);
}

void ss_sign_compute(const uint8_t key[32], const char *method, const char *path, const char *timestamp,
                     const char *nonce, const void *body, size_t body_len, char out[65])
{
	uint8_t mac[SS_SM3_LEN];

	assert(key && method && path && timestamp && nonce && out && (body || body_len == 0));
	sign_raw(key, method, path, timestamp, nonce, body, body_len, mac);
	ss_hex_encode(mac, sizeof(mac), out);
}

/* Parses 1 to 19 ASCII digits; *overflow says the value passes INT64_MAX. */
static bool parse_timestamp(const char *s, int64_t *out, bool *overflow)
{
	size_t n = strnlen(s, TS_MAX_DIGITS + 1);
	uint64_t v = 0;

	if (n > TS_MAX_DIGITS || !ss_str_is_digits(s, n))
		return false;
	for (size_t i = 0; i < n; i++)
		v = v * 10 + (uint64_t)(s[i] - '0'); /* 19 digits stay below 2^64 */
	*overflow = v > (uint64_t)INT64_MAX;
	*out = *overflow ? INT64_MAX : (int64_t)v;
	return true;
}

/* True if a and b are at most window apart, without overflow for any int64 pair. */
static bool within(int64_t a, int64_t b, uint64_t window)
{
	uint64_t d = a > b ? (uint64_t)a - (uint64_t)b : (uint64_t)b - (uint64_t)a;
	return d <= window;
}

static bool nonce_is_well_formed(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < 0x21 || s[i] > 0x7e)
			return false;
	return true;
}

/* The header checks: forms and the window; the signature's bytes into got. */
static enum ss_err check_headers(const char *timestamp, const char *nonce, const char *signature, int64_t now,
                                 int64_t *ts, uint8_t got[SS_SM3_LEN])
{
	bool overflow;
	if (!timestamp)
		return ss_fail(SS_UNAUTHENTICATED, "X-Timestamp", "missing X-Timestamp");
	if (!nonce)
		return ss_fail(SS_UNAUTHENTICATED, "X-Nonce", "missing X-Nonce");
	if (!signature)
		return ss_fail(SS_UNAUTHENTICATED, "X-Signature", "missing X-Signature");
	if (!parse_timestamp(timestamp, ts, &overflow))
		return ss_fail(SS_UNAUTHENTICATED, "X-Timestamp", "timestamp must be unix seconds: 1 to %d digits",
		               TS_MAX_DIGITS);
	size_t nonce_len = strnlen(nonce, SS_NONCE_MAX + 1);
	if (nonce_len < SS_NONCE_MIN || nonce_len > SS_NONCE_MAX)
		return ss_fail(SS_UNAUTHENTICATED, "X-Nonce", "nonce must be %d to %d characters", SS_NONCE_MIN,
		               SS_NONCE_MAX);
	if (!nonce_is_well_formed(nonce, nonce_len))
		return ss_fail(SS_UNAUTHENTICATED, "X-Nonce", "nonce must be visible ascii characters, without spaces");
	size_t sig_len = strnlen(signature, SIG_HEX + 1);
	if (!ss_hex_decode(signature, sig_len, got, SS_SM3_LEN))
		return ss_fail(SS_UNAUTHENTICATED, "X-Signature", "signature must be %d hex digits", SIG_HEX);
	if (overflow || !within(*ts, now, SS_SIGN_WINDOW))
		return ss_fail(SS_UNAUTHENTICATED, "X-Timestamp", "timestamp is more than %d s off", SS_SIGN_WINDOW);
	return SS_OK;
}

enum ss_err ss_sign_check_headers(const char *timestamp, const char *nonce, const char *signature, int64_t now)
{
	uint8_t got[SS_SM3_LEN];
	int64_t ts;
	return check_headers(timestamp, nonce, signature, now, &ts, got);
}

enum ss_err ss_sign_verify(const uint8_t key[32], const char *method, const char *path, const char *timestamp,
                           const char *nonce, const char *signature, const void *body, size_t body_len, int64_t now,
                           int64_t *ts)
{
	uint8_t got[SS_SM3_LEN], want[SS_SM3_LEN];
	int64_t t;

	assert(key && method && path && ts && (body || body_len == 0));
	enum ss_err err = check_headers(timestamp, nonce, signature, now, &t, got);
	if (err)
		return err;
	sign_raw(key, method, path, timestamp, nonce, body, body_len, want);
	if (!ss_ct_equal(got, want, sizeof(got)))
		return ss_fail(SS_UNAUTHENTICATED, "X-Signature", "signature does not match");
	*ts = t;
	return SS_OK;
}

/* One entry of the cache: 16 bytes. */
struct slot {
	uint64_t key;
	int64_t ts;
};
_Static_assert(sizeof(struct slot) == 16, "sign.h promises 16 bytes a slot");

struct shard {
	pthread_mutex_t lock;
	struct slot *slots; /* mask + 1 of them, a slice of the cache's one array */
	size_t mask;
	char pad[64]; /* keeps the hot fields of neighbouring shards off each other's cache line */
};

struct ss_nonce_cache {
	struct shard shards[SHARDS];
	struct slot *slots;
	size_t capacity;
};

struct ss_nonce_cache *ss_nonce_cache_new(size_t capacity)
{
	size_t cap = SHARDS;

	assert(capacity <= CAPACITY_MAX);
	while (cap < capacity)
		cap <<= 1;
	struct ss_nonce_cache *c = ss_calloc(1, sizeof(*c));
	c->capacity = cap;
	c->slots = ss_malloc(cap * sizeof(struct slot));
	for (size_t i = 0; i < cap; i++)
		c->slots[i] = (struct slot){.key = 0, .ts = NEVER_USED};
	for (size_t i = 0; i < SHARDS; i++) {
		struct shard *s = &c->shards[i];
		int rc = pthread_mutex_init(&s->lock, NULL);
		assert(rc == 0); /* Linux never fails to initialise a default mutex */
		(void)rc;
		s->slots = c->slots + i * (cap / SHARDS);
		s->mask = cap / SHARDS - 1;
	}
	return c;
}

void ss_nonce_cache_free(struct ss_nonce_cache *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < SHARDS; i++)
		pthread_mutex_destroy(&c->shards[i].lock);
	free(c->slots);
	free(c);
}

size_t ss_nonce_cache_capacity(const struct ss_nonce_cache *c)
{
	return c->capacity;
}

/* The first 8 bytes of SM3(client as 8 big-endian bytes || nonce), big-endian. */
static uint64_t entry_key(uint64_t client, const char *nonce)
{
	uint8_t in[8 + SS_NONCE_MAX], digest[SS_SM3_LEN];
	size_t n = strlen(nonce);
	uint64_t k = 0;

	for (int i = 0; i < 8; i++)
		in[i] = (uint8_t)(client >> (56 - 8 * i));
	if (n <= SS_NONCE_MAX) {
		memcpy(in + 8, nonce, n);
		ss_sm3(in, 8 + n, digest);
	} else { /* not a nonce ss_sign_verify lets through; hash it all the same */
		uint8_t *big = ss_malloc(8 + n);
		memcpy(big, in, 8);
		memcpy(big + 8, nonce, n);
		ss_sm3(big, 8 + n, digest);
		free(big);
	}
	for (int i = 0; i < 8; i++)
		k = k << 8 | digest[i];
	return k;
}

/* The ts at or before which an entry is dead at now; saturated rather than overflowing for a now near INT64_MIN. */
static int64_t cutoff_at(int64_t now)
{
	return now < INT64_MIN + 2 * SS_SIGN_WINDOW ? INT64_MIN : now - 2 * SS_SIGN_WINDOW;
}

/* Records the entry key at ts, as ss_nonce_cache_add() does. */
static enum ss_err put(struct ss_nonce_cache *c, uint64_t key, int64_t ts, int64_t now)
{
	int64_t cutoff = cutoff_at(now); /* live means ts > cutoff */
	struct shard *s = &c->shards[key & (SHARDS - 1)];
	size_t start = (size_t)(key / SHARDS), probes = s->mask + 1 < PROBE_MAX ? s->mask + 1 : PROBE_MAX;
	struct slot *free_slot = NULL;
	enum ss_err err = SS_OK;

	pthread_mutex_lock(&s->lock);
	for (size_t i = 0; i < probes; i++) {
		struct slot *e = &s->slots[(start + i) & s->mask];
		/*
		 * A never-used slot ends the search: every entry is put in the first dead slot of its probe, so
		 * none can lie past a slot that has never been taken.
		 */
		if (e->ts == NEVER_USED) {
			if (!free_slot)
				free_slot = e;
			break;
		}
		if (e->ts <= cutoff) {
			if (!free_slot)
				free_slot = e;
		} else if (e->key == key) {
			err = ss_fail(SS_UNAUTHENTICATED, "X-Nonce", "nonce already used");
			goto out;
		}
	}
	if (!free_slot) {
		err = ss_fail(SS_BUSY, NULL, "too many requests in flight");
		goto out;
	}
	free_slot->key = key;
	/* NEVER_USED is reserved; a ts that low is long dead anyway */
	free_slot->ts = ts == NEVER_USED ? NEVER_USED + 1 : ts;
out:
	pthread_mutex_unlock(&s->lock);
	return err;
}

enum ss_err ss_nonce_cache_add(struct ss_nonce_cache *c, uint64_t client, const char *nonce, int64_t ts, int64_t now)
{
	assert(c && nonce);
	return put(c, entry_key(client, nonce), ts, now);
}

struct load_ctx {
	struct ss_nonce_cache *c;
	int64_t now;
	size_t n;
};

static enum ss_err load_one(void *ctx, const struct ss_nonce_row *row)
{
	struct load_ctx *lc = ctx;
	enum ss_err err = put(lc->c, row->key, row->ts, lc->now);
	if (err == SS_BUSY)
		return ss_fail(SS_BUSY, NULL, "the nonce cache cannot hold the %zu nonces kept so far", lc->n);
	lc->n++;
	return err == SS_UNAUTHENTICATED ? SS_OK : err; /* twice in the store cannot be, and would be harmless */
}

enum ss_err ss_nonce_cache_load(struct ss_nonce_cache *c, struct ss_store *s, int64_t now)
{
	struct load_ctx lc = {c, now, 0};
	return s->ops->nonces_after(s, cutoff_at(now), load_one, &lc);
}

enum ss_err ss_nonce_purge(struct ss_store *s, int64_t now)
{
	return s->ops->nonce_purge(s, cutoff_at(now));
}

enum ss_err ss_sign_client_id(const struct ss_signed_request *req, int64_t *id)
{
	const char *v = req->id;
	size_t n = v ? strlen(v) : 0;
	if (n == 0)
		return ss_fail(SS_UNAUTHENTICATED, req->id_header, "missing %s", req->id_header);
	if (n > 18 || !ss_str_is_digits(v, n) || (*id = strtoll(v, NULL, 10)) <= 0)
		return ss_fail(SS_UNAUTHENTICATED, req->id_header, "unknown client");
	return SS_OK;
}

enum ss_err ss_sign_accept(struct ss_nonce_cache *cache, uint64_t client, const uint8_t key[32],
                           const struct ss_signed_request *req, int64_t now, struct ss_nonce_row *nonce)
{
	int64_t ts;
	enum ss_err err = ss_sign_verify(key, req->method, req->path, req->timestamp, req->nonce, req->signature,
	                                 req->body, req->body_len, now, &ts);
	if (err)
		return err;
	uint64_t k = entry_key(client, req->nonce);
	if (cache && (err = put(cache, k, ts, now)))
		return err;
	if (nonce)
		*nonce = (struct ss_nonce_row){ts, k};
	return SS_OK;
}
