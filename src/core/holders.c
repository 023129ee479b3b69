/* holders: the in-memory table of code holders and their colours (see holders.h). */
#include "core/holders.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"

#define HOLDER     0x80 /* in color[]: the person holds a code */
#define COLOR_MASK 0x03

struct sealed {
	uint32_t n;
	uint8_t p[];
};

struct ss_holders {
	pthread_rwlock_t lock;
	size_t cap; /* entries in each array; person ids below cap */
	uint8_t *color;
	uint32_t *since;
	struct sealed **sealed;
	int64_t count;
};

const char *ss_color_name(int color)
{
	static const char *const names[] = {"green", "yellow", "red"};
	return color >= 0 && color <= 2 ? names[color] : "unknown";
}

bool ss_color_parse(const char *name, int *color)
{
	for (int c = 0; c <= 2; c++)
		if (!strcmp(name, ss_color_name(c)))
			return *color = c, true;
	return false;
}

struct ss_holders *ss_holders_new(void)
{
	struct ss_holders *h = ss_calloc(1, sizeof(*h));
	pthread_rwlock_init(&h->lock, NULL);
	return h;
}

void ss_holders_free(struct ss_holders *h)
{
	if (!h)
		return;
	for (size_t i = 0; i < h->cap; i++)
		free(h->sealed[i]);
	free(h->color);
	free(h->since);
	free(h->sealed);
	pthread_rwlock_destroy(&h->lock);
	free(h);
}

/* Makes room for person_id; called with the write lock held. */
static void grow(struct ss_holders *h, int64_t person_id)
{
	if ((size_t)person_id < h->cap)
		return;
	size_t cap = h->cap ? h->cap : 1024;
	while (cap <= (size_t)person_id)
		cap *= 2;
	h->color = ss_realloc(h->color, cap);
	h->since = ss_realloc(h->since, cap * sizeof(*h->since));
	h->sealed = ss_realloc(h->sealed, cap * sizeof(*h->sealed));
	memset(h->color + h->cap, 0, cap - h->cap);
	memset(h->since + h->cap, 0, (cap - h->cap) * sizeof(*h->since));
	memset(h->sealed + h->cap, 0, (cap - h->cap) * sizeof(*h->sealed));
	h->cap = cap;
}

/* What the table knows of person_id's colour: the colour byte and since (zeros for one beyond the table). */
static uint64_t known(struct ss_holders *h, int64_t person_id)
{
	if ((size_t)person_id >= h->cap)
		return 0;
	return (uint64_t)h->color[person_id] << 32 | h->since[person_id];
}

static struct sealed *copy_of(struct ss_blob sealed)
{
	struct sealed *copy = ss_malloc(sizeof(*copy) + sealed.n);
	copy->n = (uint32_t)sealed.n;
	memcpy(copy->p, sealed.p, sealed.n);
	return copy;
}

/*
 * Makes person_id a holder with the particulars copy (the table's from now),
 * with the write lock held; with stored, in that colour.
 */
static void put(struct ss_holders *h, int64_t person_id, struct sealed *copy, int64_t since,
                const struct ss_status_row *stored)
{
	grow(h, person_id);
	free(h->sealed[person_id]);
	h->sealed[person_id] = copy;
	if (stored) {
		h->color[person_id] = (uint8_t)((h->color[person_id] & HOLDER) | (stored->color & COLOR_MASK));
		h->since[person_id] = (uint32_t)stored->since;
	}
	if (!(h->color[person_id] & HOLDER)) {
		h->count++;
		if (h->since[person_id] == 0) /* no colour known yet: green from now */
			h->since[person_id] = (uint32_t)since;
	}
	h->color[person_id] |= HOLDER;
}

enum ss_err ss_holders_add(struct ss_holders *h, struct ss_store *s, int64_t person_id, struct ss_blob sealed,
                           int64_t since)
{
	if (person_id <= 0)
		return SS_OK;
	struct ss_status_row row = {.person_id = person_id, .color = SS_GREEN, .since = since};
	struct ss_arena a;
	ss_arena_init(&a);
	pthread_rwlock_rdlock(&h->lock);
	uint64_t before = known(h, person_id);
	pthread_rwlock_unlock(&h->lock);
	enum ss_err err = s->ops->status_get(s, person_id, &a, &row);
	ss_arena_release(&a);
	if (err == SS_NOT_FOUND) /* the store keeps no colour: green */
		err = SS_OK;
	if (err)
		return err;
	struct sealed *copy = copy_of(sealed);
	pthread_rwlock_wrlock(&h->lock);
	/* a colour set while the store was read was set after the store changed: it is the newer */
	put(h, person_id, copy, since, known(h, person_id) == before ? &row : NULL);
	pthread_rwlock_unlock(&h->lock);
	return SS_OK;
}

