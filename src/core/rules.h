/*
 * rules: the status rules engine (赋码规则). A rule set is data, a text file
 * that a public-health officer can read and review (the format is documented
 * in docs/rules.md); this module parses it and evaluates it over one person's
 * records, giving a colour, every rule that fired with the records that made
 * it fire, and the time at which the colour will change by itself.
 *
 * Pure: no I/O, no clock, no store. The caller reads the file, gathers the
 * person's records and passes the time. A parsed rule set is immutable, owned
 * by whoever parsed it (ss_rules_free), and may be evaluated by any number of
 * threads at once. Evaluation allocates nothing: the verdict has fixed arrays
 * and points into the rule set (ids, reasons), so it is valid while the rule
 * set is.
 *
 * Colours are the values of enum ss_color (core/holders.h): 0 green,
 * 1 yellow, 2 red. Precedence is red > yellow > green; a manual_override in
 * force wins over every rule.
 */
#ifndef SS_CORE_RULES_H
#define SS_CORE_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

#define SS_RULES_MAX_FILE       (1024 * 1024) /* bytes of rule text */
#define SS_RULES_MAX_LINE       4096          /* bytes per line, not counting the line end */
#define SS_RULES_MAX_RULES      1000
#define SS_RULES_MAX_FIRED      16  /* fired rules reported in a verdict (all are counted) */
#define SS_RULES_MAX_AGAINST    8   /* records measured against a trigger, reported per fired rule */
#define SS_RULES_MAX_REASON     500 /* bytes of UTF-8 per reason text */
#define SS_RULES_MAX_ID         64
#define SS_RULES_MAX_VERSION    64
#define SS_RULES_MAX_WINDOW     (365 * 86400) /* seconds */
#define SS_RULES_MAX_AT_LEAST   32
#define SS_RULES_MAX_CMP        8   /* comparisons per clause */
#define SS_RULES_MAX_UNLESS     8   /* unless clauses per rule */
#define SS_RULES_MAX_TEXT_VALUE 100 /* bytes of a text value in a comparison (origin) */

/* The kinds of record. 0 is no kind, so a zeroed record is never a case. */
enum ss_rule_kind {
	SS_KIND_NONE = 0,
	SS_KIND_CONFIRMED_CASE,
	SS_KIND_SUSPECTED_CASE,
	SS_KIND_RECOVERED,
	SS_KIND_CLOSE_CONTACT,
	SS_KIND_SECONDARY_CONTACT,
	SS_KIND_RISK_AREA_VISIT,
	SS_KIND_TEST_RESULT,
	SS_KIND_VACCINATION,
	SS_KIND_QUARANTINE_START,
	SS_KIND_QUARANTINE_END,
	SS_KIND_INBOUND_TRAVEL,
	SS_KIND_HEALTH_DECLARATION,
	SS_KIND_TRIP_DECLARATION,
	SS_KIND_MANUAL_OVERRIDE,
	SS_KIND_COUNT
};

/* risk_area_visit levels, ordered: a rule may say `level >= medium`. 0 is none. */
enum ss_rule_level { SS_LEVEL_NONE = 0, SS_LEVEL_LOW, SS_LEVEL_MEDIUM, SS_LEVEL_HIGH };

/* test_result results. 0 is none. */
enum ss_rule_result { SS_RESULT_NONE = 0, SS_RESULT_NEGATIVE, SS_RESULT_POSITIVE };

/*
 * One record as the evaluator sees it: a kind, a time and the attributes of
 * that kind, with no identity (who reported it, about whom) because no rule
 * needs one. The caller validates attributes when records are ingested; here a
 * comparison with an attribute the record does not carry (NULL text, level or
 * result 0, a temperature that is not finite) is false, whatever the operator.
 * A record of an unknown kind is ignored.
 */
struct ss_rule_record {
	int kind;            /* enum ss_rule_kind */
	int64_t occurred_at; /* Unix seconds; for test_result the sample time */

	const char *area;   /* risk_area_visit: 6-digit GB/T 2260 code (borrowed) */
	int level;          /* risk_area_visit: enum ss_rule_level */
	int result;         /* test_result: enum ss_rule_result */
	int dose;           /* vaccination: dose number */
	const char *origin; /* inbound_travel: country or division (borrowed) */
	double temperature; /* health_declaration: degrees Celsius (compared to 0.001) */
	int symptoms;       /* health_declaration: number of symptoms declared */
	int places;         /* trip_declaration: number of places declared */
	int color;          /* manual_override: enum ss_color */
	int64_t until;      /* manual_override: in force while now < until */
};

