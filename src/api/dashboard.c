/*
 * dashboard: GET /v1/staff/stats, the counts behind the staff console's
 * charts: uses per hour (the last 24) and per day (the last 14, in the
 * console's time zone), scans of the last 24 hours by scene and result,
 * registered residents by district (by province for those registered
 * elsewhere) and colour, appeals open and overdue. Counts only: no one is
 * named. Any member of staff may read them.
 *
 * A big city's fortnight is hundreds of millions of scans, so they are not
 * counted per request: the process keeps counts per five-minute slot, by
 * scene and result, for the last 15 days, and each request only counts the
 * scans since the last one (and the last RECOUNT_MS again: a scan is written
 * a moment after it is made). The first request counts the 15 days an hour
 * at a time, letting go of the store between hours so that scans go on.
 * Hours and days in any time zone (a multiple of 15 minutes from UTC) are
 * sums of slots. Residents by district, a walk over every resident, are
 * counted again at most every RESIDENTS_SECONDS; how many of them are yellow
 * or red (a walk over the colours that are not green) at every request.
 */
#include "api/api.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "base/str.h"
#include "base/time.h"
#include "core/appeals.h"
#include "core/codes.h"
#include "core/division.h"
#include "core/holders.h"
#include "core/scene.h"

#define HOURS             24
#define DAYS              14
#define HOUR_MS           (3600 * 1000LL)
#define DAY_MS            (24 * HOUR_MS)
#define SLOT_MS           (5 * 60 * 1000LL)
#define SLOTS             (15 * 24 * 12) /* 15 days: today and the 14 days before */
#define RECOUNT_MS        (2 * 60 * 1000LL)
#define NRESULTS          6 /* enum ss_scan_result */
#define MAX_DIVISIONS     64
#define RESIDENTS_SECONDS 60

struct division_counts {
	char division[8];
	int64_t residents; /* registered, as of residents_at */
	int64_t n[3];      /* by colour: yellow and red now; green the rest of the residents */
};

static struct {
	pthread_mutex_t lock;
	int nscenes;
	int64_t *counts;      /* SLOTS x nscenes x NRESULTS, by position slot % SLOTS */
	int64_t *slot_at;     /* SLOTS: the slot (unix ms / SLOT_MS) each position holds; -1 none */
	int64_t counted_to;   /* unix ms: scans before it are counted; 0 nothing yet */
	int64_t residents_at; /* unix s of the last count of residents by division; 0 never */
	struct division_counts divisions[MAX_DIVISIONS + 1]; /* the last one: every other division */
	int ndivisions;
} st = {.lock = PTHREAD_MUTEX_INITIALIZER};

static int64_t *cell(int64_t slot, int scene, int result)
{
	return &st.counts[((slot % SLOTS) * st.nscenes + scene) * NRESULTS + result];
}

/* The scans of slot, by scene (index of ss_scene_at) and result: 0 for a slot not held. */
static int64_t count_of(int64_t slot, int scene, int result)
{
	return slot >= 0 && st.slot_at[slot % SLOTS] == slot ? *cell(slot, scene, result) : 0;
}

static int scene_index(int id)
{
	const struct ss_scene *sc = ss_scene_by_id(id);
	for (int i = 0; sc && i < st.nscenes; i++)
		if (ss_scene_at(i) == sc)
			return i;
	return -1;
}

static void on_count(void *ctx, int64_t slot, int scene, int result, int64_t n)
{
	int64_t abs = *(const int64_t *)ctx + slot;
	int i = scene_index(scene);
	if (i >= 0 && result >= 0 && result < NRESULTS && st.slot_at[abs % SLOTS] == abs)
		*cell(abs, i, result) += n;
}

