/* terminal: creating terminals, caching their keys, authenticating their requests (see terminal.h). */
#include "core/terminal.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/mem.h"
#include "base/str.h"
#include "base/time.h"
#include "core/division.h"
#include "core/pii.h"
#include "core/sign.h"
#include "crypto/crypto.h"

#define AD_TERMINAL "terminal"

struct ss_terminals {
	pthread_rwlock_t lock;
	struct ss_terminal *slots; /* open addressing by terminal_id; terminal_id 0 is empty */
	size_t cap, used;
};

struct ss_terminals *ss_terminals_new(void)
{
	struct ss_terminals *t = ss_calloc(1, sizeof(*t));
	pthread_rwlock_init(&t->lock, NULL);
	t->cap = 256;
	t->slots = ss_calloc(t->cap, sizeof(*t->slots));
	return t;
}

void ss_terminals_free(struct ss_terminals *t)
{
	if (!t)
		return;
	ss_free_secret(t->slots, t->cap * sizeof(*t->slots));
	pthread_rwlock_destroy(&t->lock);
	free(t);
}

static size_t slot_of(const struct ss_terminals *t, int64_t id)
{
	size_t i = (size_t)((uint64_t)id * 0x9E3779B97F4A7C15ull) & (t->cap - 1);
	while (t->slots[i].terminal_id && t->slots[i].terminal_id != id)
		i = (i + 1) & (t->cap - 1);
	return i;
}

static bool cache_get(struct ss_terminals *t, int64_t id, struct ss_terminal *out)
{
	pthread_rwlock_rdlock(&t->lock);
	const struct ss_terminal *e = &t->slots[slot_of(t, id)];
	bool found = e->terminal_id == id;
	if (found)
		*out = *e;
	pthread_rwlock_unlock(&t->lock);
	return found;
}

static void cache_put(struct ss_terminals *t, const struct ss_terminal *term)
{
	pthread_rwlock_wrlock(&t->lock);
	if (2 * (t->used + 1) > t->cap) {
		struct ss_terminals bigger = {.cap = 2 * t->cap};
		bigger.slots = ss_calloc(bigger.cap, sizeof(*bigger.slots));
		for (size_t i = 0; i < t->cap; i++)
			if (t->slots[i].terminal_id)
				bigger.slots[slot_of(&bigger, t->slots[i].terminal_id)] = t->slots[i];
		ss_free_secret(t->slots, t->cap * sizeof(*t->slots));
		t->slots = bigger.slots;
		t->cap = bigger.cap;
	}
	size_t i = slot_of(t, term->terminal_id);
	if (!t->slots[i].terminal_id)
		t->used++;
	t->slots[i] = *term;
	pthread_rwlock_unlock(&t->lock);
}

enum ss_err ss_terminal_create(struct ss_app *app, const char *org_name, const char *place_name, const char *scene,
                               const char *division, int64_t staff_id, int64_t *terminal_id, char secret[65])
{
	enum ss_err err;
	char org[SS_ORG_MAX + 1], place[SS_PLACE_MAX + 1];
	const struct ss_scene *sc = ss_scene_find(scene);
	if ((err = ss_str_check_name(org_name, strlen(org_name), SS_ORG_MAX, "org", org)) ||
	    (err = ss_str_check_name(place_name, strlen(place_name), SS_PLACE_MAX, "place", place)))
		return err;
	if (!sc)
		return ss_fail(SS_INVALID, "scene",
		               "scene must be checkpoint, community, venue, hospital, transit or pool");
	if (division && (strlen(division) != 6 || !ss_str_is_digits(division, 6) || !ss_division_is_valid(division)))
		return ss_fail(SS_INVALID, "division", "division must be a GB/T 2260 code");

	uint8_t raw[32];
	struct ss_arena a;
	int64_t place_id;
	if ((err = ss_random(raw, sizeof(raw))))
		return err;
	ss_hex_encode(raw, sizeof(raw), secret);
	ss_arena_init(&a);
	const char *fields[] = {secret};
	struct ss_terminal_row row = {.scene = sc->name, .created_by = staff_id, .created_at = ss_time_now()};
	if ((err = ss_pii_seal(app, AD_TERMINAL, fields, 1, &a, &row.secret_sealed)) ||
	    (err = app->store->ops->place_ensure(app->store, org, place, division ? division : "", &place_id)))
		goto out;
	row.place_id = place_id;
	if ((err = app->store->ops->terminal_insert(app->store, &row, terminal_id)))
		goto out;
	ss_log_info("terminal_created", "terminal_id=%lld place_id=%lld scene=%s", (long long)*terminal_id,
	            (long long)place_id, sc->name);
out:
	ss_wipe(raw, sizeof(raw));
	ss_arena_release_secret(&a);
	return err;
}

/* The terminal with id, from the cache or else the store. */
static enum ss_err lookup(struct ss_app *app, int64_t id, struct ss_terminal *out)
{
	if (app->terminals && cache_get(app->terminals, id, out))
		return SS_OK;
	struct ss_arena a;
	struct ss_terminal_row row;
	const char *fields[1];
	ss_arena_init(&a);
	enum ss_err err = app->store->ops->terminal_get(app->store, id, &a, &row);
	if (err == SS_NOT_FOUND || (!err && row.disabled))
		err = ss_fail(SS_UNAUTHENTICATED, "X-Terminal-Id", "unknown terminal");
	if (!err)
		err = ss_pii_open(app, AD_TERMINAL, row.secret_sealed, &a, fields, 1);
	if (!err) {
		out->terminal_id = id;
		out->place_id = row.place_id;
		out->scene = ss_scene_find(row.scene);
		if (!out->scene || !ss_hex_decode(fields[0], strlen(fields[0]), out->key, sizeof(out->key)))
			err = ss_fail(SS_INTERNAL, NULL, "terminal %lld is malformed", (long long)id);
	}
	ss_arena_release_secret(&a);
	if (!err && app->terminals)
		cache_put(app->terminals, out);
	return err;
}

enum ss_err ss_terminal_authenticate(struct ss_app *app, const struct ss_signed_request *req, struct ss_terminal *out)
{
	int64_t tid;
	enum ss_err err;
	if ((err = ss_sign_client_id(req, &tid)) || (err = lookup(app, tid, out)))
		return err;
	return ss_sign_accept(app->nonces, (uint64_t)tid, out->key, req, ss_time_now(), &out->nonce);
}
