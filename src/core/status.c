/* status: colours set by hand and the resident's view of their colour (see status.h). */
#include "core/status.h"

#include <stdio.h>
#include <string.h>

#include "base/buf.h"
#include "base/log.h"
#include "base/str.h"
#include "core/assign.h"
#include "core/holders.h"
#include "core/idcard.h"
#include "core/pii.h"
#include "core/records.h"
#include "core/registry.h"
#include "crypto/crypto.h"
#include "json/json.h"

enum ss_err ss_status_set_by_hand(struct ss_app *app, struct ss_status_by_hand *h, int64_t now)
{
	struct ss_idcard id;
	struct ss_person_row person;
	struct ss_record r;
	struct ss_arena a;
	int c;
	int64_t until = h->until ? h->until : now + SS_STATUS_HAND_DAYS * 86400;
	uint8_t raw[16];
	char record_id[SS_RECORD_ID_MAX + 1], hex[33];
	enum ss_err err;
	const char *source = h->source ? h->source : "staff";

	if ((err = ss_idcard_parse(h->id_number, strlen(h->id_number), now, &id)))
		return err;
	if (!ss_color_parse(h->color, &c))
		return ss_fail(SS_INVALID, "color", "color must be green, yellow or red");
	size_t n = strlen(h->reason);
	if (n == 0 || n > SS_RECORD_REASON_MAX || !ss_utf8_is_clean_text(h->reason, n))
		return ss_fail(SS_INVALID, "reason", "reason must be 1 to %d bytes of text", SS_RECORD_REASON_MAX);
	if (until <= now || until > now + SS_STATUS_HAND_MAX_DAYS * 86400)
		return ss_fail(SS_INVALID, "until", "until must be within the next %d days", SS_STATUS_HAND_MAX_DAYS);
	if ((err = ss_random(raw, sizeof(raw))))
		return err;
	ss_hex_encode(raw, sizeof(raw), hex);
	/* who set it stays with the record, sealed: the resident sees the reason, not the staff member */
	snprintf(record_id, sizeof(record_id), "%s:%lld:%s", source, (long long)h->staff_id, hex);

	struct ss_buf attrs;
	struct ss_jw w;
	ss_buf_init(&attrs, 4 * SS_RECORD_REASON_MAX);
	ss_jw_init(&w, &attrs);
	ss_jw_obj_begin(&w);
	ss_jw_kstr(&w, "color", ss_color_name(c));
	ss_jw_ktime(&w, "until", until);
	ss_jw_kstr(&w, "reason", h->reason);
	ss_jw_obj_end(&w);
	ss_arena_init(&a);
	struct ss_store *s = app->store;
	if ((err = ss_jw_finish(&w)) || (err = ss_record_build(record_id, source, SS_RECORD_MANUAL_OVERRIDE, id.number,
	                                                       now, ss_buf_str(&attrs), now, &r, &a)))
		goto out;
	if ((err = ss_registry_find(app, id.number, &a, &person)))
		goto out;
	/* the record and the colour it gives, together: an answered change survives a crash whole */
	if ((err = s->ops->begin(s)))
		goto out;
	if ((err = ss_record_put(app, &r, now)) ||
	    (err = ss_assign_person(app, person.idx, person.person_id, now, NULL))) {
		s->ops->rollback(s);
		ss_assign_resync(app, person.person_id);
		goto out;
	}
	if ((err = s->ops->commit(s))) {
		ss_assign_resync(app, person.person_id);
		goto out;
	}
	h->until = until;
	h->person_id = person.person_id;
	ss_log_info("status_set", "person_id=%lld color=%s staff_id=%lld", (long long)person.person_id,
	            ss_color_name(c), (long long)h->staff_id);
out:
	ss_arena_release(&a);
	ss_buf_release(&attrs);
	return err;
}

enum ss_err ss_status_of_person(struct ss_app *app, int64_t person_id, int64_t default_since, struct ss_arena *a,
                                struct ss_status_view *out)
{
	struct ss_status_row row;
	memset(out, 0, sizeof(*out));
	enum ss_err err = app->store->ops->status_get(app->store, person_id, a, &row);
	out->rule_set = "";
	out->fired = "[]";
	if (err == SS_NOT_FOUND) {
		out->color = SS_GREEN;
		out->since = default_since;
		return SS_OK;
	}
	if (err)
		return err;
	out->color = row.color;
	out->since = row.since;
	out->nreasons = 1;
	out->reasons[0].rule = row.rule;
	out->reasons[0].text = row.reason;
	out->review_at = row.review_at;
	out->rule_set = row.rule_set;
	out->fired = row.fired;
	return SS_OK;
}

struct find_override {
	int64_t at;
	struct ss_arena *out;
	const char *reason;
};

static enum ss_err take_override(void *ctx, const struct ss_record *r)
{
	struct find_override *f = ctx;
	/* of two at the same time the later one counts, as in the rules */
	if (r->kind == SS_RECORD_MANUAL_OVERRIDE && r->occurred_at == f->at)
		f->reason =
		        r->attr.manual_override.reason ? ss_arena_strdup(f->out, r->attr.manual_override.reason) : NULL;
	return SS_OK;
}

enum ss_err ss_status_override_reason(struct ss_app *app, int64_t person_id, int64_t occurred_at, struct ss_arena *a,
                                      const char **reason)
{
	struct ss_person_row person;
	struct ss_arena tmp;
	struct find_override f = {.at = occurred_at, .out = a};
	*reason = NULL;
	ss_arena_init(&tmp);
	enum ss_err err = app->store->ops->person_by_id(app->store, person_id, &tmp, &person);
	if (err == SS_NOT_FOUND)
		err = SS_OK;
	else if (!err)
		err = ss_records_of_person(app, person.idx, &tmp, take_override, &f);
	ss_arena_release_secret(&tmp);
	if (!err)
		*reason = f.reason;
	return err;
}