/* Brings the slots up to now_ms (st.lock held). */
static enum ss_err count_scans(struct ss_app *app, int64_t now_ms)
{
	if (!st.counts) {
		st.nscenes = ss_scene_count();
		st.counts = ss_calloc((size_t)SLOTS * (size_t)st.nscenes * NRESULTS, sizeof(int64_t));
		st.slot_at = ss_malloc(SLOTS * sizeof(int64_t));
		for (int i = 0; i < SLOTS; i++)
			st.slot_at[i] = -1;
	}
	int64_t now = now_ms / SLOT_MS, first = now - SLOTS + 1;
	int64_t from = first;
	if (st.counted_to && st.counted_to <= now_ms && (st.counted_to - RECOUNT_MS) / SLOT_MS > first)
		from = (st.counted_to - RECOUNT_MS) / SLOT_MS;
	/* the slots counted (again) start empty */
	for (int64_t s = from; s <= now; s++) {
		st.slot_at[s % SLOTS] = s;
		memset(cell(s, 0, 0), 0, (size_t)st.nscenes * NRESULTS * sizeof(int64_t));
	}
	st.counted_to = 0; /* until done: a failure part-way means counting all again */
	int64_t end = (now + 1) * SLOT_MS;
	for (int64_t t = from * SLOT_MS; t < end; t += HOUR_MS) {
		int64_t base = t / SLOT_MS, to = t + HOUR_MS < end ? t + HOUR_MS : end;
		enum ss_err err = app->store->ops->scan_counts(app->store, t, to, SLOT_MS, on_count, &base);
		if (err)
			return err;
	}
	st.counted_to = now_ms;
	return SS_OK;
}

/* Residents of Shanghai by district; the others by province ("320000"). color -1: registered residents. */
static void on_division(void *ctx, const char *code, int color, int64_t n)
{
	char division[8];
	if (color < -1 || color > 2 || strlen(code) != 6)
		return;
	snprintf(division, sizeof(division), "%s", code);
	if (strncmp(code, "31", 2) != 0)
		memcpy(division + 2, "0000", 4);
	int i = 0;
	while (i < st.ndivisions && strcmp(st.divisions[i].division, division) != 0)
		i++;
	if (i == st.ndivisions) {
		if (st.ndivisions == MAX_DIVISIONS) {
			i = MAX_DIVISIONS; /* "other" */
		} else {
			snprintf(st.divisions[i].division, sizeof(st.divisions[i].division), "%s", division);
			st.ndivisions++;
		}
	}
	if (color < 0)
		st.divisions[i].residents += n;
	else
		st.divisions[i].n[color] += n;
}

static int by_division(const void *a, const void *b)
{
	return strcmp(((const struct division_counts *)a)->division, ((const struct division_counts *)b)->division);
}

/*
 * Residents by division (again if the last count is older than
 * RESIDENTS_SECONDS) and their colours now (st.lock held).
 */
static enum ss_err count_colors(struct ss_app *app, int64_t now)
{
	enum ss_err err;
	if (!st.residents_at || now - st.residents_at >= RESIDENTS_SECONDS || now < st.residents_at) {
		memset(st.divisions, 0, sizeof(st.divisions));
		st.ndivisions = 0;
		st.residents_at = 0;
		if ((err = app->store->ops->residents_by_division(app->store, on_division, NULL)))
			return err;
		st.residents_at = now;
	}
	for (int i = 0; i <= MAX_DIVISIONS; i++)
		memset(st.divisions[i].n, 0, sizeof(st.divisions[i].n));
	if ((err = app->store->ops->colors_by_division(app->store, on_division, NULL)))
		return err;
	for (int i = 0; i <= MAX_DIVISIONS; i++) {
		struct division_counts *d = &st.divisions[i];
		int64_t green = d->residents - d->n[1] - d->n[2];
		d->n[0] = green > 0 ? green : 0;
	}
	qsort(st.divisions, (size_t)st.ndivisions, sizeof(st.divisions[0]), by_division);
	return SS_OK;
}

/* The scans of n slots from slot first (all scenes and results). */
static int64_t scans_in(int64_t first, int64_t n)
{
	int64_t sum = 0;
	for (int64_t s = first; s < first + n; s++)
		for (int i = 0; i < st.nscenes; i++)
			for (int r = 0; r < NRESULTS; r++)
				sum += count_of(s, i, r);
	return sum;
}

static void write_buckets(struct ss_jw *w, const char *key, int64_t from_ms, int64_t width_ms, int count)
{
	ss_jw_key(w, key);
	ss_jw_arr_begin(w);
	for (int i = 0; i < count; i++) {
		int64_t at = from_ms + i * width_ms;
		ss_jw_obj_begin(w);
		ss_jw_ktime(w, "at", at / 1000);
		ss_jw_kint(w, "scans", scans_in(at / SLOT_MS, width_ms / SLOT_MS));
		ss_jw_obj_end(w);
	}
	ss_jw_arr_end(w);
}

