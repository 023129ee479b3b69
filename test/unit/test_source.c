/*
 * test_source: unit tests of core/source.c over a real SQLite store in a temporary directory: creating source
 * clients (valid sources only), authenticating their signed requests (the right key, a wrong one, a replayed nonce,
 * nonces kept apart from a terminal's with the same number), batches (all or nothing with every bad index reported,
 * duplicates within a batch and across batches, the size limits) and declarations (self records, fields named).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/str.h"
#include "base/time.h"
#include "check.h"
#include "core/app.h"
#include "core/records.h"
#include "core/sign.h"
#include "core/source.h"

static char dir[64];

static struct ss_app *open_app(void)
{
	struct ss_app *app = NULL;
	if (ss_app_open(dir, true, &app)) {
		printf("# open: %s\n", ss_err_message());
		return NULL;
	}
	return app;
}

/* A valid ID number (division 110105, born 1949-12-31, sequence seq). */
static const char *make_id(int seq, char out[19])
{
	snprintf(out, 19, "11010519491231%03d", seq % 1000);
	out[17] = ss_idcard_check_char(out);
	out[18] = '\0';
	return out;
}

static void test_client_create(void)
{
	struct ss_app *app = open_app();
	int64_t id = 0;
	char secret[65];
	CHECK(app != NULL);
	if (!app)
		return;
	CHECK(ss_source_client_create(app, "lab", "LIS", 1, &id, secret) == SS_OK);
	CHECK(id > 0 && strlen(secret) == 64);
	CHECK(ss_source_client_create(app, "province:32", NULL, 1, &id, secret) == SS_OK);
	ss_err_clear();
	CHECK(ss_source_client_create(app, "nowhere", NULL, 1, &id, secret) == SS_INVALID);
	CHECK_STR(ss_err_field(), "source");
	CHECK(ss_source_client_create(app, "lab", "", 1, &id, secret) == SS_INVALID);
	ss_app_close(app);
}

static enum ss_err auth(struct ss_app *app, const char *id, const uint8_t key[32], const char *nonce,
                        struct ss_source_client *out)
{
	char ts[24], sig[65];
	snprintf(ts, sizeof(ts), "%lld", (long long)ss_time_now());
	ss_sign_compute(key, "POST", "/v1/sources/lab/records", ts, nonce, "{}", 2, sig);
	struct ss_signed_request req = {.id_header = "X-Client-Id",
	                                .id = id,
	                                .timestamp = ts,
	                                .nonce = nonce,
	                                .signature = sig,
	                                .method = "POST",
	                                .path = "/v1/sources/lab/records",
	                                .body = "{}",
	                                .body_len = 2};
	return ss_source_client_authenticate(app, &req, out);
}

static void test_client_authenticate(void)
{
	struct ss_app *app = open_app();
	int64_t id = 0;
	char secret[65], idtext[24];
	uint8_t key[32], wrong[32] = {0};
	struct ss_source_client c;
	CHECK(app != NULL);
	if (!app)
		return;
	CHECK(ss_app_start(app, false) == SS_OK);
	CHECK(ss_source_client_create(app, "lab", NULL, 1, &id, secret) == SS_OK);
	CHECK(ss_hex_decode(secret, 64, key, sizeof(key)));
	snprintf(idtext, sizeof(idtext), "%lld", (long long)id);
	CHECK(auth(app, idtext, key, "nonce-0000000001", &c) == SS_OK);
	CHECK(c.client_id == id);
	CHECK_STR(c.source, "lab");
	CHECK(auth(app, idtext, key, "nonce-0000000001", &c) == SS_UNAUTHENTICATED); /* replayed */
	CHECK(auth(app, idtext, wrong, "nonce-0000000002", &c) == SS_UNAUTHENTICATED);
	CHECK(auth(app, "999999", key, "nonce-0000000003", &c) == SS_UNAUTHENTICATED);
	CHECK(auth(app, NULL, key, "nonce-0000000004", &c) == SS_UNAUTHENTICATED);
	CHECK(auth(app, "x1", key, "nonce-0000000005", &c) == SS_UNAUTHENTICATED);
	/* the same number as a terminal has used a nonce: the client's is still new */
	CHECK(ss_nonce_cache_add(app->nonces, (uint64_t)id, "nonce-0000000006", ss_time_now(), ss_time_now()) == SS_OK);
	CHECK(auth(app, idtext, key, "nonce-0000000006", &c) == SS_OK);
	ss_app_close(app);
}

struct bad {
	size_t n, index[8];
	char field[8][32];
};

static void on_bad(void *ctx, size_t index, const char *field, const char *message)
{
	struct bad *b = ctx;
	if (b->n < 8) {
		b->index[b->n] = index;
		snprintf(b->field[b->n], sizeof(b->field[0]), "%s", field ? field : "");
	}
	b->n++;
	(void)message;
}

/* A batch of n records r-<prefix>-<i> about different people; bad_at (or -1) gets an unknown kind. */
static struct ss_json *batch(const char *prefix, int n, int bad1, int bad2)
{
	size_t cap = (size_t)n * 160 + 32;
	char *text = malloc(cap), id[19];
	size_t len = (size_t)snprintf(text, cap, "{\"records\":[");
	for (int i = 0; i < n; i++)
		len += (size_t)snprintf(text + len, cap - len,
		                        "%s{\"record_id\":\"r-%s-%d\",\"kind\":\"%s\",\"id_number\":\"%s\","
		                        "\"occurred_at\":\"2026-03-01T08:00:00Z\"}",
		                        i ? "," : "", prefix, i, i == bad1 || i == bad2 ? "nothing" : "recovered",
		                        make_id(i, id));
	len += (size_t)snprintf(text + len, cap - len, "]}");
	struct ss_json *obj = NULL;
	if (ss_json_parse(text, len, &obj))
		obj = NULL;
	free(text);
	return obj;
}

