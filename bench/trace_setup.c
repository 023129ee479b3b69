/*
 * trace_setup: fills a data directory with a scan log for bench/trace.
 *
 *   trace_setup --data DIR [--scans S] [--places P] [--days D] [--batch B]
 *               [--group G] [--case-scans C] [--case-places K] [--seed N]
 *
 * The data directory has been initialised and a population imported into it
 * (scripts/gen-population.py, `suishen import population`), so that its people
 * have the ids 1..N (person_id is the registry's INTEGER PRIMARY KEY; a fresh
 * import gives them in order, which is checked: count == highest id).
 * trace_setup then, in the data directory itself:
 *
 *   1. creates one terminal (ss_terminal_create, scene venue) and P places
 *      (place_ensure, org "bench"); every scan names that terminal and one of
 *      the places (the trace reads places and people, never terminals);
 *   2. writes S scans (default 10,000,000) of people drawn uniformly from
 *      1..N, over the D days (default 14) that end now, through the store's
 *      scan_append in calls of B rows (default 20,000), hour by hour, oldest
 *      first, as the scan writer would: each hour gets a share of S after a
 *      day's profile in Beijing time (quiet at night, peaks at 8:00, 12:00 and
 *      18:00), and the first P/30 places ("metro" stations) have ten times the
 *      scans of the others. One scan in 200 carries an invalid code (no
 *      person), as the log of a real terminal does. G calls (default 50, so
 *      1,000,000 rows) are grouped into one transaction: a commit of 20,000
 *      rows rewrites most pages of the index on person, whose rows arrive in
 *      random order, and the bench's setup would spend most of its time there;
 *   3. picks a case, a random person, and mixes C scans of theirs (default 40)
 *      at K places (default 20, drawn like every scan's place, so the metro
 *      stations are likely among them; C / K scans at each) into the hours
 *      where they fall, daytime only; the case has no other scans (the
 *      others' average is S / N: 100 at the bench's 10,000,000 and 100,000);
 *   4. prints `key value` lines: case_id_number (opened from the case's sealed
 *      particulars; it is written to stdout only), case_person_id, scans,
 *      case_scans, places, people, from and to (unix seconds of the span
 *      written) and the seconds it took.
 *
 * Memory is one hour of scans (about 70,000 rows at S = 10,000,000).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "base/mem.h"
#include "base/time.h"
#include "core/app.h"
#include "core/codes.h"
#include "core/pii.h"
#include "core/scene.h"
#include "core/terminal.h"
#include "rng.h"

#define BEIJING_OFFSET_MS (8 * 3600000ll)
#define HOUR_MS           3600000ll
#define DAY_MS            86400000ll
#define BUSY_FACTOR       10 /* a metro station's scans per ordinary place's */

/* Scans per hour of the day (Beijing time), relative. */
static const double day_profile[24] = {0.2, 0.1, 0.1, 0.1, 0.2, 0.5, 1.5, 4, 6, 4, 3, 4,
                                       5,   4,   3,   3,   3,   5,   6,   4, 3, 2, 1, 0.5};

static void die(const char *what)
{
	fprintf(stderr, "trace_setup: %s: %s\n", what, ss_err_message());
	exit(1);
}

static void usage(void)
{
	fprintf(stderr, "usage: trace_setup --data DIR [--scans S] [--places P] [--days D] [--batch B] [--group G] "
	                "[--case-scans C] [--case-places K] [--seed N]\n");
	exit(2);
}

static uint64_t rng_below(uint64_t n)
{
	return rng_next() % n;
}

/* The places, and their cumulative weights for drawing one. */
struct places {
	int64_t *ids;
	uint64_t *cum; /* cum[i]: total weight of places 0..i */
	size_t n;
};

