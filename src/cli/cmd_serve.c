/*
 * cmd_serve: `suishen serve --data DIR --listen HOST:PORT [--code-ttl S]`:
 * serves the API until SIGTERM or SIGINT, then finishes the requests in
 * flight and exits 0.
 *
 * What the server keeps in memory that another process can change in the
 * store is followed as soon as the store says another process wrote to it
 * (asked every FOLLOW_MS: store.h's data_version, which our own writes leave
 * alone), and on SIGHUP and every --housekeeping seconds besides: the key
 * ring (keys rotated or retired by `suishen keys`), the in-memory colours
 * (`suishen import records` re-evaluates the people it touched; followed by
 * the store's history of changes, by change_id, so the cost is that of the
 * changes) and the active rule set (`suishen rules load`). So a scan sees
 * such a change within a second. Staff, sessions and source clients are read
 * from the store on each request; terminals are cached, but nothing changes a
 * terminal once made. Every second: colours whose review time has come, and
 * the purge of nonces too old to matter (core/sign.h). Housekeeping also
 * purges expired sessions, runs the security watcher (core/alerts.h) and
 * signs the audit log's latest entry (core/audit.h), so an entry is covered
 * by a signed checkpoint within the housekeeping interval. Every second it
 * also takes up a rule job (core/rulejob.h) that a server stopped or killed
 * part-way, or a command line that died, left unfinished.
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
#include "core/identity.h"
#include "core/sign.h"
#include "core/rulejob.h"
#include "http/pages.h"
#include "http/server.h"

#define HOUSEKEEPING_SECONDS "10" /* the default of --housekeeping */
#define FOLLOW_MS            250  /* how often the store is asked whether another process wrote to it */
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

/* Brings into memory what other processes may have changed in the store: keys, colours, the rule set. */
static void follow_store(struct follow *f)
{
	if (ss_app_reload_keys(f->app))
		ss_log_warn("key_reload_failed", "msg=\"%s\"", ss_err_message());
	follow_statuses(f);
	if (ss_assign_follow_rules(f->app, NULL))
		ss_log_warn("rules_follow_failed", "msg=\"%s\"", ss_err_message());
}

