/* codes: issuing codes and answering scans (see codes.h). */
#include "core/codes.h"

#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "base/mem.h"
#include "base/time.h"
#include "core/dependents.h"
#include "core/holders.h"
#include "core/pii.h"

const char *ss_scan_result_name(int result)
{
	static const char *const names[] = {"green", "yellow", "red", "expired", "invalid", "unknown"};
	return result >= 0 && result <= SS_RESULT_UNKNOWN ? names[result] : "invalid";
}

enum ss_err ss_codes_issue(struct ss_app *app, int64_t citizen_id, char code[SS_CODE_LEN + 1], int64_t *issued_at)
{
	struct ss_citizen_row c;
	struct ss_arena a;
	ss_arena_init(&a);
	enum ss_err err = app->store->ops->citizen_by_id(app->store, citizen_id, &a, &c);
	ss_arena_release(&a);
	if (err == SS_NOT_FOUND)
		return ss_fail(SS_NOT_FOUND, NULL, "no such resident");
	if (err)
		return err;
	*issued_at = ss_time_now();
	return ss_code_issue(app->keys, (uint32_t)c.person_id, 0, *issued_at, code);
}

enum ss_err ss_codes_issue_for(struct ss_app *app, int64_t person_id, int64_t presenter_id, char code[SS_CODE_LEN + 1],
                               int64_t *issued_at)
{
	*issued_at = ss_time_now();
	return ss_code_issue(app->keys, (uint32_t)person_id, (uint32_t)presenter_id, *issued_at, code);
}

void ss_codes_check(struct ss_app *app, const char *code, size_t n, int64_t now, struct ss_code_check *out)
{
	struct ss_code_claims claims;
	int color;
	int64_t since;

	memset(out, 0, sizeof(*out));
	out->result = SS_RESULT_INVALID;
	out->relation = -1;
	if (n > SS_CODE_INPUT_MAX || ss_code_open(app->keys, code, n, &claims))
		return;
	out->key_id = claims.key_id;
	out->issued_at = claims.issued_at;
	if (claims.issued_at > now + SS_CODE_FUTURE_SKEW)
		return;
	out->person_id = claims.person_id;
	out->presenter_id = claims.presenter_id;
	out->fingerprint = claims.fingerprint;
	if (now >= claims.issued_at + app->cfg.code_ttl)
		out->result = SS_RESULT_EXPIRED;
	else if (!app->holders || !ss_holders_get(app->holders, claims.person_id, &color, &since))
		out->result = SS_RESULT_UNKNOWN;
	else if (claims.presenter_id && !(app->dependents && ss_dependents_live(app->dependents, claims.presenter_id,
	                                                                        claims.person_id, now, &out->relation)))
		out->result = SS_RESULT_UNKNOWN; /* a relative's code whose link is gone: from memory, no row read */
	else
		out->result = color;
	if (out->result > SS_RESULT_RED)
		out->relation = -1;
}

/*
 * A holder's particulars opened into plain (on the stack of the caller, not
 * in an arena: a scan allocates nothing for this): fields[0] the name,
 * fields[1] the ID number. False if the holder has none. The caller wipes plain.
 */
static bool open_holder(struct ss_app *app, int64_t person_id, char plain[SS_PII_CITIZEN_MAX + 1],
                        const char *fields[3])
{
	uint8_t sealed[SS_SEAL_OVERHEAD + SS_PII_CITIZEN_MAX];
	size_t n;
	bool ok = ss_holders_sealed(app->holders, person_id, sealed, sizeof(sealed), &n) &&
	          ss_pii_open_into(app, SS_PII_CITIZEN, (struct ss_blob){sealed, n}, plain, SS_PII_CITIZEN_MAX + 1,
	                           fields, 3) == SS_OK;
	ss_wipe(sealed, sizeof(sealed));
	return ok;
}

/* Fills in what the scene may see of the holder. */
static void show_person(struct ss_app *app, const struct ss_scene *scene, int64_t person_id, struct ss_scan_answer *out)
{
	char plain[SS_PII_CITIZEN_MAX + 1];
	const char *fields[3];
	if (open_holder(app, person_id, plain, fields)) {
		out->has_person = true;
		if (scene->sees & SS_SEE_NAME)
			snprintf(out->name, sizeof(out->name), "%s", fields[0]);
		else
			ss_mask_name(fields[0], out->name);
		if (scene->sees & SS_SEE_ID_MASKED) {
			out->has_id = true;
			ss_mask_id(fields[1], out->id_masked);
		}
	}
	ss_wipe(plain, sizeof(plain));
}

/* Fills in who presents a relative's code: the guardian's name, masked whatever the scene, and the relation. */
static void show_presenter(struct ss_app *app, int64_t presenter_id, int relation, struct ss_scan_answer *out)
{
	char plain[SS_PII_CITIZEN_MAX + 1];
	const char *fields[3];
	if (open_holder(app, presenter_id, plain, fields)) {
		out->has_presenter = true;
		ss_mask_name(fields[0], out->presenter_name);
		out->relation = ss_relation_name(relation);
	}
	ss_wipe(plain, sizeof(plain));
}

enum ss_err ss_codes_scan(struct ss_app *app, const struct ss_terminal *t, const char *code, size_t n,
                          struct ss_scan_answer *out, ss_scan_done_fn done, void *ctx)
{
	struct ss_code_check check;
	int64_t now_ms = ss_time_now_ms();

	memset(out, 0, sizeof(*out));
	ss_codes_check(app, code, n, now_ms / 1000, &check);
	out->result = check.result;
	out->scanned_at_ms = now_ms;
	if (check.result <= SS_RESULT_RED)
		show_person(app, t->scene, check.person_id, out);
	if (check.result <= SS_RESULT_RED && check.presenter_id)
		show_presenter(app, check.presenter_id, check.relation, out);

	struct ss_scan_row row = {
	        .terminal_id = t->terminal_id,
	        .place_id = t->place_id,
	        .scene = t->scene->id,
	        .result = check.result,
	        /* an invalid code names no one: its claims are not to be believed */
	        .person_id = check.result == SS_RESULT_INVALID ? 0 : check.person_id,
	        .presenter_id = check.result == SS_RESULT_INVALID ? 0 : check.presenter_id,
	        .key_id = check.key_id,
	        .code_issued_at = check.result == SS_RESULT_INVALID ? 0 : check.issued_at,
	        .code_fingerprint = check.result == SS_RESULT_INVALID ? 0 : check.fingerprint,
	        .scanned_at_ms = now_ms,
	        .nonce = t->nonce, /* kept with the scan: a replay after a restart is refused (core/sign.h) */
	};
	enum ss_err err = ss_scanlog_append(app->scanlog, &row, done, ctx);
	if (!err)
		out->scan_id = row.scan_id;
	return err;
}
