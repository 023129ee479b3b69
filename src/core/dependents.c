/* dependents: relatives' codes, links between guardians and dependents (see dependents.h). */
#include "core/dependents.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/mem.h"
#include "base/time.h"
#include "core/audit.h"
#include "core/holders.h"
#include "core/identity.h"
#include "core/pii.h"
#include "core/population.h"

#define CST_OFFSET (8 * 3600) /* "today" is the date in China (idcard.h) */

static const char *const relations[SS_RELATIONS] = {"child", "grandchild", "parent", "grandparent", "spouse", "other"};

const char *ss_relation_name(int relation)
{
	return relation >= 0 && relation < SS_RELATIONS ? relations[relation] : "other";
}

bool ss_relation_parse(const char *name, int *relation)
{
	for (int r = 0; r < SS_RELATIONS; r++)
		if (!strcmp(name, relations[r]))
			return *relation = r, true;
	return false;
}

static bool is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int64_t ss_dependents_adult_at(const struct ss_idcard *id)
{
	int y = id->year + SS_ADULT_AGE, m = id->month, d = id->day;
	int64_t days = 0;
	if (m == 2 && d == 29 && !is_leap(y)) /* as ss_idcard_age counts it: a year older on 1 March */
		m = 3, d = 1;
	if (!ss_date_to_days(y, m, d, &days))
		return 0; /* not reached for a parsed ID number */
	return days * 86400 - CST_OFFSET;
}

bool ss_dependents_of_age(int64_t adult_at, int64_t now)
{
	return adult_at > 0 && now >= adult_at;
}

/* ---- the in-memory table of active links ---------------------------------------------------------------- */

struct link {
	int64_t guardian, person, adult_at;
	int relation;
	struct link *next;
};

struct ss_dependents {
	pthread_rwlock_t lock;
	struct link **buckets;
	size_t nbuckets; /* a power of two */
	int64_t count;
};

static size_t slot(const struct ss_dependents *d, int64_t guardian, int64_t person)
{
	uint64_t h = (uint64_t)guardian * 0x9E3779B97F4A7C15u ^ (uint64_t)person * 0xC2B2AE3D27D4EB4Fu;
	h ^= h >> 31;
	return (size_t)(h & (d->nbuckets - 1));
}

struct ss_dependents *ss_dependents_new(void)
{
	struct ss_dependents *d = ss_calloc(1, sizeof(*d));
	pthread_rwlock_init(&d->lock, NULL);
	d->nbuckets = 1024;
	d->buckets = ss_calloc(d->nbuckets, sizeof(*d->buckets));
	return d;
}

void ss_dependents_free(struct ss_dependents *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->nbuckets; i++) {
		for (struct link *l = d->buckets[i], *next; l; l = next) {
			next = l->next;
			free(l);
		}
	}
	free(d->buckets);
	pthread_rwlock_destroy(&d->lock);
	free(d);
}

/* Doubles the buckets; called with the write lock held. */
static void grow(struct ss_dependents *d)
{
	size_t old = d->nbuckets;
	struct link **was = d->buckets;
	d->nbuckets = old * 2;
	d->buckets = ss_calloc(d->nbuckets, sizeof(*d->buckets));
	for (size_t i = 0; i < old; i++) {
		for (struct link *l = was[i], *next; l; l = next) {
			next = l->next;
			size_t s = slot(d, l->guardian, l->person);
			l->next = d->buckets[s];
			d->buckets[s] = l;
		}
	}
	free(was);
}

void ss_dependents_put(struct ss_dependents *d, int64_t guardian, int64_t person, int relation, int64_t adult_at)
{
	pthread_rwlock_wrlock(&d->lock);
	struct link *l = d->buckets[slot(d, guardian, person)];
	while (l && !(l->guardian == guardian && l->person == person))
		l = l->next;
	if (!l) {
		if ((size_t)d->count >= d->nbuckets)
			grow(d);
		size_t s = slot(d, guardian, person);
		l = ss_calloc(1, sizeof(*l));
		l->guardian = guardian;
		l->person = person;
		l->next = d->buckets[s];
		d->buckets[s] = l;
		d->count++;
	}
	l->relation = relation;
	l->adult_at = adult_at;
	pthread_rwlock_unlock(&d->lock);
}

