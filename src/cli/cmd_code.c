/*
 * cmd_code: `suishen code --data DIR --id-number N` prints a registered
 * resident's current code and draws it as a QR in the terminal, for
 * operators helping someone without a phone at hand.
 */
#include <stdio.h>
#include <string.h>

#include "base/buf.h"
#include "base/time.h"
#include "cli/cli.h"
#include "core/codes.h"
#include "core/idcard.h"
#include "core/pii.h"
#include "qr/qr.h"

int ss_cmd_code(int argc, char **argv)
{
	static const char *const names[] = {"data", "id-number", NULL};
	const char *values[2] = {NULL}, *rest[1];
	int nrest;
	struct ss_idcard id;

	if (!ss_cli_options("code", argc, argv, names, values, rest, &nrest, 0) || !values[0] || !values[1])
		return ss_cli_usage("code", "--data DIR --id-number ID_NUMBER");
	if (ss_idcard_parse(values[1], strlen(values[1]), ss_time_now(), &id))
		return ss_cli_fail("code", SS_INVALID);
	struct ss_app *app = ss_cli_open("code", values[0], false);
	if (!app)
		return 1;
	uint8_t idx[SS_INDEX_LEN];
	struct ss_citizen_row c;
	struct ss_arena a;
	char code[SS_CODE_LEN + 1];
	int64_t issued_at;
	struct ss_qr *qr = NULL;
	struct ss_buf out;
	ss_buf_init(&out, 1 << 20);
	ss_arena_init(&a);
	ss_pii_index(app, id.number, idx);
	enum ss_err err = app->store->ops->citizen_by_idx(app->store, idx, &a, &c);
	if (err == SS_NOT_FOUND)
		err = ss_fail(SS_NOT_FOUND, "id_number", "no registered resident has this ID number");
	if (!err && !(err = ss_codes_issue(app, c.citizen_id, code, &issued_at)) && !(err = ss_qr_encode(code, &qr)) &&
	    !(err = ss_qr_terminal(qr, &out))) {
		char exp[SS_TIME_TEXT];
		ss_time_format(issued_at + app->cfg.code_ttl, exp);
		fputs(ss_buf_str(&out), stdout);
		printf("%s\nvalid until %s\n", code, exp);
	}
	ss_qr_free(qr);
	ss_buf_release(&out);
	ss_arena_release(&a);
	ss_app_close(app);
	return err ? ss_cli_fail("code", err) : 0;
}
