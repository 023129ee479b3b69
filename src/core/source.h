/*
 * source: data sources as callers of the API: their clients, the batches of
 * records they post, and residents' own declarations (source `self`).
 *
 * A source client is a system of one data source (a lab's LIS, an airline, a
 * province's platform). Staff (role admin) create it for that source; its
 * secret (32 random bytes, shown once as 64 hex characters) is stored sealed,
 * as a terminal's is. Its requests are signed exactly as terminals' are
 * (sign.h), with the header X-Client-Id instead of X-Terminal-Id; its nonces
 * share the app's nonce cache under a client number that no terminal id can
 * take (client id | SS_SOURCE_NONCE_BIT). A client may post only records of
 * its own source. Clients are read from the store on each request (batches
 * are few and large, so no cache is kept).
 *
 * A batch is all or nothing: every record is checked first
 * (ss_record_from_json), each bad one reported with its index; only if none
 * is bad are they kept, in one transaction. A record whose record_id is kept
 * already (from any source, or earlier in the same batch) counts once: it is
 * a duplicate, not an error.
 *
 * A declaration (GB/T 38963's health and trip declarations) becomes a `self`
 * record about the resident who made it, with a generated record_id
 * ("self:" and 32 random hex digits) and occurred_at now.
 *
 * Thread-safe.
 */
#ifndef SS_CORE_SOURCE_H
#define SS_CORE_SOURCE_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "core/app.h"
#include "core/records.h"
#include "core/terminal.h"
#include "json/json.h"

#define SS_SOURCE_NAME_MAX    128
#define SS_SOURCE_BATCH_MAX   10000               /* records in one batch */
#define SS_SOURCE_BODY_MAX    (16u << 20)         /* bytes of one batch's body */
#define SS_SOURCE_NONCE_BIT   (UINT64_C(1) << 62) /* marks a client's nonces apart from terminals' */
#define SS_DECLARATION_ID_MAX 40                  /* "self:" + 32 hex digits */

struct ss_source_client {
	int64_t client_id;
	char source[SS_SOURCE_MAX + 1];
	uint8_t key[32];
	struct ss_nonce_row nonce; /* of the request ss_source_client_authenticate() accepted */
};

/*
 * Creates a client of source (which must be valid: else SS_INVALID with field
 * "source"), named name (NULL or 1..SS_SOURCE_NAME_MAX bytes of text) for
 * staff_id. The secret is written as 64 lowercase hex characters and is not
 * kept in clear.
 */
enum ss_err ss_source_client_create(struct ss_app *app, const char *source, const char *name, int64_t staff_id,
                                    int64_t *client_id, char secret[65]) SS_MUST;

/*
 * Authenticates a signed request of a client (req->id holds the
 * X-Client-Id header): SS_UNAUTHENTICATED with the reason, as for terminals;
 * on success the client (whose key the caller must wipe when done).
 */
enum ss_err ss_source_client_authenticate(struct ss_app *app, const struct ss_signed_request *req,
                                          struct ss_source_client *out) SS_MUST;

/*
 * The half of ss_source_client_authenticate() that needs no body, for a
 * request whose body has not been read: the client exists and is enabled,
 * and the headers' forms and timestamp window hold (ss_sign_check_headers).
 * On success the client, whose key the caller wipes when done.
 */
enum ss_err ss_source_client_identify(struct ss_app *app, const struct ss_signed_request *req,
                                      struct ss_source_client *out) SS_MUST;

/* The other half, once the body is in: the signature, and the nonce not seen before (kept in c->nonce), for c. */
enum ss_err ss_source_client_verify(struct ss_app *app, const struct ss_signed_request *req,
                                    struct ss_source_client *c) SS_MUST;

/* Called for each bad record of a batch: its index, the field at fault (or NULL) and the reason. */
typedef void (*ss_source_bad_fn)(void *ctx, size_t index, const char *field, const char *message);

/*
 * Checks and keeps the records (a JSON array of record objects) from source
 * as of now, all or nothing. Every bad record goes to bad (if not NULL); if
 * there is any, nothing is kept and the result is SS_INVALID with *nbad set.
 * Otherwise *accepted is the number kept and *duplicates the number ignored
 * because their record_id was kept already; nonce (if not NULL: the signed
 * request's, sign.h) is kept in the same transaction. An empty array or one
 * of more than SS_SOURCE_BATCH_MAX elements is SS_INVALID with field "records".
 */
enum ss_err ss_source_batch_put(struct ss_app *app, const char *source, const struct ss_json *records, int64_t now,
                                const struct ss_nonce_row *nonce, ss_source_bad_fn bad, void *ctx, size_t *nbad,
                                size_t *accepted, size_t *duplicates) SS_MUST;

/*
 * Keeps the declaration body ({"kind":"health","temperature","symptoms"?} or
 * {"kind":"trip","places"}) of the resident with ID number id_number as a
 * `self` record made now; record_id gets its generated id. Bad input is
 * SS_INVALID naming the member ("kind", "temperature", "symptoms", "places").
 */
enum ss_err ss_source_declare(struct ss_app *app, const char *id_number, const struct ss_json *body, int64_t now,
                              char record_id[SS_DECLARATION_ID_MAX + 1]) SS_MUST;

#endif
