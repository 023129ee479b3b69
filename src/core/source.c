/* source: source clients, batches of records, residents' declarations (see source.h). */
#include "core/source.h"

#include "core/assign.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/str.h"
#include "base/time.h"
#include "core/pii.h"
#include "core/sign.h"
#include "crypto/crypto.h"

#define AD_CLIENT   "source_client"
#define DECL_MAX    (64 * 1024) /* bytes of a declaration written as a record */
#define ATTR_PREFIX "attributes."

enum ss_err ss_source_client_create(struct ss_app *app, const char *source, const char *name, int64_t staff_id,
                                    int64_t *client_id, char secret[65])
{
	enum ss_err err;
	char clean[SS_SOURCE_NAME_MAX + 1] = "";
	if ((err = ss_source_check(source)) ||
	    (name && (err = ss_str_check_name(name, strlen(name), SS_SOURCE_NAME_MAX, "name", clean))))
		return err;

	uint8_t raw[32];
	struct ss_arena a;
	if ((err = ss_random(raw, sizeof(raw))))
		return err;
	ss_hex_encode(raw, sizeof(raw), secret);
	ss_arena_init(&a);
	const char *fields[] = {secret};
	struct ss_source_client_row row = {
	        .source = source, .name = clean, .created_by = staff_id, .created_at = ss_time_now()};
	if ((err = ss_pii_seal(app, AD_CLIENT, fields, 1, &a, &row.secret_sealed)) ||
	    (err = app->store->ops->client_insert(app->store, &row, client_id)))
		goto out;
	ss_log_info("source_client_created", "client_id=%lld source=%s", (long long)*client_id, source);
out:
	ss_wipe(raw, sizeof(raw));
	ss_arena_release_secret(&a);
	return err;
}

/* The client with id, from the store. */
static enum ss_err lookup(struct ss_app *app, int64_t id, struct ss_source_client *out)
{
	struct ss_arena a;
	struct ss_source_client_row row;
	const char *fields[1];
	ss_arena_init(&a);
	enum ss_err err = app->store->ops->client_get(app->store, id, &a, &row);
	if (err == SS_NOT_FOUND || (!err && row.disabled))
		err = ss_fail(SS_UNAUTHENTICATED, "X-Client-Id", "unknown client");
	if (!err)
		err = ss_pii_open(app, AD_CLIENT, row.secret_sealed, &a, fields, 1);
	if (!err) {
		out->client_id = id;
		if (!ss_source_is_valid(row.source) || strlen(row.source) > SS_SOURCE_MAX ||
		    !ss_hex_decode(fields[0], strlen(fields[0]), out->key, sizeof(out->key)))
			err = ss_fail(SS_INTERNAL, NULL, "source client %lld is malformed", (long long)id);
		else
			snprintf(out->source, sizeof(out->source), "%s", row.source);
	}
	ss_arena_release_secret(&a);
	return err;
}

enum ss_err ss_source_client_identify(struct ss_app *app, const struct ss_signed_request *req,
                                      struct ss_source_client *out)
{
	int64_t cid;
	enum ss_err err;
	if ((err = ss_sign_client_id(req, &cid)) || (err = lookup(app, cid, out)))
		return err;
	if ((err = ss_sign_check_headers(req->timestamp, req->nonce, req->signature, ss_time_now())))
		ss_wipe(out->key, sizeof(out->key));
	return err;
}

enum ss_err ss_source_client_verify(struct ss_app *app, const struct ss_signed_request *req, struct ss_source_client *c)
{
	return ss_sign_accept(app->nonces, (uint64_t)c->client_id | SS_SOURCE_NONCE_BIT, c->key, req, ss_time_now(),
	                      &c->nonce);
}

enum ss_err ss_source_client_authenticate(struct ss_app *app, const struct ss_signed_request *req,
                                          struct ss_source_client *out)
{
	enum ss_err err = ss_source_client_identify(app, req, out);
	if (!err && (err = ss_source_client_verify(app, req, out)))
		ss_wipe(out->key, sizeof(out->key));
	return err;
}

/*
 * New evidence re-evaluates its people at once, so the next scan sees their
 * colour. A failure here leaves the records stored (the next evaluation of
 * the person picks them up) and is logged, not answered.
 */
static void reassess(struct ss_app *app, const struct ss_record *recs, size_t n, int64_t now)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t idx[SS_INDEX_LEN];
		bool changed = false;
		if (i > 0 && !strcmp(recs[i].id.number, recs[i - 1].id.number))
			continue; /* a batch about one person, in a row */
		ss_pii_index(app, recs[i].id.number, idx);
		if (ss_assign_by_index(app, idx, now, &changed) != SS_OK)
			ss_log_warn("reassess_failed", "msg=\"%s\"", ss_err_message());
	}
}

