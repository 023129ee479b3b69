/* appeals: filing, the handlers' workflow and the decision (see appeals.h). */
#include "core/appeals.h"

#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "base/str.h"
#include "base/time.h"
#include "core/assign.h"
#include "core/holders.h"
#include "core/idcard.h"
#include "core/identity.h"
#include "core/pii.h"
#include "core/population.h"
#include "core/status.h"

/* What sealed blobs of appeals are for (their associated data). */
#define AD_APPEAL   "appeal"          /* ID number, reason, details */
#define AD_CHECK    "appeal-check"    /* a check's finding */
#define AD_DECISION "appeal-decision" /* a decision's reason */

static const char *const states[] = {"submitted", "assigned", "checking", "upheld", "rejected", "closed"};

bool ss_appeal_state_is_valid(const char *s)
{
	for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++)
		if (!strcmp(s, states[i]))
			return true;
	return false;
}

/* Text of 1..max bytes: clean text, or with line breaks when multiline. */
static enum ss_err check_text(const char *s, size_t max, bool multiline, const char *field)
{
	size_t n = s ? strlen(s) : 0;
	if (n == 0 || n > max)
		return ss_fail(SS_INVALID, field, "%s must be 1 to %zu bytes of text", field, max);
	if (!multiline && !ss_utf8_is_clean_text(s, n))
		return ss_fail(SS_INVALID, field, "%s must be text without control characters", field);
	return SS_OK;
}

enum ss_err ss_appeal_caller(struct ss_app *app, const char *id_number, const char *name, int64_t *person_id)
{
	struct ss_idcard id;
	struct ss_person_row person;
	struct ss_arena a;
	char clean[SS_NAME_MAX + 1];
	enum ss_err err;

	if ((err = ss_idcard_parse(id_number, strlen(id_number), ss_time_now(), &id)) ||
	    (err = ss_name_check(name, strlen(name), "name", clean)))
		return err;
	ss_arena_init(&a);
	if (!(err = ss_identity_real_name(app, clean, &id, &a, &person)))
		*person_id = person.person_id;
	ss_arena_release_secret(&a);
	return err;
}

/* The audit entry of a transition (in the caller's transaction). */
static enum ss_err audit(struct ss_app *app, enum ss_actor actor, int64_t actor_id, const char *action,
                         const struct ss_appeal_row *row, const char *kind)
{
	char why[32], detail[192];
	snprintf(why, sizeof(why), "appeal:%lld", (long long)row->appeal_id);
	snprintf(detail, sizeof(detail), "{\"appeal_id\":%lld,\"state\":\"%s\"%s%s%s}", (long long)row->appeal_id,
	         row->state, kind && *kind ? ",\"kind\":\"" : "", kind && *kind ? kind : "", kind && *kind ? "\"" : "");
	struct ss_audit_event e = {.actor = actor,
	                           .actor_id = actor_id,
	                           .action = action,
	                           .subject = row->person_id,
	                           .why = why,
	                           .detail = detail};
	return ss_audit(app, &e);
}

/* Keeps a transition: its event and its audit entry. */
static enum ss_err transition(struct ss_app *app, enum ss_actor actor, int64_t actor_id, const char *action,
                              const char *kind, const struct ss_appeal_row *row, int64_t now)
{
	struct ss_appeal_event_row ev = {.appeal_id = row->appeal_id,
	                                 .at = now,
	                                 .action = action,
	                                 .kind = kind ? kind : "",
	                                 .state = row->state,
	                                 .actor = ss_actor_name(actor),
	                                 .actor_id = actor_id};
	char name[32];
	snprintf(name, sizeof(name), "appeal.%s", action);
	enum ss_err err = app->store->ops->appeal_event_insert(app->store, &ev);
	return err ? err : audit(app, actor, actor_id, name, row, kind);
}

enum ss_err ss_appeal_file(struct ss_app *app, struct ss_appeal_filing *f, int64_t now)
{
	struct ss_arena a;
	struct ss_appeal_row row = {.state = "submitted", .filed_at = now, .due_at = now + SS_APPEAL_DUE_SECS};
	const char *id_number;
	enum ss_err err;

