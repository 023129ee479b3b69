/*
 * dashboard: GET /v1/staff/stats, the counts behind the staff console's
 * charts: uses per hour (the last 24) and per day (the last 14, in the
 * console's time zone), scans of the last 24 hours by scene and result,
 * registered residents by district (by province for those registered
 * elsewhere) and colour, appeals open and overdue.
 * Counts only: no one is named. Any member of staff may read them.
 *
 * The counts are read through indexes, but a big city's day is millions of
 * scans, so an answer is kept for CACHE_SECONDS and shared by every
 * console asking in that time (with the same time zone).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "base/mem.h"
#include "base/str.h"
#include "base/time.h"
#include "core/codes.h"
#include "core/division.h"
#include "core/holders.h"
#include "core/scene.h"

#define HOURS         24
#define DAYS          14
#define HOUR_MS       (3600 * 1000LL)
#define DAY_MS        (24 * HOUR_MS)
#define NRESULTS      6 /* enum ss_scan_result */
#define MAX_DIVISIONS 64
#define CACHE_SECONDS 30

struct scene_counts {
	int64_t n[NRESULTS];
};

struct division_counts {
	char division[8];
	int64_t n[3]; /* by colour */
};

struct counts {
	struct scene_counts *scenes;                         /* by scene index (ss_scene_at) */
	struct division_counts divisions[MAX_DIVISIONS + 1]; /* the last one: every other division */
	int ndivisions;
};

static void on_result(void *ctx, int scene, int result, int64_t n)
{
	struct counts *c = ctx;
	const struct ss_scene *sc = ss_scene_by_id(scene);
	for (int i = 0; sc && i < ss_scene_count(); i++)
		if (ss_scene_at(i) == sc && result >= 0 && result < NRESULTS)
			c->scenes[i].n[result] += n;
}

/* Residents of Shanghai by district; the others by province ("320000"). */
static void on_division(void *ctx, const char *code, int color, int64_t n)
{
	struct counts *c = ctx;
	char division[8];
	if (color < 0 || color > 2 || strlen(code) != 6)
		return;
	snprintf(division, sizeof(division), "%s", code);
	if (strncmp(code, "31", 2) != 0)
		memcpy(division + 2, "0000", 4);
	int i = 0;
	while (i < c->ndivisions && strcmp(c->divisions[i].division, division) != 0)
		i++;
	if (i == c->ndivisions) {
		if (c->ndivisions == MAX_DIVISIONS) {
			i = MAX_DIVISIONS; /* "other" */
		} else {
			snprintf(c->divisions[i].division, sizeof(c->divisions[i].division), "%.6s", division);
			c->ndivisions++;
		}
	}
	c->divisions[i].n[color] += n;
}

static int by_division(const void *a, const void *b)
{
	return strcmp(((const struct division_counts *)a)->division, ((const struct division_counts *)b)->division);
}

static void write_buckets(struct ss_jw *w, const char *key, int64_t from_ms, int64_t width_ms, const int64_t *n,
                          int count)
{
	ss_jw_key(w, key);
	ss_jw_arr_begin(w);
	for (int i = 0; i < count; i++) {
		ss_jw_obj_begin(w);
		ss_jw_ktime(w, "at", (from_ms + i * width_ms) / 1000);
		ss_jw_kint(w, "scans", n[i]);
		ss_jw_obj_end(w);
	}
	ss_jw_arr_end(w);
}

/* Reads the counts as of now_ms for a console offset_min minutes east of UTC and writes the answer to w. */
static enum ss_err compute(struct ss_app *app, int64_t now_ms, int offset_min, struct ss_jw *w)
{
	struct ss_store *s = app->store;
	int64_t off = offset_min * 60 * 1000LL;
	int64_t hour0 = ((now_ms + off) / HOUR_MS) * HOUR_MS - off - (HOURS - 1) * HOUR_MS;
	int64_t day0 = ((now_ms + off) / DAY_MS) * DAY_MS - off - (DAYS - 1) * DAY_MS;
	int64_t hours[HOURS] = {0}, days[DAYS] = {0};
	struct ss_appeal_counts appeals;
	struct counts c = {.scenes = ss_calloc((size_t)ss_scene_count(), sizeof(*c.scenes))};
	enum ss_err err;

	if ((err = s->ops->scan_buckets(s, hour0, HOUR_MS, HOURS, hours)) ||
	    (err = s->ops->scan_buckets(s, day0, DAY_MS, DAYS, days)) ||
	    (err = s->ops->scan_results(s, now_ms - DAY_MS, on_result, &c)) ||
	    (err = s->ops->colors_by_division(s, on_division, &c)) ||
	    (err = s->ops->appeal_counts(s, now_ms / 1000, &appeals)))
		goto out;

