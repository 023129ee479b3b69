/*
 * cmd_serve: `suishen serve --data DIR --listen HOST:PORT [--code-ttl S]`:
 * serves the API until SIGTERM or SIGINT, then finishes the requests in
 * flight and exits 0. SIGHUP, and every few seconds on its own, brings the
 * key ring in step with the store (keys rotated by `suishen keys`), purges
 * expired sessions, and applies to the in-memory colours the changes of
 * colour that another process wrote to the store (`suishen import records`
 * re-evaluates the people it touched) and the rule set another process made
 * active (`suishen rules load`): a scan sees such a change at the next
 * SIGHUP, or within HOUSEKEEPING_SECONDS. The server follows the store's
 * history of changes by its change_id, so the cost is that of the changes.
 * Every second it also takes up a rule job (core/rulejob.h) that a server
 * stopped or killed part-way, or a command line that died, left unfinished.
 * Housekeeping also runs the security watcher (core/alerts.h) and signs the
 * audit log's latest entry (core/audit.h), so an entry is covered by a signed
 * checkpoint within HOUSEKEEPING_SECONDS.
 *
 * The web pages (resident, terminal, console) are served from --web DIR
 * (default: web/dist of the source tree this binary was built from), read
 * once at start; without them the API is served alone, with a warning.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api/router.h"
#include "base/log.h"
#include "base/str.h"
#include "base/time.h"
#include "cli/cli.h"
#include "core/alerts.h"
#include "core/assign.h"
#include "core/audit.h"
#include "core/holders.h"
#include "core/rulejob.h"
#include "http/pages.h"
#include "http/server.h"

#define HOUSEKEEPING_SECONDS 10
#define DRAIN_MS             10000

struct follow {
	struct ss_app *app;
	int64_t last; /* the newest change of colour applied */
	long long applied;
};

static enum ss_err apply_change(void *ctx, const struct ss_status_row *row)
{
	struct follow *f = ctx;
	if (f->app)
		ss_holders_set_color(f->app->holders, row->person_id, row->color, row->since);
	f->last = row->change_id;
	f->applied++;
	return SS_OK;
}

/* Applies the changes of colour kept since the last call (with f->app NULL: only finds the newest). */
static void follow_statuses(struct follow *f)
{
	f->applied = 0;
	if (f->app->store->ops->status_changes_after(f->app->store, f->last, apply_change, f))
		ss_log_warn("status_follow_failed", "msg=\"%s\"", ss_err_message());
	else if (f->applied)
		ss_log_info("statuses_followed", "changes=%lld last=%lld", f->applied, (long long)f->last);
}

