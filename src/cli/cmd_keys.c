/*
 * cmd_keys: `suishen keys rotate|list|retire|reseal|master --data DIR`: the
 * key ring. reseal moves what old data keys sealed to the current one and
 * retires them (core/reseal.h); master replaces the master key (core/app.h).
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/mem.h"
#include "base/str.h"
#include "base/time.h"
#include "cli/cli.h"
#include "core/reseal.h"

static enum ss_err print_key(void *ctx, const struct ss_key_row *row)
{
	char t[SS_TIME_TEXT];
	ss_time_format(row->created_at, t);
	printf("%lld\t%s\t%s\t%s\n", (long long)row->key_id, row->purpose, row->state, t);
	return SS_OK;
}

struct progress {
	int64_t started_us, printed_us;
	int64_t checked; /* re-sealed by the second walk */
};

static void print_ids(const uint32_t *ids, int n)
{
	for (int i = 0; i < n; i++)
		printf("%s%u", i ? ", " : "", ids[i]);
}

/* A line per column of the first walk, and one a second while a column is long; the second walk is summed up. */
static void on_progress(void *ctx, enum ss_reseal_pass pass, const char *column, int64_t rows, int64_t resealed,
                        bool done)
{
	struct progress *p = ctx;
	int64_t now = ss_time_mono_us();
	if (pass == SS_RESEAL_PASS_CHECK) {
		p->checked += done ? resealed : 0;
		return;
	}
	if (!done && now - p->printed_us < 1000000)
		return;
	p->printed_us = now;
	printf("%s: %lld rows, %lld re-sealed%s\n", column, (long long)rows, (long long)resealed, done ? "" : " ...");
	fflush(stdout);
}

static void on_waiting(void *ctx, uint32_t key_id, int64_t seconds)
{
	printf("waiting %lld s for running servers to load data key %u (they reload keys every 10 s; SIGHUP makes it "
	       "at once)\n",
	       (long long)seconds, key_id);
	fflush(stdout);
}

static enum ss_err reseal(struct ss_app *app, int batch)
{
	struct progress p = {.started_us = ss_time_mono_us(), .printed_us = ss_time_mono_us()};
	struct ss_reseal_report rep = {
	        .batch = batch, .settle = SS_RESEAL_SETTLE, .progress = on_progress, .waiting = on_waiting, .ctx = &p};
	struct ss_reseal_result res;
	printf("re-sealing under data key %u what older data keys sealed\n",
	       ss_keyring_current_id(app->keys, SS_KEY_DATA));
	fflush(stdout);
	enum ss_err err = ss_reseal_run(app, &rep, &res);
	if (err)
		return err;
	if (!res.nretired) {
		printf("nothing to re-seal: data key %u is the only one in use\n", res.current);
		return SS_OK;
	}
	double secs = (double)(ss_time_mono_us() - p.started_us) / 1e6;
	printf("written meanwhile under an old key, and re-sealed: %lld\n", (long long)p.checked);
	printf("re-sealed %lld of %lld sealed values under data key %u in %.1f s (%.0f read/s); data key%s ",
	       (long long)res.resealed, (long long)res.rows, res.current, secs,
	       secs > 0 ? (double)res.rows / secs : 0.0, res.nretired > 1 ? "s" : "");
	print_ids(res.retired, res.nretired);
	printf(" retired\n");
	return SS_OK;
}