void ss_dependents_drop(struct ss_dependents *d, int64_t guardian, int64_t person)
{
	pthread_rwlock_wrlock(&d->lock);
	for (struct link **p = &d->buckets[slot(d, guardian, person)]; *p; p = &(*p)->next) {
		if ((*p)->guardian == guardian && (*p)->person == person) {
			struct link *l = *p;
			*p = l->next;
			free(l);
			d->count--;
			break;
		}
	}
	pthread_rwlock_unlock(&d->lock);
}

bool ss_dependents_live(const struct ss_dependents *d, int64_t guardian, int64_t person, int64_t now, int *relation)
{
	struct ss_dependents *w = (struct ss_dependents *)d;
	bool live = false;
	pthread_rwlock_rdlock(&w->lock);
	for (const struct link *l = d->buckets[slot(d, guardian, person)]; l; l = l->next) {
		if (l->guardian == guardian && l->person == person) {
			live = !ss_dependents_of_age(l->adult_at, now);
			*relation = l->relation;
			break;
		}
	}
	pthread_rwlock_unlock(&w->lock);
	return live;
}

int64_t ss_dependents_count(const struct ss_dependents *d)
{
	struct ss_dependents *w = (struct ss_dependents *)d;
	pthread_rwlock_rdlock(&w->lock);
	int64_t n = d->count;
	pthread_rwlock_unlock(&w->lock);
	return n;
}

/*
 * Makes the dependent of an active link a holder, in their stored colour,
 * unless they are one already (a registered resident).
 */
static enum ss_err make_holder(struct ss_app *app, const struct ss_dependent_row *row)
{
	int color;
	int64_t since;
	if (!app->holders || ss_holders_get(app->holders, row->person_id, &color, &since))
		return SS_OK;
	return ss_holders_add(app->holders, app->store, row->person_id, row->sealed, row->created_at);
}

static int relation_of(const char *name)
{
	int r = SS_REL_OTHER;
	(void)ss_relation_parse(name, &r);
	return r;
}

/* Puts an active link into memory: the table of links and the holders. */
static enum ss_err remember(struct ss_app *app, const struct ss_dependent_row *row)
{
	if (!app->dependents)
		return SS_OK;
	enum ss_err err = make_holder(app, row);
	if (!err)
		ss_dependents_put(app->dependents, row->guardian_person_id, row->person_id, relation_of(row->relation),
		                  row->adult_at);
	return err;
}

static void forget(struct ss_app *app, const struct ss_dependent_row *row)
{
	if (app->dependents)
		ss_dependents_drop(app->dependents, row->guardian_person_id, row->person_id);
}

struct load_ctx {
	struct ss_app *app;
	int64_t now;
};

static enum ss_err load_link(void *ctx, const struct ss_dependent_row *row)
{
	struct load_ctx *lc = ctx;
	if (ss_dependents_of_age(row->adult_at, lc->now)) /* one of age is ended at its next use */
		return SS_OK;
	return remember(lc->app, row);
}

enum ss_err ss_dependents_load(struct ss_app *app)
{
	struct ss_arena a;
	struct load_ctx lc = {app, ss_time_now()};
	if (!app->dependents)
		app->dependents = ss_dependents_new();
	ss_arena_init(&a);
	enum ss_err err = app->store->ops->dependent_each(app->store, 0, 0, "active", &a, load_link, &lc);
	ss_arena_release(&a);
	return err;
}

/* ---- links as people see them ------------------------------------------------------------------------------- */

/* The masked name and ID number of sealed particulars (a holder's: name, ID number, phone). */
static enum ss_err masked(struct ss_app *app, struct ss_blob sealed, char name[SS_MASK_MAX],
                          char id_number[SS_MASK_MAX])
{
	struct ss_arena a;
	const char *fields[3];
	ss_arena_init(&a);
	enum ss_err err = ss_pii_open(app, SS_PII_CITIZEN, sealed, &a, fields, 3);
	if (!err) {
		ss_mask_name(fields[0], name);
		ss_mask_id(fields[1], id_number);
	}
	ss_arena_release_secret(&a);
	return err;
}

/* A state or basis of a row as one of these constants, so that views outlive the rows they came from. */
static const char *const states[] = {"pending", "active", "declined", "removed", "ended", "withdrawn"};
static const char *const bases[] = {"", "registry", "birth_certificate", "household_register", "app", "hotline"};