/* A rule that fired, as reported in a verdict. */
struct ss_rule_fired {
	const char *id;        /* owned by the rule set */
	int color;             /* enum ss_color */
	const char *reason_zh; /* owned by the rule set */
	const char *reason_en;
	/* index in records of the trigger: the newest record that makes the rule fire */
	size_t trigger;
	/* when the rule stops firing by itself (the trigger's window ends), 0 if only a new record can end it */
	int64_t ends_at;
	/*
	 * Records after the trigger that satisfy one of the rule's unless clauses
	 * but not yet enough of them (one negative test where two are needed), in
	 * record order: what the trigger was measured against. At most
	 * SS_RULES_MAX_AGAINST are reported.
	 */
	size_t nagainst;
	size_t against[SS_RULES_MAX_AGAINST];
};

struct ss_rule_verdict {
	int color;           /* the person's colour: the override's while one is in force, else rules_color */
	int rules_color;     /* what the rules alone say */
	bool overridden;     /* a manual_override is in force */
	size_t override;     /* its index in records, when overridden */
	int64_t review_at;   /* the earliest time the colour changes by itself, 0 if never (see ss_rules_evaluate) */
	size_t nfired_total; /* rules that fired */
	size_t nfired;       /* of which reported below: min(nfired_total, SS_RULES_MAX_FIRED) */
	struct ss_rule_fired fired[SS_RULES_MAX_FIRED]; /* red first, then yellow, then green; file order within */
};

/* A rule of a parsed set, for listing it. Pointers are owned by the rule set. */
struct ss_rule_info {
	const char *id;
	int color;
	const char *reason_zh, *reason_en;
	int64_t window; /* seconds of the trigger's window, 0 if it has none */
	size_t nunless; /* unless clauses */
	long line;      /* where the rule starts in the file */
};

struct ss_ruleset;

/*
 * Parses and checks a whole rule file of n bytes (it need not be
 * NUL-terminated). Every error found is reported through report(ctx, line,
 * message) as it is found: a line's first error when the line is read, what a
 * rule lacks (at its `rule` line) when the rule ends. report may be NULL; line
 * 0 is the file as a whole; messages are lowercase with no full stop. On success *out is a new
 * rule set. On any error *out is NULL and nothing is kept: SS_TOO_BIG when a
 * bound was passed (a file over SS_RULES_MAX_FILE bytes, which is not read at
 * all; a line over SS_RULES_MAX_LINE; over SS_RULES_MAX_RULES rules),
 * SS_INVALID otherwise.
 */
enum ss_err ss_rules_parse(const char *text, size_t n, struct ss_ruleset **out,
                           void (*report)(void *ctx, long line, const char *message), void *ctx) SS_MUST;

/* Takes one more reference to rs (any thread); returns rs. */
struct ss_ruleset *ss_rules_ref(struct ss_ruleset *rs);

/* Drops a reference, freeing the set with the last; NULL is a no-op. Verdicts pointing into it die with it. */
void ss_rules_free(struct ss_ruleset *rs);

/* The text of the file's version line. */
const char *ss_rules_version(const struct ss_ruleset *rs);

/* The whole text the set was parsed from. */
const char *ss_rules_text(const struct ss_ruleset *rs);

/* The number of rules, and the i-th in file order (false if i is out of range). */
size_t ss_rules_count(const struct ss_ruleset *rs);
bool ss_rules_get(const struct ss_ruleset *rs, size_t i, struct ss_rule_info *out);

/*
 * Evaluates the rule set over one person's n records as of time now (records
 * in any order). Records with occurred_at > now are ignored.
 *
 * A rule's trigger "within W" takes a record with now - W < occurred_at <=
 * now: a record exactly W old no longer counts. A record "after" the trigger
 * has occurred_at strictly greater than the trigger's. The rule fires if some
 * record matches its trigger and no unless clause releases that record. The
 * colour is the highest of the rules that fire (green if none), unless the
 * newest manual_override (by occurred_at, then by index) has now < until:
 * then it is that override's colour. An override whose colour is not a colour
 * is ignored.
 *
 * review_at is the earliest time after now at which the colour changes with
 * no new record (a window ends, an override expires, an expiring red uncovers
 * a yellow), 0 if it never does. If records dated after now would matter to a
 * rule or are overrides, review_at is no later than the first of them, so
 * they are taken into account as soon as they are current; that time may
 * turn out not to change the colour.
 *
 * Cost O(rules x records x SS_RULES_MAX_AT_LEAST) at worst; no allocation.
 */
void ss_rules_evaluate(const struct ss_ruleset *rs, const struct ss_rule_record *records, size_t n, int64_t now,
                       struct ss_rule_verdict *out);

/* The name of a kind ("close_contact"), NULL if kind is not one. */
const char *ss_rule_kind_name(int kind);

/* The kind named name (not SS_KIND_NONE); false if there is none. */
bool ss_rule_kind_parse(const char *name, int *kind);

/* "low", "medium", "high" and back; NULL / false if unknown. */
const char *ss_rule_level_name(int level);
bool ss_rule_level_parse(const char *name, int *level);

/* "negative", "positive" and back; NULL / false if unknown. */
const char *ss_rule_result_name(int result);
bool ss_rule_result_parse(const char *name, int *result);

#endif