static enum ss_err replace_master(struct ss_app *app)
{
	uint8_t next[SS_MASTER_KEY_LEN];
	char hex[2 * SS_MASTER_KEY_LEN + 1];
	bool given;
	int n = 0;
	enum ss_err err = ss_app_next_master(next, &given);
	if (err)
		return err;
	bool print = app->master_from_env && !given;
	if (print) {
		/* handed over before the store names it: if it cannot be printed, nothing changes */
		ss_hex_encode(next, sizeof(next), hex);
		printf("%s\n", hex);
		ss_wipe(hex, sizeof(hex));
		if (fflush(stdout) != 0 || ferror(stdout)) {
			ss_wipe(next, sizeof(next));
			return ss_fail(SS_INTERNAL, NULL, "cannot print the new master key: nothing was changed");
		}
	}
	err = ss_app_replace_master(app, next, &n);
	ss_wipe(next, sizeof(next));
	if (err) {
		if (print)
			fprintf(stderr, "suishen keys: the key printed above opens nothing; the old one still does\n");
		return err;
	}
	if (!app->master_from_env)
		printf("master key replaced (%d keys re-wrapped): %s/master.key holds the new one; back it up, the old "
		       "one "
		       "opens nothing now\n",
		       n, app->data_dir);
	else
		fprintf(stderr,
		        "master key replaced (%d keys re-wrapped) by the %s: start every node with it as "
		        "SUISHEN_MASTER_KEY "
		        "(running ones go on, but load no new key until they do)\n",
		        n, print ? "key printed above" : "one in SUISHEN_NEW_MASTER_KEY");
	char path[4096];
	snprintf(path, sizeof(path), "%s/master.key", app->data_dir);
	if (app->master_from_env && access(path, F_OK) == 0)
		fprintf(stderr,
		        "suishen keys: warning: %s holds the old master key (SUISHEN_MASTER_KEY came first): "
		        "remove it\n",
		        path);
	return SS_OK;
}

int ss_cmd_keys(int argc, char **argv)
{
	static const char *const names[] = {"data", "purpose", "id", "batch", NULL};
	const char *values[4] = {NULL}, *rest[1];
	const char *usage = "rotate --data DIR [--purpose code|data]\n"
	                    "       suishen keys list --data DIR\n"
	                    "       suishen keys retire --data DIR --id KEY_ID\n"
	                    "       suishen keys reseal --data DIR [--batch ROWS]\n"
	                    "       suishen keys master --data DIR";
	enum { ROTATE, LIST, RETIRE, RESEAL, MASTER };
	static const char *const verbs[] = {"rotate", "list", "retire", "reseal", "master", NULL};
	int nrest, verb = 0;

	if (!ss_cli_options("keys", argc, argv, names, values, rest, &nrest, 1) || nrest != 1 || !values[0])
		return ss_cli_usage("keys", usage);
	while (verbs[verb] && strcmp(rest[0], verbs[verb]))
		verb++;
	if (!verbs[verb])
		return ss_cli_usage("keys", usage);
	enum ss_key_purpose purpose = SS_KEY_CODE;
	if (values[1] && (!ss_key_purpose_parse(values[1], &purpose) || purpose == SS_KEY_INDEX)) {
		fprintf(stderr, "suishen keys: --purpose must be code or data\n");
		return 2;
	}
	long long id = 0, batch = SS_RESEAL_BATCH;
	if (verb == RETIRE && (!values[2] || !ss_str_to_ll(values[2], 1, UINT32_MAX, &id)))
		return ss_cli_usage("keys", usage);
	if (values[3] && !ss_str_to_ll(values[3], 1, SS_RESEAL_BATCH_MAX, &batch)) {
		fprintf(stderr, "suishen keys: --batch must be 1 to %d rows\n", SS_RESEAL_BATCH_MAX);
		return 2;
	}

	struct ss_app *app = ss_cli_open("keys", values[0], false);
	if (!app)
		return 1;
	enum ss_err err = SS_OK;
	if (verb == LIST) {
		printf("key_id\tpurpose\tstate\tcreated_at\n");
		err = app->store->ops->key_each(app->store, print_key, NULL);
	} else if (verb == ROTATE) {
		uint32_t new_id;
		err = ss_app_rotate_key(app, purpose, &new_id);
		if (!err)
			printf("key %u is now the current %s key\n", new_id, ss_key_purpose_name(purpose));
	} else if (verb == RETIRE) {
		err = ss_app_retire_key(app, (uint32_t)id);
		if (!err)
			printf("key %lld is retired\n", id);
	} else if (verb == RESEAL) {
		err = reseal(app, (int)batch);
	} else {
		err = replace_master(app);
	}
	ss_app_close(app);
	return err ? ss_cli_fail("keys", err) : 0;
}