	if ((err = check_text(f->reason, SS_APPEAL_REASON_MAX, false, "reason")) ||
	    (err = check_text(f->details, SS_APPEAL_DETAILS_MAX, true, "details")) ||
	    (f->citizen_id && (err = ss_channel_check(f->channel))))
		return err;
	ss_arena_init(&a);
	if (f->citizen_id) {
		struct ss_citizen_row c;
		const char *fields[3];
		if ((err = app->store->ops->citizen_by_id(app->store, f->citizen_id, &a, &c)) ||
		    (err = ss_pii_open(app, SS_PII_CITIZEN, c.sealed, &a, fields, 3)))
			goto out;
		id_number = fields[1];
		row.person_id = c.person_id;
		row.citizen_id = f->citizen_id;
		row.channel = f->channel;
		row.filed_by = "citizen";
		row.filed_by_id = f->citizen_id;
	} else {
		struct ss_idcard id;
		if ((err = ss_appeal_caller(app, f->id_number, f->name, &row.person_id)) ||
		    (err = ss_idcard_parse(f->id_number, strlen(f->id_number), now, &id)))
			goto out;
		id_number = ss_arena_strdup(&a, id.number);
		row.channel = "hotline";
		row.filed_by = "staff";
		row.filed_by_id = f->staff_id;
	}
	const char *sealed[3] = {id_number, f->reason, f->details};
	if ((err = ss_pii_seal(app, AD_APPEAL, sealed, 3, &a, &row.sealed)))
		goto out;
	struct ss_store *s = app->store;
	if ((err = s->ops->begin(s)))
		goto out;
	if ((err = s->ops->appeal_insert(s, &row, &row.appeal_id)) ||
	    (err = transition(app, f->citizen_id ? SS_ACTOR_CITIZEN : SS_ACTOR_STAFF, row.filed_by_id, "filed", NULL,
	                      &row, now))) {
		s->ops->rollback(s);
		goto out;
	}
	if ((err = s->ops->commit(s)))
		goto out;
	f->appeal_id = row.appeal_id;
	f->person_id = row.person_id;
	f->due_at = row.due_at;
	ss_log_info("appeal_filed", "appeal_id=%lld person_id=%lld channel=%s", (long long)row.appeal_id,
	            (long long)row.person_id, row.channel);
out:
	ss_arena_release_secret(&a); /* the texts, sealed and in clear */
	return err;
}

/* One sealed text, opened; NULL for an empty blob. */
static enum ss_err open_text(struct ss_app *app, const char *ad, struct ss_blob b, struct ss_arena *a, const char **out)
{
	*out = NULL;
	return b.n ? ss_pii_open(app, ad, b, a, out, 1) : SS_OK;
}

enum ss_err ss_appeal_open(struct ss_app *app, const struct ss_appeal_row *row, struct ss_arena *a,
                           struct ss_appeal *out)
{
	const char *f[3];
	enum ss_err err;
	memset(out, 0, sizeof(*out));
	out->row = *row;
	if ((err = ss_pii_open(app, AD_APPEAL, row->sealed, a, f, 3)) ||
	    (err = open_text(app, AD_CHECK, row->data_check, a, &out->data_check)) ||
	    (err = open_text(app, AD_CHECK, row->grass_check, a, &out->grass_check)) ||
	    (err = open_text(app, AD_DECISION, row->decision_sealed, a, &out->decision_reason)))
		return err;
	out->id_number = f[0];
	out->reason = f[1];
	out->details = f[2];
	return SS_OK;
}

enum ss_err ss_appeal_get(struct ss_app *app, int64_t appeal_id, struct ss_arena *a, struct ss_appeal *out)
{
	struct ss_appeal_row row;
	enum ss_err err = app->store->ops->appeal_get(app->store, appeal_id, a, &row);
	if (err == SS_NOT_FOUND)
		return ss_fail(SS_NOT_FOUND, NULL, "no such appeal");
	return err ? err : ss_appeal_open(app, &row, a, out);
}

/*
 * A handler's step on an appeal, in one transaction: reads the appeal (under
 * the store's write lock, so two handlers cannot both win), lets step check
 * and change it, writes it and its transition.
 */