int ss_cmd_serve(int argc, char **argv)
{
	enum {
		DATA,
		LISTEN,
		CODE_TTL,
		THREADS,
		SESSION_TTL,
		LOGIN_DELAY,
		WEB,
		HOUSEKEEPING,
		HEAD_MS,
		IDLE_MS,
		PER_IP,
		BODY_MEMORY,
		LOGINS,
		NOPTS
	};
	static const char *const names[NOPTS + 1] = {[DATA] = "data",
	                                             [LISTEN] = "listen",
	                                             [CODE_TTL] = "code-ttl",
	                                             [THREADS] = "threads",
	                                             [SESSION_TTL] = "session-ttl",
	                                             [LOGIN_DELAY] = "login-delay-ms",
	                                             [WEB] = "web",
	                                             [HOUSEKEEPING] = "housekeeping",
	                                             [HEAD_MS] = "head-timeout-ms",
	                                             [IDLE_MS] = "idle-timeout-ms",
	                                             [PER_IP] = "conn-per-ip",
	                                             [BODY_MEMORY] = "body-memory",
	                                             [LOGINS] = "logins-per-ip",
	                                             [NOPTS] = NULL};
	const char *values[NOPTS] = {[LISTEN] = "127.0.0.1:8080",
	                             [CODE_TTL] = "60",
	                             [THREADS] = "0",
	                             [SESSION_TTL] = "43200",
	                             [LOGIN_DELAY] = "1000",
	                             [WEB] = ss_cli_web_dir(),
	                             [HOUSEKEEPING] = HOUSEKEEPING_SECONDS,
	                             [HEAD_MS] = "10000",
	                             [IDLE_MS] = "30000",
	                             [PER_IP] = "1000",
	                             [BODY_MEMORY] = "67108864",
	                             [LOGINS] = "20"};
	const char *rest[1];
	const char *usage = "--data DIR [--listen HOST:PORT] [--code-ttl SECONDS] [--threads N] "
	                    "[--session-ttl SECONDS] [--login-delay-ms MS] [--web DIR] [--housekeeping SECONDS] "
	                    "[--head-timeout-ms MS] [--idle-timeout-ms MS] [--conn-per-ip N] [--body-memory BYTES] "
	                    "[--logins-per-ip N]";
	long long code_ttl, threads, session_ttl, delay, housekeeping_s, head_ms, idle_ms, per_ip, body_memory, logins;
	int nrest;

	if (!ss_cli_options("serve", argc, argv, names, values, rest, &nrest, 0) || !values[DATA])
		return ss_cli_usage("serve", usage);
	if (!ss_str_to_ll(values[CODE_TTL], 1, 86400, &code_ttl) || !ss_str_to_ll(values[THREADS], 0, 256, &threads) ||
	    !ss_str_to_ll(values[SESSION_TTL], 60, 30 * 86400, &session_ttl) ||
	    !ss_str_to_ll(values[LOGIN_DELAY], 1, 60000, &delay) ||
	    !ss_str_to_ll(values[HOUSEKEEPING], 1, 86400, &housekeeping_s) ||
	    !ss_str_to_ll(values[HEAD_MS], 100, 600000, &head_ms) ||
	    !ss_str_to_ll(values[IDLE_MS], 100, 3600000, &idle_ms) ||
	    !ss_str_to_ll(values[PER_IP], 1, 100000, &per_ip) ||
	    !ss_str_to_ll(values[BODY_MEMORY], 65536, (long long)1 << 40, &body_memory) ||
	    !ss_str_to_ll(values[LOGINS], 1, 1000000, &logins))
		return ss_cli_usage("serve", usage);

	/* the server's threads inherit this mask, so only sigwait below sees these signals */
	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	struct ss_app *app = ss_cli_open("serve", values[DATA], false);
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
	if (ss_pages_load(values[WEB], &pages)) {
		ss_log_warn("no_pages", "dir=\"%s\" msg=\"%s\"", values[WEB], ss_err_message());
	} else {
		unsigned nfiles;
		size_t bytes;
		ss_pages_size(pages, &nfiles, &bytes);
		ss_log_info("pages", "dir=\"%s\" files=%u bytes=%zu", values[WEB], nfiles, bytes);
	}

	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	struct ss_api *api = ss_api_new(app, ncpu > 0 ? (unsigned)ncpu : 1);
	ss_api_set_pages(api, pages);
	ss_api_set_slow_rate(api, (unsigned)logins);
	struct ss_http_config cfg = {.listen = values[LISTEN],
	                             .threads = (unsigned)threads,
	                             .head = ss_api_head,
	                             .handler = ss_api_handle,
	                             .errors = ss_api_error,
	                             .ctx = api,
	                             .health_path = "/healthz",
	                             .head_timeout_ms = (unsigned)head_ms,
	                             .body_timeout_ms = (unsigned)head_ms,
	                             .idle_timeout_ms = (unsigned)idle_ms,
	                             .conn_per_addr = (unsigned)per_ip,
	                             .body_memory = (size_t)body_memory};
	struct ss_http_server *srv;
	err = ss_http_start(&cfg, &srv);
	if (err) {
		ss_api_free(api);
		ss_pages_free(pages);
		ss_app_close(app);
		return ss_cli_fail("serve", err);
	}
	ss_log_info("serving", "listen=%s port=%u code_ttl=%lld", values[LISTEN], ss_http_port(srv), code_ttl);

	int64_t next_housekeeping = 0, next_second = 0, version = 0;
	for (;;) {
		/*
		 * every FOLLOW_MS: whether another process wrote; every second: colours whose time has come; every
		 * --housekeeping seconds, or on SIGHUP: the rest
		 */
		struct timespec wait = {.tv_nsec = FOLLOW_MS * 1000000L};
		int sig = sigtimedwait(&sigs, NULL, &wait);
		if (sig == SIGTERM || sig == SIGINT) {
			ss_log_info("stopping", "signal=%s", sig == SIGTERM ? "SIGTERM" : "SIGINT");
			break;
		}
		int64_t now = ss_time_now(), seen = version;
		/* read before following, so that what is written while it follows is seen next time */
		bool others_wrote = app->store->ops->data_version(app->store, &version) == SS_OK && version != seen;
		bool housekeeping = sig == SIGHUP || now >= next_housekeeping;
		if (others_wrote || housekeeping)
			follow_store(&follow);
		if (now >= next_second) {
			next_second = now + 1;
			/* a rule job left by a server stopped or killed part-way, or by a `suishen rules load` that
			 * died */
			if (ss_rulejob_resume(app, NULL))
				ss_log_warn("rules_job_resume_failed", "msg=\"%s\"", ss_err_message());
			int changed = 0;
			if (ss_assign_due(app, now, &changed))
				ss_log_warn("review_failed", "msg=\"%s\"", ss_err_message());
			else if (changed)
				ss_log_info("reviewed", "changed=%d", changed);
			if (ss_nonce_purge(app->store, now))
				ss_log_warn("nonce_purge_failed", "msg=\"%s\"", ss_err_message());
		}
		if (!housekeeping)
			continue;
		next_housekeeping = now + housekeeping_s;
		if (ss_identity_purge(app, ss_time_now_ms()))
			ss_log_warn("purge_failed", "msg=\"%s\"", ss_err_message());
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