int ss_cmd_serve(int argc, char **argv)
{
	static const char *const names[] = {"data",        "listen",         "code-ttl", "threads",
	                                    "session-ttl", "login-delay-ms", "web",      NULL};
	const char *values[7] = {NULL, "127.0.0.1:8080", "60", "0", "43200", "1000", SS_WEB_DIR}, *rest[1];
	const char *usage = "--data DIR [--listen HOST:PORT] [--code-ttl SECONDS] [--threads N] "
	                    "[--session-ttl SECONDS] [--login-delay-ms MS] [--web DIR]";
	long long code_ttl, threads, session_ttl, delay;
	int nrest;

	if (!ss_cli_options("serve", argc, argv, names, values, rest, &nrest, 0) || !values[0])
		return ss_cli_usage("serve", usage);
	if (!ss_str_to_ll(values[2], 1, 86400, &code_ttl) || !ss_str_to_ll(values[3], 0, 256, &threads) ||
	    !ss_str_to_ll(values[4], 60, 30 * 86400, &session_ttl) || !ss_str_to_ll(values[5], 1, 60000, &delay))
		return ss_cli_usage("serve", usage);

	/* the server's threads inherit this mask, so only sigwait below sees these signals */
	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	struct ss_app *app = ss_cli_open("serve", values[0], false);
	if (!app)
		return 1;
	app->cfg.code_ttl = code_ttl;
	app->cfg.session_ttl = session_ttl;
	app->cfg.login_delay_ms = delay;
	/*
	 * The holders are loaded from the store's statuses: follow the changes
	 * kept after the newest one seen before loading them (one made meanwhile
	 * is applied twice, which is harmless).
	 */
	struct follow follow = {0};
	enum ss_err err = app->store->ops->status_changes_after(app->store, 0, apply_change, &follow);
	if (!err)
		err = ss_app_start(app, true);
	if (err) {
		ss_app_close(app);
		return ss_cli_fail("serve", err);
	}

	follow.app = app;

	struct ss_pages *pages = NULL;
	if (ss_pages_load(values[6], &pages)) {
		ss_log_warn("no_pages", "dir=\"%s\" msg=\"%s\"", values[6], ss_err_message());
	} else {
		unsigned nfiles;
		size_t bytes;
		ss_pages_size(pages, &nfiles, &bytes);
		ss_log_info("pages", "dir=\"%s\" files=%u bytes=%zu", values[6], nfiles, bytes);
	}

	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	struct ss_api *api = ss_api_new(app, ncpu > 0 ? (unsigned)ncpu : 1);
	ss_api_set_pages(api, pages);
	struct ss_http_config cfg = {.listen = values[1],
	                             .threads = (unsigned)threads,
	                             .handler = ss_api_handle,
	                             .body_limit = ss_api_body_limit,
	                             .ctx = api};
	struct ss_http_server *srv;
	err = ss_http_start(&cfg, &srv);
	if (err) {
		ss_api_free(api);
		ss_pages_free(pages);
		ss_app_close(app);
		return ss_cli_fail("serve", err);
	}
	ss_log_info("serving", "listen=%s port=%u code_ttl=%lld", values[1], ss_http_port(srv), code_ttl);

	int64_t next_housekeeping = 0;
	for (;;) {
		/* every second: colours whose time has come; every HOUSEKEEPING_SECONDS, or on SIGHUP: the rest */
		struct timespec wait = {.tv_sec = 1};
		int sig = sigtimedwait(&sigs, NULL, &wait);
		if (sig == SIGTERM || sig == SIGINT) {
			ss_log_info("stopping", "signal=%s", sig == SIGTERM ? "SIGTERM" : "SIGINT");
			break;
		}
		/* a rule job left by a server stopped or killed part-way, or by a `suishen rules load` that died */
		if (ss_rulejob_resume(app, NULL))
			ss_log_warn("rules_job_resume_failed", "msg=\"%s\"", ss_err_message());
		int changed = 0;
		if (ss_assign_due(app, ss_time_now(), &changed))
			ss_log_warn("review_failed", "msg=\"%s\"", ss_err_message());
		else if (changed)
			ss_log_info("reviewed", "changed=%d", changed);
		if (sig != SIGHUP && ss_time_now() < next_housekeeping)
			continue;
		next_housekeeping = ss_time_now() + HOUSEKEEPING_SECONDS;
		if (ss_app_reload_keys(app))
			ss_log_warn("key_reload_failed", "msg=\"%s\"", ss_err_message());
		(void)app->store->ops->session_purge(app->store, ss_time_now());
		follow_statuses(&follow);
		if (ss_assign_follow_rules(app, NULL))
			ss_log_warn("rules_follow_failed", "msg=\"%s\"", ss_err_message());
		int raised = 0;
		if (ss_alerts_run(app, app->alerts, ss_time_now_ms(), &raised))
			ss_log_warn("alerts_failed", "msg=\"%s\"", ss_err_message());
		if (ss_audit_checkpoint(app, NULL))
			ss_log_warn("audit_checkpoint_failed", "msg=\"%s\"", ss_err_message());
	}
	ss_http_stop(srv, DRAIN_MS);
	ss_api_free(api);
	ss_pages_free(pages);
	ss_app_close(app); /* after the server: the scan writer commits what answered requests wait for */
	ss_log_info("stopped", "status=0");
	return 0;
}