static const char *constant(const char *s, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(s, list[i]))
			return list[i];
	return list[0];
}

#define STATE(s) constant((s), states, sizeof(states) / sizeof(states[0]))
#define BASIS(s) constant((s), bases, sizeof(bases) / sizeof(bases[0]))

static enum ss_err view(struct ss_app *app, const struct ss_dependent_row *row, struct ss_dependent *out)
{
	memset(out, 0, sizeof(*out));
	out->link_id = row->link_id;
	out->guardian_id = row->guardian_id;
	out->guardian_person_id = row->guardian_person_id;
	out->person_id = row->person_id;
	out->relation = relation_of(row->relation);
	out->state = STATE(row->state);
	out->basis = BASIS(row->basis ? row->basis : "");
	out->created_at = row->created_at;
	out->changed_at = row->changed_at;
	out->adult_at = row->adult_at;
	return masked(app, row->sealed, out->name, out->id_number);
}

static bool is_live(const struct ss_dependent_row *row, int64_t now)
{
	return !strcmp(row->state, "pending") ||
	       (!strcmp(row->state, "active") && !ss_dependents_of_age(row->adult_at, now));
}

/* A change of a link's state: to what, on what basis, by whom, and how it is audited. */
struct move {
	const char *to;
	const char *basis; /* what makes the link active; NULL: the one it has */
	enum ss_actor actor;
	int64_t actor_id;
	const char *action; /* of the audit entry: "dependent.consent", ... */
	const char *cause;  /* why a link ended by itself ("of_age", "registry"); NULL: none */
};

/* Audits a change of a link, about its dependent: ids and codes only. */
static enum ss_err audit_link(struct ss_app *app, const struct ss_dependent_row *row, const struct move *m)
{
	char detail[256];
	const char *basis = m->basis ? m->basis : row->basis ? row->basis : "";
	int n = snprintf(detail, sizeof(detail),
	                 "{\"link_id\":%lld,\"guardian_id\":%lld,\"relation\":\"%s\",\"state\":\"%s\"",
	                 (long long)row->link_id, (long long)row->guardian_id,
	                 ss_relation_name(relation_of(row->relation)), STATE(m->to));
	if (*basis)
		n += snprintf(detail + n, sizeof(detail) - (size_t)n, ",\"basis\":\"%s\"", BASIS(basis));
	if (m->cause)
		n += snprintf(detail + n, sizeof(detail) - (size_t)n, ",\"cause\":\"%s\"", m->cause);
	snprintf(detail + n, sizeof(detail) - (size_t)n, "}");
	struct ss_audit_event e = {.actor = m->actor,
	                           .actor_id = m->actor_id,
	                           .action = m->action,
	                           .subject = row->person_id,
	                           .detail = detail};
	return ss_audit(app, &e);
}

/*
 * Moves a link from its state as m says, with its audit entry, in one
 * transaction; then brings memory in step. SS_CONFLICT if another request
 * changed it meanwhile.
 */
static enum ss_err change(struct ss_app *app, struct ss_dependent_row *row, const struct move *m, int64_t now)
{
	struct ss_store *s = app->store;
	enum ss_err err = s->ops->begin(s);
	if (err)
		return err;
	err = s->ops->dependent_set_state(s, row->link_id, row->state, m->to, m->basis, now);
	if (err == SS_NOT_FOUND)
		err = ss_fail(SS_CONFLICT, NULL, "the link changed meanwhile; look again");
	if (err || (err = audit_link(app, row, m))) {
		s->ops->rollback(s);
		return err;
	}
	/*
	 * Memory changes while the transaction still holds the store, so that no
	 * other request's change of the same link can land in between and be
	 * undone by this one's late update; a failed commit puts it back.
	 */
	bool was_active = !strcmp(row->state, "active"), active = !strcmp(m->to, "active");
	if (active && (err = remember(app, row))) {
		s->ops->rollback(s);
		return err;
	}
	if (!active)
		forget(app, row);
	if ((err = s->ops->commit(s))) { /* a failed commit has rolled back already */
		if (was_active)
			(void)remember(app, row); /* it was in memory before: its holder is there still */
		else
			forget(app, row);
		return err;
	}
	row->state = STATE(m->to);
	if (m->basis)
		row->basis = BASIS(m->basis);
	row->changed_at = now;
	ss_log_info("dependent_link", "link_id=%lld state=%s", (long long)row->link_id, row->state);
	return SS_OK;
}

