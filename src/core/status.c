/* status: colours set by hand and the resident's view of their colour (see status.h). */
#include "core/status.h"

#include <string.h>

#include "base/log.h"
#include "base/str.h"
#include "base/time.h"
#include "core/holders.h"
#include "core/idcard.h"
#include "core/pii.h"

enum ss_err ss_status_set_by_hand(struct ss_app *app, const char *id_number, const char *color, const char *reason,
                                  int64_t staff_id)
{
	struct ss_idcard id;
	struct ss_person_row person;
	struct ss_arena a;
	int c;
	enum ss_err err;

	if ((err = ss_idcard_parse(id_number, strlen(id_number), ss_time_now(), &id)))
		return err;
	if (!ss_color_parse(color, &c))
		return ss_fail(SS_INVALID, "color", "color must be green, yellow or red");
	size_t n = strlen(reason);
	if (n == 0 || n > SS_REASON_MAX || !ss_utf8_is_clean_text(reason, n))
		return ss_fail(SS_INVALID, "reason", "reason must be 1 to %d bytes of text", SS_REASON_MAX);

	uint8_t idx[SS_INDEX_LEN];
	ss_pii_index(app, id.number, idx);
	ss_arena_init(&a);
	err = app->store->ops->person_get(app->store, idx, &a, &person);
	if (err == SS_NOT_FOUND)
		err = ss_fail(SS_NOT_FOUND, "id_number", "no person with this ID number in the population registry");
	if (!err) {
		struct ss_status_row row = {.person_id = person.person_id,
		                            .color = c,
		                            .since = ss_time_now(),
		                            .rule = "manual",
		                            .reason = reason,
		                            .set_by = staff_id};
		err = app->store->ops->status_put(app->store, &row);
		if (!err && app->holders)
			ss_holders_set_color(app->holders, row.person_id, c, row.since);
		if (!err)
			ss_log_info("status_set", "person_id=%lld color=%s staff_id=%lld", (long long)row.person_id,
			            ss_color_name(c), (long long)staff_id);
	}
	ss_arena_release(&a);
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
