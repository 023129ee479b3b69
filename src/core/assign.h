/*
 * assign: status assignment (赋码). Turns a person's records into their
 * colour with the active rule set (core/rules.h) and keeps the result: when
 * the colour or the rules that fired change, the store gets the new status
 * (with review_at, the rule set's version and the fired rules as JSON) and
 * the in-memory table of holders, if the app has one, follows at once.
 *
 * The active rule set is the store's (rule_set_active); a data directory
 * that has none gets the default rule set compiled into the binary
 * (rules/default.rules) on first use. The app owns the parsed set
 * (app->rules); it is loaded once (ss_assign_load_rules) and replaced by
 * a rule job (core/rulejob.h: the command line, or an admin through the API
 * while the server serves; any thread): every evaluation holds a reference to the
 * set it started with, so a set is freed only when the last one using it ends.
 *
 * The reasons that decide the colour are kept as a JSON array that a
 * resident may see: the fired rules of that colour, each
 * {"rule","text_zh","text_en","records":[{"kind","occurred_at"}]}, the kinds
 * and dates of the records that made it fire and never who reported them or
 * about whom. While an override holds it is the one reason, as
 * {"rule":"manual_override","text_zh","text_en","until","records",
 * "overrides":{"color","reasons":[...]}}: until when it holds, and what it
 * sets aside (the rules' colour and their fired rules of that colour); the
 * reason its maker gave stays sealed in its record (ss_status_override_reason
 * opens it to show).
 */
#ifndef SS_CORE_ASSIGN_H
#define SS_CORE_ASSIGN_H

#include <stdbool.h>
#include <stdint.h>

#include "base/err.h"
#include "core/app.h"
#include "store/store.h"

/* The text of rules/default.rules, compiled in. */
extern const char ss_default_rules[];

/*
 * Makes app->rules the store's active rule set, storing the default one
 * first if the store has none. Idempotent. SS_INTERNAL if the stored text
 * no longer parses.
 */
enum ss_err ss_assign_load_rules(struct ss_app *app) SS_MUST;

/* A reference to the rule set the app judges by now (loaded first if need be); drop it with ss_rules_free. */
enum ss_err ss_assign_rules(struct ss_app *app, struct ss_ruleset **out) SS_MUST;

/*
 * Brings app->rules in step with the store's active rule set, which another
 * process may have replaced (`suishen rules load` while a server runs).
 * *changed (if not NULL) tells whether the set in use was replaced.
 */
enum ss_err ss_assign_follow_rules(struct ss_app *app, bool *changed) SS_MUST;

/*
 * Parses text (n bytes) fully, reporting every error through report as
 * ss_rules_parse does; if it parses, stores it as the active rule set and
 * makes it app->rules. Nothing changes on any error. The set's version is
 * copied into version (size bytes; NULL: not wanted).
 */
enum ss_err ss_assign_set_rules(struct ss_app *app, const char *text, size_t n,
                                void (*report)(void *ctx, long line, const char *message), void *ctx, char *version,
                                size_t size) SS_MUST;

/*
 * Re-evaluates the person person_id, whose ID number has the blind index idx,
 * as of now, and keeps the result if it changed (see above). *changed (if not
 * NULL) tells whether it did.
 */
enum ss_err ss_assign_person(struct ss_app *app, const uint8_t idx[SS_INDEX_LEN], int64_t person_id, int64_t now,
                             bool *changed) SS_MUST;

/*
 * Sets the in-memory colour of person_id back to the stored one: for a caller
 * whose enclosing transaction failed after ss_assign_person (which updates
 * memory as soon as its own part is written) was part of it.
 */
void ss_assign_resync(struct ss_app *app, int64_t person_id);

/* The same for the person with the blind index idx; SS_OK and no change if the registry has no such person. */
enum ss_err ss_assign_by_index(struct ss_app *app, const uint8_t idx[SS_INDEX_LEN], int64_t now, bool *changed) SS_MUST;

/*
 * Re-evaluates everyone whose review time has come (time moves colours: a
 * window ends with no new record), found through the store's index on review
 * time, so the cost follows the number of people due. *changed counts the
 * colours or reasons that changed.
 */