/*
 * Ends an active link that has ended by itself (the actor is the system): its
 * minor has come of age, or the registry, on whose word it was made, no
 * longer names its guardian (an import has changed the child's guardians).
 */
static enum ss_err settle(struct ss_app *app, struct ss_dependent_row *row, int64_t now)
{
	const char *cause = NULL;
	enum ss_err err = SS_OK;
	if (strcmp(row->state, "active") != 0)
		return SS_OK;
	if (ss_dependents_of_age(row->adult_at, now)) {
		cause = "of_age";
	} else if (row->basis && !strcmp(row->basis, "registry")) {
		err = app->store->ops->registry_guardian_get(app->store, row->person_id, row->guardian_person_id);
		if (err == SS_NOT_FOUND)
			cause = "registry", err = SS_OK;
	}
	if (err || !cause)
		return err;
	struct move m = {.to = "ended", .actor = SS_ACTOR_SYSTEM, .action = "dependent.ended", .cause = cause};
	err = change(app, row, &m, now);
	if (err == SS_CONFLICT) { /* ended (or removed) by another request meanwhile */
		row->state = "ended";
		forget(app, row);
		err = SS_OK;
	}
	return err;
}

/* A link of citizen_id's account by id (not a removed one); SS_NOT_FOUND otherwise, whoever's it is. */
static enum ss_err own_link(struct ss_app *app, int64_t citizen_id, int64_t link_id, struct ss_arena *a,
                            struct ss_dependent_row *row)
{
	enum ss_err err = link_id > 0 ? app->store->ops->dependent_get(app->store, link_id, a, row) : SS_NOT_FOUND;
	if (err == SS_NOT_FOUND || (!err && (row->guardian_id != citizen_id || !strcmp(row->state, "removed"))))
		return ss_fail(SS_NOT_FOUND, NULL, "no such dependent");
	return err;
}

/* ---- adding ------------------------------------------------------------------------------------------------ */

struct count_ctx {
	struct ss_app *app;
	int64_t now;
	int64_t person; /* a duplicate: a live link to this person */
	int live;       /* live links seen */
	int active;     /* of which active */
	bool duplicate;
};

static enum ss_err count_link(void *ctx, const struct ss_dependent_row *row)
{
	struct count_ctx *cc = ctx;
	struct ss_dependent_row r = *row; /* the store has read every row: it may be written now */
	enum ss_err err = settle(cc->app, &r, cc->now);
	if (err || !is_live(&r, cc->now))
		return err;
	cc->live++;
	cc->active += !strcmp(r.state, "active");
	if (r.person_id == cc->person)
		cc->duplicate = true;
	return SS_OK;
}

/* Counts the live links of guardian_id (0: any) about person_id (0: any), ending those that ended by themselves. */
static enum ss_err count_live(struct ss_app *app, int64_t guardian_id, int64_t person_id, int64_t dup_person,
                              int64_t now, struct ss_arena *a, struct count_ctx *cc)
{
	*cc = (struct count_ctx){.app = app, .now = now, .person = dup_person};
	return app->store->ops->dependent_each(app->store, guardian_id, person_id, NULL, a, count_link, cc);
}

/* SS_CONFLICT if the minor person_id has SS_GUARDIANS_MAX active links already (pending requests do not count). */
static enum ss_err minor_has_room(struct ss_app *app, int64_t person_id, int64_t now, struct ss_arena *a)
{
	struct count_ctx cc;
	enum ss_err err = count_live(app, 0, person_id, 0, now, a, &cc);
	if (!err && cc.active >= SS_GUARDIANS_MAX)
		err = ss_fail(SS_CONFLICT, "id_number", "a minor may be the dependent of at most %d accounts",
		              SS_GUARDIANS_MAX);
	return err;
}