static size_t place_draw(const struct places *p)
{
	uint64_t r = rng_below(p->cum[p->n - 1]);
	size_t lo = 0, hi = p->n - 1; /* the first i with cum[i] > r */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (p->cum[mid] > r)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

static int by_time(const void *x, const void *y)
{
	const struct ss_scan_row *a = x, *b = y;
	return (a->scanned_at_ms > b->scanned_at_ms) - (a->scanned_at_ms < b->scanned_at_ms);
}

static int by_ms(const void *x, const void *y)
{
	const int64_t *a = x, *b = y;
	return (*a > *b) - (*a < *b);
}

static double profile_of(int64_t t_ms)
{
	int64_t local = t_ms + BEIJING_OFFSET_MS;
	return day_profile[(local % DAY_MS) / HOUR_MS];
}

/* The case's scans: times (sorted) and places. */
struct case_plan {
	int64_t person_id;
	int64_t *t_ms;
	int64_t *place_id;
	size_t n;
};

static void plan_case(const struct places *pl, int64_t from_ms, int64_t to_ms, long nscans, long nplaces,
                      struct case_plan *c)
{
	size_t *chosen = ss_malloc((size_t)nplaces * sizeof(*chosen));
	for (long k = 0; k < nplaces; k++) {
		size_t i;
		bool again;
		do { /* distinct places */
			i = place_draw(pl);
			again = false;
			for (long m = 0; m < k; m++)
				again |= chosen[m] == i;
		} while (again);
		chosen[k] = i;
	}
	c->n = (size_t)nscans;
	c->t_ms = ss_malloc(c->n * sizeof(*c->t_ms));
	c->place_id = ss_malloc(c->n * sizeof(*c->place_id));
	for (size_t i = 0; i < c->n; i++) {
		int64_t t;
		do { /* daytime (7:00-22:00 Beijing time) within the span */
			int64_t day = (from_ms + BEIJING_OFFSET_MS) / DAY_MS +
			              (int64_t)rng_below((uint64_t)((to_ms - from_ms) / DAY_MS + 1));
			t = day * DAY_MS - BEIJING_OFFSET_MS + 7 * HOUR_MS + (int64_t)rng_below(15 * HOUR_MS);
		} while (t < from_ms || t >= to_ms);
		c->t_ms[i] = t;
	}
	qsort(c->t_ms, c->n, sizeof(*c->t_ms), by_ms);
	/* the places in a random order along the times, each nscans / nplaces times */
	for (size_t i = 0; i < c->n; i++)
		c->place_id[i] = pl->ids[chosen[i % (size_t)nplaces]];
	for (size_t i = c->n; i > 1; i--) {
		size_t j = (size_t)rng_below(i);
		int64_t x = c->place_id[i - 1];
		c->place_id[i - 1] = c->place_id[j];
		c->place_id[j] = x;
	}
	free(chosen);
}

int main(int argc, char **argv)
{
	const char *data = NULL;
	long scans = 10000000, nplaces = 300, days = 14, batch = 20000, group = 50, case_scans = 40, case_places = 20;
	unsigned long long seed = 1;

	for (int i = 1; i < argc; i++) {
		if (i + 1 >= argc)
			usage();
		const char *opt = argv[i], *val = argv[++i];
		if (!strcmp(opt, "--data"))
			data = val;
		else if (!strcmp(opt, "--scans"))
			scans = strtol(val, NULL, 10);
		else if (!strcmp(opt, "--places"))
			nplaces = strtol(val, NULL, 10);
		else if (!strcmp(opt, "--days"))
			days = strtol(val, NULL, 10);
		else if (!strcmp(opt, "--batch"))
			batch = strtol(val, NULL, 10);
		else if (!strcmp(opt, "--group"))
			group = strtol(val, NULL, 10);
		else if (!strcmp(opt, "--case-scans"))
			case_scans = strtol(val, NULL, 10);
		else if (!strcmp(opt, "--case-places"))
			case_places = strtol(val, NULL, 10);
		else if (!strcmp(opt, "--seed"))
			seed = strtoull(val, NULL, 10);
		else
			usage();
	}
	if (!data || scans < 0 || nplaces < 1 || days < 1 || days > 30 || batch < 1 || group < 1 || case_places < 1 ||
	    case_places > nplaces || case_scans < case_places)
		usage();
	rng_state = seed * 0x9E3779B97F4A7C15ull | 1;

	int64_t t0 = ss_time_mono_us();
	struct ss_app *app;
	if (ss_app_open(data, false, &app))
		die("open data directory");
	struct ss_store *s = app->store;

	int64_t people, max_id, first_scan_id;
	if (s->ops->person_count(s, &people) || s->ops->person_max_id(s, &max_id) ||
	    s->ops->scan_max_id(s, &first_scan_id))
		die("read the registry");
	if (people == 0 || people != max_id) {
		fprintf(stderr,
		        "trace_setup: the registry's ids are not 1..%lld (highest %lld): import into a new "
		        "data directory\n",
		        (long long)people, (long long)max_id);
		exit(1);
	}

	/* a terminal, and the places */
	const struct ss_scene *scene = ss_scene_find("venue");
	int64_t terminal_id;
	char secret[65];
	if (!scene || ss_terminal_create(app, "bench", "bench gate 1", scene->name, "310101", 0, &terminal_id, secret))
		die("terminal create");
	ss_wipe(secret, sizeof(secret));
	struct places pl = {.ids = ss_malloc((size_t)nplaces * sizeof(*pl.ids)),
	                    .cum = ss_malloc((size_t)nplaces * sizeof(*pl.cum)),
	                    .n = (size_t)nplaces};
	long busy = nplaces / 30 ? nplaces / 30 : 1;
	uint64_t total_weight = 0;
	for (long i = 0; i < nplaces; i++) {
		char name[64];
		if (i < busy)
			snprintf(name, sizeof(name), "地铁%ld号站", i + 1);
		else
			snprintf(name, sizeof(name), "场所%03ld", i + 1 - busy);
		if (s->ops->place_ensure(s, "bench", name, "310101", &pl.ids[i]))
			die("place ensure");
		total_weight += i < busy ? BUSY_FACTOR : 1;
		pl.cum[i] = total_weight;
	}

	int64_t to_ms = ss_time_now_ms(), from_ms = to_ms - days * DAY_MS;
	struct case_plan cp = {.person_id = 1 + (int64_t)rng_below((uint64_t)people)};
	plan_case(&pl, from_ms, to_ms, case_scans, case_places, &cp);

	/* how many scans each hour gets: its share of the profile, rounded so that the total is exact */
	size_t nhours = (size_t)((to_ms - from_ms + HOUR_MS - 1) / HOUR_MS);
	double profile_total = 0;
	for (size_t h = 0; h < nhours; h++)
		profile_total += profile_of(from_ms + (int64_t)h * HOUR_MS);
	long *per_hour = ss_malloc(nhours * sizeof(*per_hour));
	long done = 0, most = 0;
	double cum = 0;
	for (size_t h = 0; h < nhours; h++) {
		cum += profile_of(from_ms + (int64_t)h * HOUR_MS);
		long upto = h + 1 == nhours ? scans : (long)((double)scans * cum / profile_total);
		per_hour[h] = upto - done;
		done = upto;
		if (per_hour[h] > most)
			most = per_hour[h];
	}

	struct ss_scan_row *rows = ss_malloc(((size_t)most + cp.n) * sizeof(*rows));
	int64_t next_id = first_scan_id + 1;
	size_t next_case = 0;
	long calls = 0, written = 0;
	if (s->ops->begin(s))
		die("begin");
	for (size_t h = 0; h < nhours; h++) {
		int64_t lo = from_ms + (int64_t)h * HOUR_MS, hi = lo + HOUR_MS < to_ms ? lo + HOUR_MS : to_ms;
		size_t n = 0;
		for (long i = 0; i < per_hour[h]; i++) {
			bool invalid = rng_below(200) == 0;
			int64_t who = 1 + (int64_t)rng_below((uint64_t)people);
			while (who == cp.person_id && people > 1) /* the case's scans are the planned ones */
				who = 1 + (int64_t)rng_below((uint64_t)people);
			rows[n++] = (struct ss_scan_row){
			        .terminal_id = terminal_id,
			        .place_id = pl.ids[place_draw(&pl)],
			        .scene = scene->id,
			        .result = invalid ? SS_RESULT_INVALID : SS_RESULT_GREEN,
			        .person_id = invalid ? 0 : who,
			        .key_id = invalid ? 0 : 1,
			        .scanned_at_ms = lo + (int64_t)rng_below((uint64_t)(hi - lo)),
			};
		}
		for (; next_case < cp.n && cp.t_ms[next_case] < hi; next_case++)
			rows[n++] = (struct ss_scan_row){
			        .terminal_id = terminal_id,
			        .place_id = cp.place_id[next_case],
			        .scene = scene->id,
			        .result = SS_RESULT_GREEN,
			        .person_id = cp.person_id,
			        .key_id = 1,
			        .scanned_at_ms = cp.t_ms[next_case],
			};
		qsort(rows, n, sizeof(*rows), by_time);
		for (size_t i = 0; i < n; i++)
			rows[i].scan_id = next_id++;
		for (size_t i = 0; i < n; i += (size_t)batch) {
			size_t k = n - i < (size_t)batch ? n - i : (size_t)batch;
			if (s->ops->scan_append(s, rows + i, k))
				die("scan append");
			written += (long)k;
			if (++calls % group == 0 && (s->ops->commit(s) || s->ops->begin(s)))
				die("commit");
		}
	}
	if (s->ops->commit(s))
		die("commit");
	int64_t t1 = ss_time_mono_us();

	/* the case's ID number, from their sealed particulars: to stdout only */
	struct ss_arena a;
	struct ss_person_row person;
	const char *f[6];
	ss_arena_init(&a);
	if (s->ops->person_by_id(s, cp.person_id, &a, &person) ||
	    ss_pii_open(app, SS_PII_PERSON, person.sealed, &a, f, 6))
		die("the case's particulars");
	printf("case_id_number %s\n", f[0]);
	ss_arena_release_secret(&a);
	printf("case_person_id %lld\n", (long long)cp.person_id);
	printf("case_scans %zu\n", cp.n);
	printf("case_places %ld\n", case_places);
	printf("people %lld\n", (long long)people);
	printf("places %ld\n", nplaces);
	printf("busy_places %ld\n", busy);
	printf("scans %ld\n", written);
	printf("from %lld\n", (long long)(from_ms / 1000));
	printf("to %lld\n", (long long)(to_ms / 1000));
	printf("setup_seconds %.1f\n", (double)(t1 - t0) / 1e6);
	printf("scans_per_s %.0f\n", (double)written / ((double)(t1 - t0) / 1e6));
	free(rows);
	free(per_hour);
	free(pl.ids);
	free(pl.cum);
	free(cp.t_ms);
	free(cp.place_id);
	ss_app_close(app);
	return 0;
}
