/*
 * sign: signed requests from terminals (and later data sources), as api.md
 * says: headers X-Terminal-Id, X-Timestamp (unix seconds), X-Nonce (16-64
 * characters), X-Signature = lowercase hex of HMAC-SM3(key = the 32 bytes the
 * client's secret hex encodes, message = METHOD "\n" PATH "\n" timestamp "\n"
 * nonce "\n" hex(SM3(body))).
 *
 * A timestamp more than SS_SIGN_WINDOW seconds off, a nonce seen before from
 * the same client within the window, or a wrong signature: SS_UNAUTHENTICATED.
 * The nonce cache holds what it must (every nonce of the last 2 windows) in a
 * fixed amount of memory given at creation; when it is full of live nonces it
 * refuses new requests with SS_BUSY rather than forget one. Thread-safe
 * (sharded locks).
 *
 * So that a request counts once also across a restart or a crash, the nonce
 * of a request whose effect is kept is kept with it, in the same transaction
 * (store.h, struct ss_nonce_row: a scan's with its scan row, a batch of
 * records' with the records), and the cache is filled from the store at start
 * (ss_nonce_cache_load). A nonce is durable exactly when what its request did
 * is: a request that kept nothing (refused, or a read) has its nonce in memory
 * only, and a replay of it after a restart does again what it did, nothing.
 *
 * The forms accepted (a request in any other form is SS_UNAUTHENTICATED, with
 * the header's name as the error's field):
 *   X-Timestamp  1 to 19 ASCII digits, nothing else (no sign, no spaces);
 *                leading zeros are allowed, and the text as sent is what is
 *                signed.
 *   X-Nonce      SS_NONCE_MIN to SS_NONCE_MAX bytes, each a visible ASCII
 *                character (0x21 '!' to 0x7E '~': no space, no control, no
 *                byte above 0x7F), so hex, base64 and base64url nonces all
 *                fit, and the message's "\n" separators cannot be forged.
 *   X-Signature  exactly 64 hex digits, either case.
 */
#ifndef SS_CORE_SIGN_H
#define SS_CORE_SIGN_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "store/store.h"

#define SS_SIGN_WINDOW 300
#define SS_NONCE_MIN   16
#define SS_NONCE_MAX   64

/*
 * The signature (64 lowercase hex characters and a NUL) of a request. body
 * may be NULL when body_len is 0. The other strings must not be NULL.
 */
void ss_sign_compute(const uint8_t key[32], const char *method, const char *path, const char *timestamp,
                     const char *nonce, const void *body, size_t body_len, char out[65]);

/*
 * Checks the form of timestamp, nonce and signature (see above), the
 * timestamp against now (at most SS_SIGN_WINDOW seconds off either way), and
 * the signature (in constant time). Does not look at the nonce cache. On
 * success *ts is the timestamp. A NULL timestamp, nonce or signature is a
 * missing header ("missing X-Nonce"); key, method and path must not be NULL.
 * Every refusal is SS_UNAUTHENTICATED with a message naming what failed and
 * never repeating the header's value.
 */
enum ss_err ss_sign_verify(const uint8_t key[32], const char *method, const char *path, const char *timestamp,
                           const char *nonce, const char *signature, const void *body, size_t body_len, int64_t now,
                           int64_t *ts) SS_MUST;

/*
 * What ss_sign_verify() checks before it looks at the signature: the forms of
 * timestamp, nonce and signature and the timestamp window, with the same
 * refusals. For a request whose body has not been read yet.
 */
enum ss_err ss_sign_check_headers(const char *timestamp, const char *nonce, const char *signature, int64_t now) SS_MUST;

/*
 * The nonce cache: 16 shards, each with its own lock and an open-addressing
 * table of 16-byte entries {the first 8 bytes of SM3(client as 8 big-endian
 * bytes || nonce), timestamp}. An entry is live while its timestamp is later
 * than now - 2 * SS_SIGN_WINDOW; a dead entry's slot is reused. A new entry
 * goes into the first dead slot among the at most 64 that its key probes; if
 * all of them are live, the add fails with SS_BUSY. So size the cache at
 * about twice the most nonces that 2 windows can bring (requests per second
 * times 1200); a fuller table refuses some requests sooner.
 *
 * Two different (client, nonce) pairs whose keys agree in all 64 bits are
 * taken for a replay; with n live entries the chance of any such refusal is
 * about n / 2^64 per request, which we accept.
 */
struct ss_nonce_cache;

/*
 * A cache of at most capacity nonces, rounded up to a power of two and to at
 * least 16 (one slot per shard). Memory: 16 bytes per slot, plus the shards.
 * capacity must be at most 2^32 (64 GiB of slots).
 */
struct ss_nonce_cache *ss_nonce_cache_new(size_t capacity);

/* NULL is a no-op. No other thread may be using c. */
void ss_nonce_cache_free(struct ss_nonce_cache *c);

/* The number of slots c has (capacity as rounded at creation). */
size_t ss_nonce_cache_capacity(const struct ss_nonce_cache *c);

/*
 * Records that client used nonce at timestamp ts (already checked to be within
 * the window of now). SS_OK if it is new; SS_UNAUTHENTICATED ("nonce already
 * used") if the same client used it within the window; SS_BUSY ("too many
 * requests in flight") if the cache is full of live entries where it would go.
 * Only an SS_OK add records anything. nonce must not be NULL.
 */
enum ss_err ss_nonce_cache_add(struct ss_nonce_cache *c, uint64_t client, const char *nonce, int64_t ts,
                               int64_t now) SS_MUST;

/*
 * Puts into c every nonce that the store s keeps and that is live at now (the
 * last 2 windows): what a starting server does before it accepts requests.
 * SS_BUSY if they do not fit.
 */
enum ss_err ss_nonce_cache_load(struct ss_nonce_cache *c, struct ss_store *s, int64_t now) SS_MUST;

/* Removes from the store s the nonces that are dead at now (as the cache's entries die). */
enum ss_err ss_nonce_purge(struct ss_store *s, int64_t now) SS_MUST;

/*
 * A signed request as the router hands it over. id is the client's id header
 * (X-Terminal-Id for terminals, X-Client-Id for data-source clients) and
 * id_header its name, for the error's field; the headers are NULL when absent.
 */
struct ss_signed_request {
	const char *id_header, *id, *timestamp, *nonce, *signature;
	const char *method, *path;
	const void *body;
	size_t body_len;
};

/* The client id of req: 1 to 18 digits, above 0; else SS_UNAUTHENTICATED naming id_header. */
enum ss_err ss_sign_client_id(const struct ss_signed_request *req, int64_t *id) SS_MUST;

/*
 * Accepts req from the client whose key is key: checks it with
 * ss_sign_verify() at now and records its nonce in cache (if any) under
 * client, refusing a replay. On success *nonce (if not NULL) is the nonce to
 * keep with what the request does (see above). What terminals and data-source
 * clients share.
 */
enum ss_err ss_sign_accept(struct ss_nonce_cache *cache, uint64_t client, const uint8_t key[32],
                           const struct ss_signed_request *req, int64_t now, struct ss_nonce_row *nonce) SS_MUST;

#endif
