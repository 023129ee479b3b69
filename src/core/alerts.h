/*
 * alerts: security alerts for the city's security team. A watcher follows
 * the scan log (by scan id) and the audit log (by entry number) from where
 * it left off, keeps small counters in memory, and raises an alert, kept in
 * the store, when:
 *
 *   probing         a terminal's share of invalid codes in the last window
 *                   jumps: at least min_invalid invalid codes, a share of at
 *                   least rate, and at least factor times the terminal's own
 *                   share before (someone feeding it forged codes);
 *   shared_code     one code (told from every other, even its holder's of the
 *                   same second, by its fingerprint: crypto/code.h) is scanned
 *                   at two different places within its lifetime (a screenshot
 *                   passed on). Places carry no coordinates, so "too far
 *                   apart" is "another place";
 *   staff_reads     a member of staff reads far more people's records in the
 *                   window than their peers: at least min, and more than
 *                   factor times the median of the others who read any;
 *   login_failures  failed log-ins from one source (a keyed hash of the
 *                   address, core/identity.h) reach failures in the window.
 *
 * Each subject raises one alert of a kind per window. An alert keeps the ids
 * of what it is about (store.h), so that it is read with the places and staff
 * named and the people masked (ss_alerts_list). Thresholds come from
 * the data directory's settings file (base/conf.h), keys below with their
 * defaults; docs/operations.md lists them. The watcher starts at the end of
 * the logs (history is not replayed) and remembers its place in the store's
 * meta table. Thread-safe: one watcher per process, runs serialised.
 */
#ifndef SS_CORE_ALERTS_H
#define SS_CORE_ALERTS_H

#include <stdbool.h>
#include <stdint.h>

#include "base/conf.h"
#include "base/err.h"
#include "core/app.h"
#include "core/mask.h"

struct ss_alert_config {
	double probe_window;      /* alerts.probe.window_seconds = 600 */
	double probe_min_invalid; /* alerts.probe.min_invalid = 20 */
	double probe_rate;        /* alerts.probe.rate = 0.5 */
	double probe_factor;      /* alerts.probe.factor = 4 */
	double shared_lifetime;   /* the code TTL (seconds): two scans of a code at most this far apart */
	double reads_window;      /* alerts.reads.window_seconds = 86400 */
	double reads_min;         /* alerts.reads.min = 200 */
	double reads_factor;      /* alerts.reads.factor = 5 */
	double login_window;      /* alerts.login.window_seconds = 600 */
	double login_failures;    /* alerts.login.failures = 20 */
};

/* Whether key is one of the settings the watcher reads (alerts.*). */
bool ss_alert_config_has(const char *key);

/* The thresholds set in conf (NULL: none), over the defaults; SS_INVALID naming a bad setting. */
enum ss_err ss_alert_config_load(const struct ss_conf *conf, int64_t code_ttl, struct ss_alert_config *out) SS_MUST;

struct ss_alerts;

struct ss_alerts *ss_alerts_new(const struct ss_alert_config *cfg);
void ss_alerts_free(struct ss_alerts *w);

/*
 * Reads what the scan and audit logs gained since the last run (from their
 * ends, on the first) and keeps the alerts it raises as of now_ms; *raised
 * (if not NULL) counts them.
 */
enum ss_err ss_alerts_run(struct ss_app *app, struct ss_alerts *w, int64_t now_ms, int *raised) SS_MUST;

/* A person an alert names, as the security team sees them: masked (core/mask.h). */
struct ss_alert_person {
	bool known; /* false: no one, or particulars that do not open (logged) */
	char name[SS_MASK_MAX], id_number[SS_MASK_MAX];
};

/* An alert as it is read: the stored row (names of places and staff included) and its people, masked. */
struct ss_alert_view {
	const struct ss_alert_row *row;
	struct ss_alert_person person, presenter; /* of row->person_id, row->presenter_id */
};

/*
 * Calls fn for the alerts raised at or after since_ms (0: any), of kind
 * (NULL: any), with alert_id < before (0: any), newest first, at most limit.
 * Nothing unmasked leaves this function: opened particulars are wiped.
 */
enum ss_err ss_alerts_list(struct ss_app *app, int64_t since_ms, const char *kind, int64_t before, int limit,
                           struct ss_arena *a, enum ss_err (*fn)(void *ctx, const struct ss_alert_view *v),
                           void *ctx) SS_MUST;

#endif