void ss_holders_set_color(struct ss_holders *h, int64_t person_id, int color, int64_t since)
{
	if (person_id <= 0)
		return;
	pthread_rwlock_wrlock(&h->lock);
	grow(h, person_id);
	h->color[person_id] = (uint8_t)((h->color[person_id] & HOLDER) | (color & COLOR_MASK));
	h->since[person_id] = (uint32_t)since;
	pthread_rwlock_unlock(&h->lock);
}

bool ss_holders_get(const struct ss_holders *h, int64_t person_id, int *color, int64_t *since)
{
	struct ss_holders *w = (struct ss_holders *)h;
	bool found = false;
	pthread_rwlock_rdlock(&w->lock);
	if (person_id > 0 && (size_t)person_id < h->cap && (h->color[person_id] & HOLDER)) {
		*color = h->color[person_id] & COLOR_MASK;
		*since = h->since[person_id];
		found = true;
	}
	pthread_rwlock_unlock(&w->lock);
	return found;
}

bool ss_holders_sealed(const struct ss_holders *h, int64_t person_id, uint8_t *buf, size_t cap, size_t *n)
{
	struct ss_holders *w = (struct ss_holders *)h;
	bool found = false;
	pthread_rwlock_rdlock(&w->lock);
	if (person_id > 0 && (size_t)person_id < h->cap && h->sealed[person_id] && h->sealed[person_id]->n <= cap) {
		const struct sealed *s = h->sealed[person_id];
		memcpy(buf, s->p, s->n);
		*n = s->n;
		found = true;
	}
	pthread_rwlock_unlock(&w->lock);
	return found;
}

int64_t ss_holders_count(const struct ss_holders *h)
{
	struct ss_holders *w = (struct ss_holders *)h;
	pthread_rwlock_rdlock(&w->lock);
	int64_t n = h->count;
	pthread_rwlock_unlock(&w->lock);
	return n;
}

#define RESEAL_SLICE 4096 /* person ids per hold of the write lock: a few milliseconds at most */

int64_t ss_holders_reseal(struct ss_holders *h, const struct ss_keyring *kr, const char *ad, uint32_t key_id)
{
	int64_t resealed = 0;
	for (size_t from = 1;; from += RESEAL_SLICE) {
		pthread_rwlock_wrlock(&h->lock);
		size_t cap = h->cap, to = from + RESEAL_SLICE < cap ? from + RESEAL_SLICE : cap;
		for (size_t i = from; i < to; i++) {
			struct sealed *s = h->sealed[i];
			/* in place: a blob re-sealed has the same size */
			if (s && ss_keyring_sealed_key_id(s->p, s->n) == key_id &&
			    ss_keyring_reseal(kr, ad, s->p, s->n, s->p) == SS_OK)
				resealed++;
		}
		pthread_rwlock_unlock(&h->lock);
		if (to >= cap)
			return resealed;
	}
}

struct load_ctx {
	struct ss_holders *h;
};

static enum ss_err load_citizen(void *ctx, int64_t citizen_id, int64_t person_id, struct ss_blob sealed,
                                int64_t created_at)
{
	struct load_ctx *lc = ctx;
	if (person_id > 0) { /* the colours are loaded already */
		struct sealed *copy = copy_of(sealed);
		pthread_rwlock_wrlock(&lc->h->lock);
		put(lc->h, person_id, copy, created_at, NULL);
		pthread_rwlock_unlock(&lc->h->lock);
	}
	return SS_OK;
}

static enum ss_err load_status(void *ctx, const struct ss_status_row *row)
{
	struct load_ctx *lc = ctx;
	ss_holders_set_color(lc->h, row->person_id, row->color, row->since);
	return SS_OK;
}

enum ss_err ss_holders_load(struct ss_holders *h, struct ss_store *s)
{
	struct load_ctx lc = {h};
	enum ss_err err = s->ops->status_each(s, load_status, &lc);
	if (!err)
		err = s->ops->citizen_each(s, load_citizen, &lc);
	return err;
}