/* Writes the answer for a console offset_min minutes east of UTC from the counts (st.lock held). */
static void render(struct ss_jw *w, int64_t now_ms, int offset_min, const struct ss_appeal_counts *appeals)
{
	int64_t off = offset_min * 60 * 1000LL;
	int64_t hour0 = ((now_ms + off) / HOUR_MS) * HOUR_MS - off - (HOURS - 1) * HOUR_MS;
	int64_t day0 = ((now_ms + off) / DAY_MS) * DAY_MS - off - (DAYS - 1) * DAY_MS;
	int64_t now = now_ms / SLOT_MS, day_slots = DAY_MS / SLOT_MS;

	ss_jw_obj_begin(w);
	ss_jw_ktime(w, "generated_at", now_ms / 1000);
	ss_jw_kint(w, "tz_offset", offset_min);
	write_buckets(w, "uses_by_hour", hour0, HOUR_MS, HOURS);
	write_buckets(w, "uses_by_day", day0, DAY_MS, DAYS);
	ss_jw_key(w, "scans_by_scene"); /* the last 24 hours: the current slot and the ones before it */
	ss_jw_arr_begin(w);
	for (int i = 0; i < st.nscenes; i++) {
		ss_jw_obj_begin(w);
		ss_jw_kstr(w, "scene", ss_scene_at(i)->name);
		ss_jw_kstr(w, "label", ss_scene_at(i)->label);
		for (int r = 0; r < NRESULTS; r++) {
			int64_t n = 0;
			for (int64_t s = now - day_slots + 1; s <= now; s++)
				n += count_of(s, i, r);
			ss_jw_kint(w, ss_scan_result_name(r), n);
		}
		ss_jw_obj_end(w);
	}
	ss_jw_arr_end(w);
	ss_jw_ktime(w, "residents_at", st.residents_at);
	ss_jw_key(w, "colors_by_district");
	ss_jw_arr_begin(w);
	const int64_t *other = st.divisions[MAX_DIVISIONS].n;
	for (int i = 0; i <= st.ndivisions; i++) {
		bool is_other = i == st.ndivisions;
		const int64_t *n = is_other ? other : st.divisions[i].n;
		if (is_other && !(other[0] || other[1] || other[2]))
			break;
		const char *name = is_other ? NULL : ss_division_name(st.divisions[i].division);
		ss_jw_obj_begin(w);
		ss_jw_kstr(w, "division", is_other ? "other" : st.divisions[i].division);
		ss_jw_kstr(w, "name", is_other ? "其他" : name ? name : st.divisions[i].division);
		for (int color = 0; color < 3; color++)
			ss_jw_kint(w, ss_color_name(color), n[color]);
		ss_jw_obj_end(w);
	}
	ss_jw_arr_end(w);
	ss_jw_key(w, "appeals");
	ss_jw_obj_begin(w);
	ss_jw_kint(w, "open", appeals->open);
	ss_jw_kint(w, "overdue", appeals->overdue);
	ss_jw_kint(w, "decided", appeals->decided);
	ss_jw_obj_end(w);
	ss_jw_obj_end(w);
}

static enum ss_err stats(struct ss_api_call *c)
{
	long long offset = 0;
	const char *tz = ss_http_query(c->req, "tz_offset");
	if (tz && (!ss_str_to_ll(tz, -720, 840, &offset) || offset % 15 != 0))
		return ss_fail(SS_INVALID, "tz_offset",
		               "tz_offset must be minutes east of UTC, a multiple of 15 from -720 to 840");
	struct ss_appeal_counts appeals;
	int64_t now_ms = ss_time_now_ms();
	enum ss_err err = ss_appeal_counts(c->app, now_ms / 1000, &appeals);
	if (err)
		return err;
	pthread_mutex_lock(&st.lock); /* one count at a time; the others wait for it and share it */
	if (!(err = count_scans(c->app, now_ms)) && !(err = count_colors(c->app, now_ms / 1000)))
		render(&c->w, now_ms, (int)offset, &appeals);
	pthread_mutex_unlock(&st.lock);
	ss_api_cache(c, 0);
	return err;
}

const struct ss_api_route ss_api_dashboard_routes[] = {
        {"GET", "/v1/staff/stats", "GET /v1/staff/stats", SS_AUTH_STAFF, SS_ROLE_ANY, 0, stats},
        {.method = NULL},
};