struct step {
	int64_t staff_id;
	const char *action, *kind;
	enum ss_err (*fn)(struct ss_app *app, struct step *st, struct ss_appeal_row *row, struct ss_arena *a,
	                  int64_t now);
	bool unchanged; /* set by fn: nothing to write (a claim repeated) */
	const void *arg;
};

static enum ss_err run_step(struct ss_app *app, int64_t appeal_id, struct step *st, int64_t now, int64_t *person_id)
{
	struct ss_store *s = app->store;
	struct ss_arena a;
	struct ss_appeal_row row;
	enum ss_err err;

	ss_arena_init(&a);
	row.person_id = 0; /* until the appeal is read */
	if ((err = s->ops->begin(s)))
		goto out;
	err = s->ops->appeal_get(s, appeal_id, &a, &row);
	if (err == SS_NOT_FOUND)
		err = ss_fail(SS_NOT_FOUND, NULL, "no such appeal");
	if (!err && person_id)
		*person_id = row.person_id;
	if (err || (err = st->fn(app, st, &row, &a, now)) ||
	    (!st->unchanged &&
	     ((err = s->ops->appeal_update(s, &row)) ||
	      (err = transition(app, SS_ACTOR_STAFF, st->staff_id, st->action, st->kind, &row, now))))) {
		s->ops->rollback(s);
		if (row.person_id > 0) /* a decision may have coloured them in memory already */
			ss_assign_resync(app, row.person_id);
		goto out;
	}
	if ((err = s->ops->commit(s))) {
		ss_assign_resync(app, row.person_id);
		goto out;
	}
	if (!st->unchanged)
		ss_log_info("appeal_step", "appeal_id=%lld action=%s state=%s staff_id=%lld", (long long)appeal_id,
		            st->action, row.state, (long long)st->staff_id);
out:
	ss_arena_release_secret(&a); /* the findings and the reason, in clear */
	return err;
}

/* Only the handler it is assigned to; and only in one of the states given. */
static enum ss_err mine(const struct step *st, const struct ss_appeal_row *row)
{
	if (row->handler_id != st->staff_id)
		return ss_fail(SS_DENIED, NULL, "this appeal is not assigned to you");
	return SS_OK;
}

static enum ss_err claim_fn(struct ss_app *app, struct step *st, struct ss_appeal_row *row, struct ss_arena *a,
                            int64_t now)
{
	if (row->handler_id == st->staff_id && (!strcmp(row->state, "assigned") || !strcmp(row->state, "checking"))) {
		st->unchanged = true; /* claiming one's own again */
		return SS_OK;
	}
	if (row->handler_id && row->handler_id != st->staff_id)
		return ss_fail(SS_CONFLICT, NULL, "this appeal is assigned to another handler");
	if (strcmp(row->state, "submitted") != 0)
		return ss_fail(SS_CONFLICT, NULL, "an appeal %s cannot be claimed", row->state);
	row->state = "assigned";
	row->handler_id = st->staff_id;
	return SS_OK;
}

enum ss_err ss_appeal_claim(struct ss_app *app, int64_t appeal_id, int64_t staff_id, int64_t now, int64_t *person_id)
{
	struct step st = {.staff_id = staff_id, .action = "claimed", .fn = claim_fn};
	return run_step(app, appeal_id, &st, now, person_id);
}

static enum ss_err check_fn(struct ss_app *app, struct step *st, struct ss_appeal_row *row, struct ss_arena *a,
                            int64_t now)
{
	enum ss_err err;
	struct ss_blob b;
	const char *text = st->arg;
	if ((err = mine(st, row)))
		return err;
	if (strcmp(row->state, "assigned") && strcmp(row->state, "checking"))
		return ss_fail(SS_CONFLICT, NULL, "an appeal %s takes no checks", row->state);
	if ((err = ss_pii_seal(app, AD_CHECK, &text, 1, a, &b)))
		return err;
	if (!strcmp(st->kind, "data"))
		row->data_check = b;
	else
		row->grass_check = b;
	row->state = "checking";
	return SS_OK;
}