	ss_jw_obj_begin(w);
	ss_jw_ktime(w, "generated_at", now_ms / 1000);
	ss_jw_kint(w, "tz_offset", offset_min);
	write_buckets(w, "uses_by_hour", hour0, HOUR_MS, hours, HOURS);
	write_buckets(w, "uses_by_day", day0, DAY_MS, days, DAYS);
	ss_jw_key(w, "scans_by_scene");
	ss_jw_arr_begin(w);
	for (int i = 0; i < ss_scene_count(); i++) {
		ss_jw_obj_begin(w);
		ss_jw_kstr(w, "scene", ss_scene_at(i)->name);
		ss_jw_kstr(w, "label", ss_scene_at(i)->label);
		for (int r = 0; r < NRESULTS; r++)
			ss_jw_kint(w, ss_scan_result_name(r), c.scenes[i].n[r]);
		ss_jw_obj_end(w);
	}
	ss_jw_arr_end(w);
	ss_jw_key(w, "colors_by_district");
	ss_jw_arr_begin(w);
	qsort(c.divisions, (size_t)c.ndivisions, sizeof(c.divisions[0]), by_division);
	int64_t *other = c.divisions[MAX_DIVISIONS].n;
	for (int i = 0; i <= c.ndivisions; i++) {
		bool is_other = i == c.ndivisions;
		const int64_t *n = is_other ? other : c.divisions[i].n;
		if (is_other && !(other[0] || other[1] || other[2]))
			break;
		const char *name = is_other ? NULL : ss_division_name(c.divisions[i].division);
		ss_jw_obj_begin(w);
		ss_jw_kstr(w, "division", is_other ? "other" : c.divisions[i].division);
		ss_jw_kstr(w, "name", is_other ? "其他" : name ? name : c.divisions[i].division);
		for (int color = 0; color < 3; color++)
			ss_jw_kint(w, ss_color_name(color), n[color]);
		ss_jw_obj_end(w);
	}
	ss_jw_arr_end(w);
	ss_jw_key(w, "appeals");
	ss_jw_obj_begin(w);
	ss_jw_kint(w, "open", appeals.open);
	ss_jw_kint(w, "overdue", appeals.overdue);
	ss_jw_kint(w, "decided", appeals.decided);
	ss_jw_obj_end(w);
	ss_jw_obj_end(w);
out:
	free(c.scenes);
	return err;
}

/* The last answers, one per time zone asked for (a few), each shared for CACHE_SECONDS. */
#define CACHE_SLOTS 8

static struct {
	pthread_mutex_t lock;
	struct {
		char *body;
		int offset_min;
		int64_t at;
	} slot[CACHE_SLOTS];
} cache = {.lock = PTHREAD_MUTEX_INITIALIZER};

static enum ss_err stats(struct ss_api_call *c)
{
	long long offset = 0;
	const char *tz = ss_http_query(c->req, "tz_offset");
	if (tz && !ss_str_to_ll(tz, -720, 840, &offset))
		return ss_fail(SS_INVALID, "tz_offset", "tz_offset must be minutes east of UTC, -720 to 840");
	int64_t now = ss_time_now();
	enum ss_err err = SS_OK;
	pthread_mutex_lock(&cache.lock); /* one computation at a time; the others wait for its answer */
	int use = 0;                     /* this time zone's slot, else the oldest */
	for (int i = 0; i < CACHE_SLOTS; i++) {
		if (cache.slot[i].body && cache.slot[i].offset_min == (int)offset) {
			use = i;
			break;
		}
		if (!cache.slot[i].body || cache.slot[i].at < cache.slot[use].at)
			use = i;
	}
	if (!cache.slot[use].body || cache.slot[use].offset_min != (int)offset ||
	    now - cache.slot[use].at >= CACHE_SECONDS || now < cache.slot[use].at) {
		struct ss_buf b;
		struct ss_jw w;
		ss_buf_init(&b, 1 << 20);
		ss_jw_init(&w, &b);
		if (!(err = compute(c->app, ss_time_now_ms(), (int)offset, &w)) && !(err = ss_jw_finish(&w))) {
			free(cache.slot[use].body);
			cache.slot[use].body = ss_buf_take(&b, NULL);
			cache.slot[use].offset_min = (int)offset;
			cache.slot[use].at = now;
		}
		ss_buf_release(&b);
	}
	if (!err)
		ss_jw_raw(&c->w, cache.slot[use].body, strlen(cache.slot[use].body));
	pthread_mutex_unlock(&cache.lock);
	ss_api_cache(c, 0);
	return err;
}

const struct ss_api_route ss_api_dashboard_routes[] = {
        {"GET", "/v1/staff/stats", "GET /v1/staff/stats", SS_AUTH_STAFF, SS_ROLE_ANY, 0, stats},
        {.method = NULL},
};