enum ss_err ss_dependents_add(struct ss_app *app, int64_t citizen_id, const struct ss_dependent_request *req,
                              int64_t now, struct ss_dependent *out)
{
	char name[SS_NAME_MAX + 1];
	struct ss_idcard id;
	int relation;
	enum ss_err err;

	if (!ss_relation_parse(req->relation, &relation))
		return ss_fail(SS_INVALID, "relation",
		               "relation must be child, grandchild, parent, grandparent, spouse or other");
	if ((err = ss_name_check(req->name, strlen(req->name), "name", name)) ||
	    (err = ss_idcard_parse(req->id_number, strlen(req->id_number), now, &id)))
		return err;

	struct ss_arena a;
	struct ss_person_row person;
	struct ss_citizen_row guardian;
	struct count_ctx cc;
	struct ss_store *s = app->store;
	ss_arena_init(&a);
	if ((err = ss_identity_real_name(app, name, &id, &a, &person)) ||
	    (err = s->ops->citizen_by_id(s, citizen_id, &a, &guardian)))
		goto out;
	if (person.person_id == guardian.person_id) {
		err = ss_fail(SS_INVALID, "id_number", "you cannot add yourself as a dependent");
		goto out;
	}
	bool minor = ss_idcard_age(&id, now) < SS_ADULT_AGE;
	struct ss_dependent_row row = {
	        .guardian_id = citizen_id,
	        .guardian_person_id = guardian.person_id,
	        .person_id = person.person_id,
	        .relation = ss_relation_name(relation),
	        .state = "pending",
	        .basis = "",
	        .adult_at = minor ? ss_dependents_adult_at(&id) : 0,
	        .created_at = now,
	        .changed_at = now,
	};
	const char *particulars[] = {name, id.number, ""}; /* as a holder's: name, ID number, (no) phone */
	if ((err = ss_pii_seal(app, SS_PII_CITIZEN, particulars, 3, &a, &row.sealed)))
		goto out;

	/* the checks and the insert are one transaction: two requests at once cannot both pass a limit */
	if ((err = s->ops->begin(s)))
		goto out;
	/* a minor is linked at once to a guardian the registry names; anyone else waits for an operator */
	if (minor) {
		err = s->ops->registry_guardian_get(s, person.person_id, guardian.person_id);
		if (!err)
			row.state = "active", row.basis = "registry";
		else if (err != SS_NOT_FOUND)
			goto rollback;
	}
	bool active = !strcmp(row.state, "active");
	if ((err = count_live(app, citizen_id, 0, person.person_id, now, &a, &cc)))
		goto rollback;
	if (cc.duplicate) {
		err = ss_fail(SS_CONFLICT, "id_number", "this person is already one of your dependents");
		goto rollback;
	}
	if (cc.live >= SS_DEPENDENTS_MAX) {
		err = ss_fail(SS_CONFLICT, NULL, "an account may have at most %d dependents (active or pending)",
		              SS_DEPENDENTS_MAX);
		goto rollback;
	}
	if (active && (err = minor_has_room(app, person.person_id, now, &a)))
		goto rollback;
	err = s->ops->dependent_insert(s, &row, &row.link_id);
	if (err == SS_CONFLICT)
		err = ss_fail(SS_CONFLICT, "id_number", "this person is already one of your dependents");
	struct move m = {.to = row.state, .actor = SS_ACTOR_CITIZEN, .actor_id = citizen_id, .action = "dependent.add"};
	if (err || (err = audit_link(app, &row, &m)))
		goto rollback;
	if (active && (err = remember(app, &row))) /* while the store is held, as in change() */
		goto rollback;
	if ((err = s->ops->commit(s))) { /* a failed commit has rolled back already */
		if (active)
			forget(app, &row);
		goto out;
	}
	ss_log_info("dependent_added", "citizen_id=%lld link_id=%lld state=%s", (long long)citizen_id,
	            (long long)row.link_id, row.state);
	err = view(app, &row, out);
	goto out;
rollback:
	s->ops->rollback(s);
out:
	ss_arena_release_secret(&a);
	return err;
}

/* ---- using and changing links -------------------------------------------------------------------------------- */

struct list_ctx {
	struct ss_app *app;
	int64_t now;
	enum ss_err (*fn)(void *ctx, const struct ss_dependent *dep);
	void *ctx;
};