enum ss_err ss_appeal_check(struct ss_app *app, int64_t appeal_id, int64_t staff_id, const char *kind,
                            const char *result, int64_t now, int64_t *person_id)
{
	enum ss_err err;
	if (!kind || (strcmp(kind, "data") && strcmp(kind, "grassroots")))
		return ss_fail(SS_INVALID, "kind", "kind must be data or grassroots");
	if ((err = check_text(result, SS_APPEAL_CHECK_MAX, true, "result")))
		return err;
	struct step st = {.staff_id = staff_id, .action = "checked", .kind = kind, .fn = check_fn, .arg = result};
	return run_step(app, appeal_id, &st, now, person_id);
}

static enum ss_err decide_fn(struct ss_app *app, struct step *st, struct ss_appeal_row *row, struct ss_arena *a,
                             int64_t now)
{
	const struct ss_appeal_decision *d = st->arg;
	enum ss_err err;
	if ((err = mine(st, row)))
		return err;
	if (strcmp(row->state, "checking") || !row->data_check.n || !row->grass_check.n)
		return ss_fail(SS_CONFLICT, NULL,
		               "both the data check and the grassroots check must be recorded first");
	if ((err = ss_pii_seal(app, AD_DECISION, &d->reason, 1, a, &row->decision_sealed)))
		return err;
	row->state = d->upheld ? "upheld" : "rejected";
	row->decision = row->state;
	row->decided_at = now;
	if (!d->upheld)
		return SS_OK;
	/* the colour, as evidence: a manual_override record from the appeal, re-evaluated in this transaction */
	const char *f[3];
	if ((err = ss_pii_open(app, AD_APPEAL, row->sealed, a, f, 3)))
		return err;
	struct ss_status_by_hand h = {
	        .id_number = f[0],
	        .color = d->color,
	        .reason = ss_arena_printf(a, "申诉 #%lld 核实: %s", (long long)row->appeal_id, d->reason),
	        .until = d->until,
	        .staff_id = st->staff_id,
	        .source = "appeal",
	};
	if ((err = ss_status_set_by_hand(app, &h, now)))
		return err;
	row->color = d->color;
	row->until = h.until;
	return SS_OK;
}

enum ss_err ss_appeal_decide(struct ss_app *app, int64_t appeal_id, int64_t staff_id,
                             const struct ss_appeal_decision *d, int64_t now, int64_t *person_id)
{
	int c;
	enum ss_err err;
	if ((err = check_text(d->reason, SS_APPEAL_DECISION_MAX, false, "reason")))
		return err;
	if (d->upheld && (!d->color || !ss_color_parse(d->color, &c)))
		return ss_fail(SS_INVALID, "color", "color must be green, yellow or red");
	if (d->upheld && d->until && (d->until <= now || d->until > now + SS_STATUS_HAND_MAX_DAYS * 86400))
		return ss_fail(SS_INVALID, "until", "until must be within the next %d days", SS_STATUS_HAND_MAX_DAYS);
	struct step st = {.staff_id = staff_id,
	                  .action = "decided",
	                  .kind = d->upheld ? "upheld" : "rejected",
	                  .fn = decide_fn,
	                  .arg = d};
	return run_step(app, appeal_id, &st, now, person_id);
}

static enum ss_err close_fn(struct ss_app *app, struct step *st, struct ss_appeal_row *row, struct ss_arena *a,
                            int64_t now)
{
	enum ss_err err;
	if ((err = mine(st, row)))
		return err;
	if (strcmp(row->state, "upheld") && strcmp(row->state, "rejected"))
		return ss_fail(SS_CONFLICT, NULL, "only a decided appeal can be closed");
	row->state = "closed";
	return SS_OK;
}

enum ss_err ss_appeal_close(struct ss_app *app, int64_t appeal_id, int64_t staff_id, int64_t now, int64_t *person_id)
{
	struct step st = {.staff_id = staff_id, .action = "closed", .fn = close_fn};
	return run_step(app, appeal_id, &st, now, person_id);
}

enum ss_err ss_appeal_counts(struct ss_app *app, int64_t now, struct ss_appeal_counts *out)
{
	return app->store->ops->appeal_counts(app->store, now, out);
}