/* Puts a batch as a signed request with nonce key nonce_key at ts 1000 would (0: none, as a command would). */
static enum ss_err put(struct ss_app *app, struct ss_json *obj, uint64_t nonce_key, struct bad *b, size_t *acc,
                       size_t *dup)
{
	const struct ss_json *arr = NULL;
	size_t nbad;
	memset(b, 0, sizeof(*b));
	if (!obj || ss_json_get_arr(obj, "records", true, 100000, &arr))
		return SS_INTERNAL;
	struct ss_nonce_row nonce = {nonce_key ? 1000 : 0, nonce_key};
	enum ss_err err = ss_source_batch_put(app, "lab", arr, ss_time_now(), &nonce, on_bad, b, &nbad, acc, dup);
	CHECK(nbad == b->n);
	return err;
}

static void test_batches(void)
{
	struct ss_app *app = open_app();
	struct bad b;
	size_t acc = 9, dup = 9;
	CHECK(app != NULL);
	if (!app)
		return;
	struct ss_json *bad = batch("a", 5, 1, 3), *good = batch("a", 5, -1, -1), *big = batch("b", 10001, -1, -1);
	CHECK(put(app, bad, 11, &b, &acc, &dup) == SS_INVALID);
	CHECK(b.n == 2 && b.index[0] == 1 && b.index[1] == 3);
	CHECK_STR(b.field[0], "kind");
	CHECK(acc == 0 && dup == 0);
	CHECK(put(app, good, 12, &b, &acc, &dup) == SS_OK); /* nothing of the bad batch was kept */
	CHECK(acc == 5 && dup == 0 && b.n == 0);
	CHECK(put(app, good, 0, &b, &acc, &dup) == SS_OK);
	CHECK(acc == 0 && dup == 5);
	/* the nonce of the kept batch is kept with it (the same transaction); the refused one's is not */
	struct ss_nonce_row kept = {1000, 12}, refused = {1000, 11};
	CHECK(app->store->ops->nonce_put(app->store, &kept) == SS_CONFLICT);
	CHECK(app->store->ops->nonce_put(app->store, &refused) == SS_OK);
	/* a nonce kept already (by another process, or node) refuses the batch, which keeps nothing */
	struct ss_json *other = batch("c", 2, -1, -1);
	CHECK(put(app, other, 11, &b, &acc, &dup) == SS_UNAUTHENTICATED && acc == 0 && dup == 0);
	CHECK(put(app, other, 0, &b, &acc, &dup) == SS_OK && acc == 2);
	ss_json_free(other);
	ss_err_clear();
	CHECK(put(app, big, 13, &b, &acc, &dup) == SS_INVALID);
	CHECK_STR(ss_err_field(), "records");
	ss_json_free(bad);
	ss_json_free(good);
	ss_json_free(big);
	ss_app_close(app);
}

static enum ss_err declare(struct ss_app *app, const char *json, char rid[SS_DECLARATION_ID_MAX + 1])
{
	struct ss_json *obj = NULL;
	char id[19];
	ss_err_clear();
	if (ss_json_parse(json, strlen(json), &obj))
		return SS_INTERNAL;
	enum ss_err err = ss_source_declare(app, make_id(7, id), obj, ss_time_now(), rid);
	ss_json_free(obj);
	return err;
}

static void test_declarations(void)
{
	struct ss_app *app = open_app();
	char r1[SS_DECLARATION_ID_MAX + 1], r2[SS_DECLARATION_ID_MAX + 1];
	CHECK(app != NULL);
	if (!app)
		return;
	CHECK(declare(app, "{\"kind\":\"health\",\"temperature\":36.8,\"symptoms\":[\"cough\"]}", r1) == SS_OK);
	CHECK(strncmp(r1, "self:", 5) == 0 && strlen(r1) == 37);
	CHECK(declare(app, "{\"kind\":\"trip\",\"places\":[\"310101\"]}", r2) == SS_OK);
	CHECK(strcmp(r1, r2) != 0);
	CHECK(declare(app, "{\"kind\":\"health\",\"temperature\":29}", r1) == SS_INVALID);
	CHECK_STR(ss_err_field(), "temperature");
	CHECK(declare(app, "{\"kind\":\"health\",\"temperature\":37,\"symptoms\":[\"\"]}", r1) == SS_INVALID);
	CHECK_STR(ss_err_field(), "symptoms");
	CHECK(declare(app, "{\"kind\":\"trip\",\"places\":[\"12345\"]}", r1) == SS_INVALID);
	CHECK_STR(ss_err_field(), "places");
	CHECK(declare(app, "{\"kind\":\"walk\"}", r1) == SS_INVALID);
	CHECK_STR(ss_err_field(), "kind");
	ss_app_close(app);
}

int main(void)
{
	if (!check_data_dir(dir))
		return 1;
	RUN(test_client_create);
	RUN(test_client_authenticate);
	RUN(test_batches);
	RUN(test_declarations);
	if (!check_data_dir_remove(dir))
		return 1;
	return check_done();
}