static enum ss_err list_link(void *ctx, const struct ss_dependent_row *r)
{
	struct list_ctx *lc = ctx;
	struct ss_dependent_row row = *r;
	struct ss_dependent dep;
	enum ss_err err;
	if (!strcmp(row.state, "removed"))
		return SS_OK;
	if ((err = settle(lc->app, &row, lc->now)) || (err = view(lc->app, &row, &dep)))
		return err;
	return lc->fn(lc->ctx, &dep);
}

enum ss_err ss_dependents_list(struct ss_app *app, int64_t citizen_id, int64_t now,
                               enum ss_err (*fn)(void *ctx, const struct ss_dependent *dep), void *ctx)
{
	struct ss_arena a;
	struct list_ctx lc = {app, now, fn, ctx};
	ss_arena_init(&a);
	enum ss_err err = app->store->ops->dependent_each(app->store, citizen_id, 0, NULL, &a, list_link, &lc);
	ss_arena_release(&a);
	return err;
}

/* Why a link that is not active issues no code. */
static enum ss_err not_active(const struct ss_dependent_row *row)
{
	if (!strcmp(row->state, "pending"))
		return ss_fail(SS_CONFLICT, NULL,
		               row->adult_at > 0
		                       ? "this link waits for an operator to see the child's birth certificate "
		                         "or household register: no code until then"
		                       : "this dependent has not consented yet: no code until they do");
	if (!strcmp(row->state, "declined"))
		return ss_fail(SS_CONFLICT, NULL, "this link has been declined: it issues no code");
	if (!strcmp(row->state, "withdrawn"))
		return ss_fail(SS_CONFLICT, NULL,
		               "the dependent has withdrawn their consent: this link issues no code");
	return ss_fail(SS_CONFLICT, NULL, "this link has ended: it issues no code");
}

enum ss_err ss_dependents_active(struct ss_app *app, int64_t citizen_id, int64_t link_id, int64_t now,
                                 struct ss_dependent *out)
{
	struct ss_store *s = app->store;
	struct ss_arena a;
	struct ss_dependent_row row;
	/* read and remembered while the store is held: a removal cannot come in between (see change()) */
	enum ss_err err = s->ops->begin(s);
	if (err)
		return err;
	ss_arena_init(&a);
	err = own_link(app, citizen_id, link_id, &a, &row);
	if (!err)
		err = settle(app, &row, now);
	if (!err && strcmp(row.state, "active") != 0)
		err = not_active(&row);
	if (!err) {
		if (app->dependents) /* memory follows the store, also after a change by another process */
			remember(app, &row);
		err = view(app, &row, out);
	}
	/* a refusal (not found, not active) still keeps what settle() changed; a store failure keeps nothing */
	if (err && err != SS_CONFLICT && err != SS_NOT_FOUND) {
		s->ops->rollback(s);
	} else {
		enum ss_err cerr = s->ops->commit(s);
		if (cerr)
			err = cerr;
	}
	ss_arena_release(&a);
	return err;
}

enum ss_err ss_dependents_remove(struct ss_app *app, int64_t citizen_id, int64_t link_id, int64_t now)
{
	struct ss_arena a;
	struct ss_dependent_row row;
	ss_arena_init(&a);
	enum ss_err err = own_link(app, citizen_id, link_id, &a, &row);
	struct move m = {
	        .to = "removed", .actor = SS_ACTOR_CITIZEN, .actor_id = citizen_id, .action = "dependent.remove"};
	if (!err)
		err = change(app, &row, &m, now);
	ss_arena_release(&a);
	return err;
}

/* ---- links that name a resident as dependent -------------------------------------------------------------- */

struct naming_ctx {
	struct ss_app *app;
	enum ss_err (*fn)(void *ctx, const struct ss_dependent *dep);
	void *ctx;
	struct ss_arena *a;
};

static enum ss_err naming_link(void *ctx, const struct ss_dependent_row *row)
{
	struct naming_ctx *nc = ctx;
	struct ss_citizen_row guardian;
	struct ss_dependent dep;
	if (row->adult_at > 0) /* a minor's link is the registry's or an operator's to make, not theirs */
		return SS_OK;
	enum ss_err err = nc->app->store->ops->citizen_by_id(nc->app->store, row->guardian_id, nc->a, &guardian);
	if (err || (err = view(nc->app, row, &dep)))
		return err;
	/* the one who asks is the guardian: their particulars, masked, in place of the dependent's own */
	if ((err = masked(nc->app, guardian.sealed, dep.name, dep.id_number)))
		return err;
	return nc->fn(nc->ctx, &dep);
}