enum ss_err ss_assign_due(struct ss_app *app, int64_t now, int *changed) SS_MUST;

/* Districts counted one by one in a diff; the people of any further district are counted under "other". */
#define SS_DIFF_MAX_DISTRICTS 64
/* People re-evaluated per batch when a rule set is applied. */
#define SS_APPLY_BATCH 1000

/* Counts of people moving between colours: changes[from][to] (enum ss_color), from != to. */
struct ss_rules_district {
	char division[7]; /* 6 digits; "" for the others together */
	int64_t changes[3][3];
};

struct ss_rules_diff {
	int64_t people;        /* evaluated: everyone with at least one record */
	int64_t changes[3][3]; /* [from][to]; from == to counts those who keep their colour */
	int64_t now[3];        /* colours they have now (their stored status; green if none) */
	int64_t after[3];      /* colours the candidate set gives them */
	size_t ndistricts;     /* districts below with at least one change, in code order */
	struct ss_rules_district districts[SS_DIFF_MAX_DISTRICTS];
	bool has_other; /* other: the changes in districts beyond the first SS_DIFF_MAX_DISTRICTS */
	struct ss_rules_district other;
};

/*
 * What-if: for everyone with at least one record (store op
 * record_people_each), the colour they have now (their stored status, green
 * if none) and the colour candidate gives their records as of now, counted
 * overall and, for those whose colour would change, by the district they
 * are registered in. Writes nothing. For the same now and no new record in
 * between, the number of people whose colour differs equals what applying
 * candidate then changes (a rule job, core/rulejob.h).
 */
enum ss_err ss_assign_diff(struct ss_app *app, const struct ss_ruleset *candidate, int64_t now,
                           struct ss_rules_diff *out) SS_MUST;

/* The number of people a diff says would change colour. */
int64_t ss_rules_diff_changed(const struct ss_rules_diff *d);

/*
 * Adds n people moving from a colour to another in the district division
 * (from != to) to the changes of d, overall and by district.
 */
void ss_rules_diff_add_moves(struct ss_rules_diff *d, const char *division, int from, int to, int64_t n);

/*
 * A walk over everyone with at least one record, in person id order (store op
 * record_people_each), re-evaluating each as ss_assign_person does: each
 * person's write is its own small transaction, so that scans never wait long.
 */
struct ss_assign_walk {
	int64_t after;           /* it goes on after this person id, and leaves here the last one re-evaluated */
	int batch;               /* people read from the store at a time (0 or more than SS_APPLY_BATCH: that) */
	int64_t people, changed; /* re-evaluated by this walk, and of them those whose colour changed */
	bool stop;               /* set by done_one: the walk ends after this person, SS_OK */
	void *ctx;
	/*
	 * NULL, or called in the transaction that keeps a change of the colour
	 * of person_id (from != to; division: where they are registered), before
	 * after and people count them: what it writes is kept with the change
	 * or not at all, and an error undoes the change and ends the walk.
	 */
	enum ss_err (*changing)(void *ctx, int64_t person_id, const char *division, int from, int to);
	/* NULL, or called after each person (outside any transaction): an error ends the walk. */
	enum ss_err (*done_one)(struct ss_assign_walk *w);
};

/* Walks as of now from w->after to the end (or until w->stop); on an error the people not reached keep their colour. */
enum ss_err ss_assign_walk(struct ss_app *app, int64_t now, struct ss_assign_walk *w) SS_MUST;

/*
 * Re-evaluates, as of now, everyone with at least one record whose person id
 * is above after, batch people (at most SS_APPLY_BATCH) at a time (a walk):
 * with the highest person id before a population import, the people the
 * import added, whose records were waiting for them. *people and *changed
 * (either may be NULL) get the walk's counts.
 */
enum ss_err ss_assign_people_after(struct ss_app *app, int64_t after, int64_t now, int batch, int64_t *people,
                                   int64_t *changed) SS_MUST;

/*
 * Makes rules (the caller's; the app takes a reference of its own) the set
 * the app judges by, for a caller that has just stored it as the active one
 * (a rule job, core/rulejob.h, stores it together with the job).
 */
void ss_assign_install(struct ss_app *app, struct ss_ruleset *rules);

#endif