enum ss_err ss_source_batch_put(struct ss_app *app, const char *source, const struct ss_json *records, int64_t now,
                                const struct ss_nonce_row *nonce, ss_source_bad_fn bad, void *ctx, size_t *nbad,
                                size_t *accepted, size_t *duplicates)
{
	enum ss_err err;
	size_t n = records ? ss_json_arr_len(records) : 0;

	*nbad = *accepted = *duplicates = 0;
	if ((err = ss_source_check(source)))
		return err;
	if (n == 0 || n > SS_SOURCE_BATCH_MAX)
		return ss_fail(SS_INVALID, "records", "records must hold 1 to %d records", SS_SOURCE_BATCH_MAX);

	struct ss_record *recs = ss_calloc(n, sizeof(*recs));
	struct ss_arena a;
	ss_arena_init(&a);
	for (size_t i = 0; i < n; i++) {
		if (ss_record_from_json(ss_json_arr_at(records, i), source, now, &recs[i], &a)) {
			(*nbad)++;
			if (bad)
				bad(ctx, i, ss_err_field(), ss_err_message());
		}
	}
	if (*nbad) {
		err = ss_fail(SS_INVALID, "records", "%zu bad record%s: nothing was stored", *nbad,
		              *nbad == 1 ? "" : "s");
		goto out;
	}
	if ((err = app->store->ops->begin(app->store)))
		goto out;
	/* the request counts once, also after a restart, exactly when its records are kept (core/sign.h) */
	if (nonce && nonce->ts && (err = app->store->ops->nonce_put(app->store, nonce)) == SS_CONFLICT)
		err = ss_fail(SS_UNAUTHENTICATED, "X-Nonce", "nonce already used"); /* kept by another process */
	for (size_t i = 0; !err && i < n; i++) {
		err = ss_record_put(app, &recs[i], now);
		if (err == SS_CONFLICT) {
			(*duplicates)++;
			err = SS_OK;
		} else if (!err) {
			(*accepted)++;
		}
	}
	if (err) {
		app->store->ops->rollback(app->store);
		*accepted = *duplicates = 0;
	} else if ((err = app->store->ops->commit(app->store))) {
		*accepted = *duplicates = 0;
	} else {
		ss_log_info("source_batch", "source=%s accepted=%zu duplicates=%zu", source, *accepted, *duplicates);
		reassess(app, recs, n, now);
	}
out:
	ss_arena_release(&a);
	free(recs);
	return err;
}

/* Re-states a record check's failure about "attributes.x" as one about the declaration's member "x". */
static enum ss_err as_member(enum ss_err err)
{
	const char *f = ss_err_field();
	const char *m = ss_err_message();
	size_t p = strlen(ATTR_PREFIX);
	if (err != SS_INVALID || !f || strncmp(f, ATTR_PREFIX, p) != 0)
		return err;
	char field[64], msg[512];
	snprintf(field, sizeof(field), "%s", f + p);
	snprintf(msg, sizeof(msg), "%s", strncmp(m, ATTR_PREFIX, p) == 0 ? m + p : m);
	return ss_fail(err, field, "%s", msg);
}

/* Writes the array member key of body (absent: an empty array) as raw JSON into w. */
static enum ss_err copy_arr(struct ss_jw *w, const struct ss_json *body, const char *key, bool required, size_t max)
{
	const struct ss_json *arr;
	enum ss_err err = ss_json_get_arr(body, key, required, max, &arr);
	if (err)
		return err;
	ss_jw_key(w, key);
	if (!arr) {
		ss_jw_arr_begin(w);
		ss_jw_arr_end(w);
		return SS_OK;
	}
	struct ss_buf b;
	ss_buf_init(&b, DECL_MAX);
	if (!(err = ss_json_dump(arr, &b)))
		ss_jw_raw(w, ss_buf_str(&b), strlen(ss_buf_str(&b)));
	ss_buf_release(&b);
	return err;
}

enum ss_err ss_source_declare(struct ss_app *app, const char *id_number, const struct ss_json *body, int64_t now,
                              char record_id[SS_DECLARATION_ID_MAX + 1])
{
	const char *kind;
	double temperature = 0;
	uint8_t raw[16];
	enum ss_err err;

	if ((err = ss_json_get_str(body, "kind", true, 16, &kind)))
		return err;
	bool health = !strcmp(kind, "health");
	if (!health && strcmp(kind, "trip") != 0)
		return ss_fail(SS_INVALID, "kind", "kind must be health or trip");
	if (health && (err = ss_json_get_num(body, "temperature", true, 30, 45, &temperature, NULL)))
		return err;
	if ((err = ss_random(raw, sizeof(raw))))
		return err;
	memcpy(record_id, "self:", 5);
	ss_hex_encode(raw, sizeof(raw), record_id + 5);

	struct ss_buf b;
	struct ss_jw w;
	struct ss_record r;
	struct ss_arena a;
	ss_buf_init(&b, DECL_MAX);
	ss_arena_init(&a);
	ss_jw_init(&w, &b);
	ss_jw_obj_begin(&w);
	if (health) {
		ss_jw_key(&w, "temperature");
		ss_jw_num(&w, temperature);
		err = copy_arr(&w, body, "symptoms", false, SS_RECORD_SYMPTOMS_MAX);
	} else {
		err = copy_arr(&w, body, "places", true, SS_RECORD_PLACES_MAX);
	}
	ss_jw_obj_end(&w);
	if (err || (err = ss_jw_finish(&w)))
		goto out;
	if ((err = ss_record_build(record_id, "self",
	                           health ? SS_RECORD_HEALTH_DECLARATION : SS_RECORD_TRIP_DECLARATION, id_number, now,
	                           ss_buf_str(&b), now, &r, &a))) {
		err = as_member(err);
		goto out;
	}
	err = ss_record_put(app, &r, now);
	if (err == SS_CONFLICT) /* 128 random bits met again: not to be expected; say so rather than lose it */
		err = ss_fail(SS_BUSY, NULL, "the declaration could not be kept; try again");
	if (!err) {
		ss_log_info("declaration", "kind=%s", kind);
		reassess(app, &r, 1, now);
	}
out:
	ss_arena_release(&a);
	ss_buf_release(&b);
	return err;
}