/* The resident's person id. */
static enum ss_err person_of(struct ss_app *app, int64_t citizen_id, struct ss_arena *a, int64_t *person_id)
{
	struct ss_citizen_row c;
	enum ss_err err = app->store->ops->citizen_by_id(app->store, citizen_id, a, &c);
	if (!err)
		*person_id = c.person_id;
	return err;
}

enum ss_err ss_dependents_naming(struct ss_app *app, int64_t citizen_id, const char *state,
                                 enum ss_err (*fn)(void *ctx, const struct ss_dependent *dep), void *ctx)
{
	struct ss_arena a;
	int64_t person_id = 0;
	ss_arena_init(&a);
	struct naming_ctx nc = {app, fn, ctx, &a};
	enum ss_err err = person_of(app, citizen_id, &a, &person_id);
	if (!err)
		err = app->store->ops->dependent_each(app->store, 0, person_id, state, &a, naming_link, &nc);
	ss_arena_release_secret(&a);
	return err;
}

/* The link link_id if it names the resident citizen_id as dependent (and was not removed); else SS_NOT_FOUND. */
static enum ss_err naming_me(struct ss_app *app, int64_t citizen_id, int64_t link_id, struct ss_arena *a,
                             struct ss_dependent_row *row)
{
	int64_t person_id = 0;
	enum ss_err err = person_of(app, citizen_id, a, &person_id);
	if (!err)
		err = link_id > 0 ? app->store->ops->dependent_get(app->store, link_id, a, row) : SS_NOT_FOUND;
	if (err == SS_NOT_FOUND || (!err && (row->person_id != person_id || !strcmp(row->state, "removed"))))
		err = ss_fail(SS_NOT_FOUND, NULL, "no such link");
	if (!err && row->adult_at > 0)
		err = ss_fail(SS_CONFLICT, NULL,
		              "a minor's link is made on the registry's word or an operator's, not by the minor");
	return err;
}

/*
 * The resident citizen_id, named by the link link_id as its dependent, moves
 * it from state from as m says; refused says why when it is in another state.
 */
static enum ss_err dependent_moves(struct ss_app *app, int64_t citizen_id, int64_t link_id, const char *from,
                                   const char *refused, const struct move *m, int64_t now, struct ss_dependent *out)
{
	struct ss_arena a;
	struct ss_dependent_row row;
	ss_arena_init(&a);
	enum ss_err err = naming_me(app, citizen_id, link_id, &a, &row);
	if (!err && strcmp(row.state, from) != 0)
		err = ss_fail(SS_CONFLICT, NULL, "%s", refused);
	if (!err)
		err = change(app, &row, m, now);
	if (!err)
		err = view(app, &row, out);
	ss_arena_release_secret(&a);
	return err;
}

enum ss_err ss_dependents_answer(struct ss_app *app, int64_t citizen_id, int64_t link_id, bool accept, int64_t now,
                                 struct ss_dependent *out)
{
	struct move m = {.to = accept ? "active" : "declined",
	                 .basis = accept ? "app" : NULL,
	                 .actor = SS_ACTOR_CITIZEN,
	                 .actor_id = citizen_id,
	                 .action = accept ? "dependent.consent" : "dependent.decline"};
	return dependent_moves(app, citizen_id, link_id, "pending", "this request has been answered already", &m, now,
	                       out);
}

enum ss_err ss_dependents_withdraw(struct ss_app *app, int64_t citizen_id, int64_t link_id, int64_t now,
                                   struct ss_dependent *out)
{
	struct move m = {
	        .to = "withdrawn", .actor = SS_ACTOR_CITIZEN, .actor_id = citizen_id, .action = "dependent.withdraw"};
	return dependent_moves(app, citizen_id, link_id, "active",
	                       "this link is not active (a request is declined, not withdrawn): nothing to withdraw",
	                       &m, now, out);
}

/* ---- operators ---------------------------------------------------------------------------------------------- */

