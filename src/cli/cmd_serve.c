/*
 * cmd_serve: `suishen serve --data DIR --listen HOST:PORT [--code-ttl S]`:
 * serves the API until SIGTERM or SIGINT, then finishes the requests in
 * flight and exits 0. SIGHUP, and every few seconds on its own, brings the
 * key ring in step with the store (keys rotated by `suishen keys`) and purges
 * expired sessions.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api/router.h"
#include "base/log.h"
#include "base/time.h"
#include "cli/cli.h"
#include "http/server.h"

#define HOUSEKEEPING_SECONDS 10
#define DRAIN_MS             10000

int ss_cmd_serve(int argc, char **argv)
{
	static const char *const names[] = {"data",        "listen",         "code-ttl", "threads",
	                                    "session-ttl", "login-delay-ms", NULL};
	const char *values[6] = {NULL, "127.0.0.1:8080", "60", "0", "43200", "1000"}, *rest[1];
	const char *usage = "--data DIR [--listen HOST:PORT] [--code-ttl SECONDS] [--threads N] "
	                    "[--session-ttl SECONDS] [--login-delay-ms MS]";
	long long code_ttl, threads, session_ttl, delay;
	int nrest;

	if (!ss_cli_options("serve", argc, argv, names, values, rest, &nrest, 0) || !values[0])
		return ss_cli_usage("serve", usage);
	if (!ss_cli_number(values[2], 1, 86400, &code_ttl) || !ss_cli_number(values[3], 0, 256, &threads) ||
	    !ss_cli_number(values[4], 60, 30 * 86400, &session_ttl) || !ss_cli_number(values[5], 1, 60000, &delay))
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
	enum ss_err err = ss_app_start(app, true);
	if (err) {
		ss_app_close(app);
		return ss_cli_fail("serve", err);
	}

	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	struct ss_api *api = ss_api_new(app, ncpu > 0 ? (unsigned)ncpu : 1);
	struct ss_http_config cfg = {.listen = values[1],
	                             .threads = (unsigned)threads,
	                             .handler = ss_api_handle,
	                             .body_limit = ss_api_body_limit,
	                             .ctx = api};
	struct ss_http_server *srv;
	err = ss_http_start(&cfg, &srv);
	if (err) {
		ss_api_free(api);
		ss_app_close(app);
		return ss_cli_fail("serve", err);
	}
	ss_log_info("serving", "listen=%s port=%u code_ttl=%lld", values[1], ss_http_port(srv), code_ttl);

	for (;;) {
		struct timespec wait = {.tv_sec = HOUSEKEEPING_SECONDS};
		int sig = sigtimedwait(&sigs, NULL, &wait);
		if (sig == SIGTERM || sig == SIGINT) {
			ss_log_info("stopping", "signal=%s", sig == SIGTERM ? "SIGTERM" : "SIGINT");
			break;
		}
		if (ss_app_reload_keys(app))
			ss_log_warn("key_reload_failed", "msg=\"%s\"", ss_err_message());
		(void)app->store->ops->session_purge(app->store, ss_time_now());
	}
	ss_http_stop(srv, DRAIN_MS);
	ss_api_free(api);
	ss_app_close(app); /* after the server: the scan writer commits what answered requests wait for */
	ss_log_info("stopped", "status=0");
	return 0;
}