/* The pending link link_id, for an operator to confirm: SS_NOT_FOUND if there is none, SS_CONFLICT if not pending. */
static enum ss_err pending_link(struct ss_app *app, int64_t link_id, struct ss_arena *a, struct ss_dependent_row *row)
{
	enum ss_err err = link_id > 0 ? app->store->ops->dependent_get(app->store, link_id, a, row) : SS_NOT_FOUND;
	if (err == SS_NOT_FOUND)
		return ss_fail(SS_NOT_FOUND, NULL, "no such link");
	if (!err && strcmp(row->state, "pending") != 0)
		return ss_fail(SS_CONFLICT, NULL, "this link is not waiting for confirmation");
	return err;
}

enum ss_err ss_dependents_confirm(struct ss_app *app, int64_t staff_id, int64_t link_id, int64_t now,
                                  struct ss_dependent *out)
{
	struct ss_arena a;
	struct ss_dependent_row row = {0};
	struct ss_person_row person;
	struct ss_citizen_row citizen;
	struct ss_store *s = app->store;
	ss_arena_init(&a);
	enum ss_err err = pending_link(app, link_id, &a, &row);
	if (!err && row.adult_at > 0)
		err = ss_fail(SS_CONFLICT, NULL,
		              "a minor's link is confirmed with the document seen (POST .../document), not by consent");
	if (!err)
		err = s->ops->person_by_id(s, row.person_id, &a, &person);
	if (!err) {
		err = s->ops->citizen_by_idx(s, person.idx, &a, &citizen);
		struct move m = {.to = "active",
		                 .basis = "hotline",
		                 .actor = SS_ACTOR_STAFF,
		                 .actor_id = staff_id,
		                 .action = "dependent.confirm"};
		if (!err)
			err = ss_fail(SS_CONFLICT, NULL,
			              "the dependent is a registered resident: they consent in the app");
		else if (err == SS_NOT_FOUND)
			err = change(app, &row, &m, now);
	}
	if (!err)
		err = view(app, &row, out);
	ss_arena_release_secret(&a);
	return err;
}

/* A document that shows who a child's guardians are. */
static bool is_document(const char *document)
{
	return !strcmp(document, "birth_certificate") || !strcmp(document, "household_register");
}

enum ss_err ss_dependents_document(struct ss_app *app, int64_t staff_id, int64_t link_id, const char *document,
                                   int64_t now, struct ss_dependent *out)
{
	struct ss_arena a;
	struct ss_dependent_row row = {0};
	struct ss_store *s = app->store;
	if (!is_document(document))
		return ss_fail(SS_INVALID, "document", "document must be birth_certificate or household_register");
	/* the limit and the change are one transaction, as in ss_dependents_add() */
	enum ss_err err = s->ops->begin(s);
	if (err)
		return err;
	ss_arena_init(&a);
	err = pending_link(app, link_id, &a, &row);
	if (!err && row.adult_at == 0)
		err = ss_fail(SS_CONFLICT, NULL,
		              "an adult consents themself, in the app or on a call (POST .../confirm): no document");
	if (!err && ss_dependents_of_age(row.adult_at, now))
		err = ss_fail(SS_CONFLICT, NULL, "the dependent has come of age: they consent themself");
	if (!err)
		err = minor_has_room(app, row.person_id, now, &a);
	struct move m = {.to = "active",
	                 .basis = document,
	                 .actor = SS_ACTOR_STAFF,
	                 .actor_id = staff_id,
	                 .action = "dependent.document"};
	if (!err)
		err = change(app, &row, &m, now);
	if (err) {
		s->ops->rollback(s);
	} else if (!(err = s->ops->commit(s))) {
		err = view(app, &row, out);
	} else if (app->dependents) { /* the commit failed and rolled back: memory follows */
		forget(app, &row);
	}
	ss_arena_release_secret(&a);
	return err;
}

enum ss_err ss_dependents_get(struct ss_app *app, int64_t link_id, struct ss_dependent *out)
{
	struct ss_arena a;
	struct ss_dependent_row row;
	ss_arena_init(&a);
	enum ss_err err = link_id > 0 ? app->store->ops->dependent_get(app->store, link_id, &a, &row) : SS_NOT_FOUND;
	if (err == SS_NOT_FOUND)
		err = ss_fail(SS_NOT_FOUND, NULL, "no such link");
	if (!err)
		err = view(app, &row, out);
	ss_arena_release_secret(&a);
	return err;
}
