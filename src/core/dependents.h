/*
 * dependents: relatives' codes (亲属码). A resident (the guardian) shows a
 * code for a dependent of the population registry who has no phone: a child,
 * an elder. The code's person is the dependent and its presenter the guardian
 * (crypto/code.h); a scan answers the dependent's colour and who presents it.
 *
 * A link joins a guardian's account and a dependent. The dependent passes the
 * real-name check of registration (identity.h); knowing a child's name and ID
 * number is not authority over them. So a link is active only on a basis:
 * a minor's (under 18 by the birth date of the ID number) at once if the
 * registry names the guardian among the child's guardians (its guardians
 * column, population.h), else once a hotline operator has seen the child's
 * birth certificate or household register; an adult's once the adult
 * consents, in the app if they are a registered resident, else on a call with
 * a hotline operator. Until then the link is pending and issues no code.
 *
 * A link may be declined (by the adult, while pending), withdrawn (by the
 * adult, once active: consent given can be taken back), removed (by the
 * guardian), or end by itself: when a minor turns 18, or when the registry
 * that made it no longer names the guardian (a later import changed the
 * child's guardians); both are checked at every use (listing, code issue;
 * a scan, from memory, sees the age). At most SS_DEPENDENTS_MAX live
 * (pending or active) links per account, SS_GUARDIANS_MAX active ones per
 * minor, one live one per guardian and dependent; nobody links themself.
 * Every change is audited (core/audit.h: dependent.add, .consent, .decline,
 * .confirm, .document, .withdraw, .remove, .ended) about the dependent's
 * person id, with ids and codes only (the basis: which document was seen).
 *
 * The scan path reads no row: the active links live in memory (struct
 * ss_dependents, keyed by guardian and dependent person ids), loaded at start
 * (ss_dependents_load, which also makes each linked dependent a holder,
 * core/holders.h) and changed here, after the store, on every change this
 * process makes. Thread-safe.
 */
#ifndef SS_CORE_DEPENDENTS_H
#define SS_CORE_DEPENDENTS_H

#include <stdbool.h>
#include <stdint.h>

#include "base/arena.h"
#include "base/err.h"
#include "core/app.h"
#include "core/idcard.h"
#include "core/mask.h"

#define SS_DEPENDENTS_MAX 5  /* live links per guardian's account */
#define SS_GUARDIANS_MAX  2  /* active links per minor */
#define SS_ADULT_AGE      18 /* a link of a minor ends at this age */

enum ss_relation {
	SS_REL_CHILD,
	SS_REL_GRANDCHILD,
	SS_REL_PARENT,
	SS_REL_GRANDPARENT,
	SS_REL_SPOUSE,
	SS_REL_OTHER,
	SS_RELATIONS
};

/* "child", "grandchild", "parent", "grandparent", "spouse", "other"; and back (false if none). */
const char *ss_relation_name(int relation);
bool ss_relation_parse(const char *name, int *relation);

/*
 * The moment (unix seconds) the person of id turns SS_ADULT_AGE: the start
 * of that birthday in China (UTC+8; born on 29 February, 1 March in a common
 * year), so that ss_idcard_age() is SS_ADULT_AGE from then on and one less
 * just before.
 */
int64_t ss_dependents_adult_at(const struct ss_idcard *id);

/* True if a link whose minor turns 18 at adult_at (0: an adult's link) has ended by itself at now. */
bool ss_dependents_of_age(int64_t adult_at, int64_t now);

/* The in-memory table of active links. */
struct ss_dependents;

struct ss_dependents *ss_dependents_new(void);
void ss_dependents_free(struct ss_dependents *d);

/* Makes the link of guardian (person id) to person active, with its relation and adult_at. */
void ss_dependents_put(struct ss_dependents *d, int64_t guardian, int64_t person, int relation, int64_t adult_at);

/* Forgets the link of guardian to person (no-op if there is none). */
void ss_dependents_drop(struct ss_dependents *d, int64_t guardian, int64_t person);

/*
 * True, with the relation, if guardian (person id) has an active link to
 * person that has not ended at now. No allocation: the scan path calls it.
 */
bool ss_dependents_live(const struct ss_dependents *d, int64_t guardian, int64_t person, int64_t now, int *relation);

/* How many active links the table holds. */
int64_t ss_dependents_count(const struct ss_dependents *d);

/* Fills app->dependents (made if NULL) from the store's active links, making each dependent a holder. */
enum ss_err ss_dependents_load(struct ss_app *app) SS_MUST;

/* A link as shown to people: particulars masked. */
struct ss_dependent {
	int64_t link_id;
	int64_t guardian_id, guardian_person_id, person_id;
	int relation;
	const char *state; /* "pending", "active", "declined", "removed", "ended", "withdrawn" */
	const char *basis; /* what made it active: "registry", "birth_certificate", "household_register", "app",
	                      "hotline"; "" if nothing is recorded (pending, or active from before bases were kept) */
	int64_t created_at, changed_at;
	int64_t adult_at;            /* 0: an adult's link */
	char name[SS_MASK_MAX];      /* the dependent's, masked */
	char id_number[SS_MASK_MAX]; /* the dependent's, masked */
};

struct ss_dependent_request {
	const char *name, *id_number, *relation;
};

/*
 * Links the dependent of req to the account of citizen_id at now: SS_INVALID
 * naming relation, name or id_number (also for oneself); SS_MISMATCH if the
 * real-name check fails; SS_CONFLICT for a duplicate or a limit reached
 * (nothing written). out: the new link, active (basis "registry") for a minor
 * whose guardians in the registry include the resident, else pending.
 */
enum ss_err ss_dependents_add(struct ss_app *app, int64_t citizen_id, const struct ss_dependent_request *req,
                              int64_t now, struct ss_dependent *out) SS_MUST;

/* Calls fn for every link of citizen_id's account but removed ones, oldest first (ending those of age). */
enum ss_err ss_dependents_list(struct ss_app *app, int64_t citizen_id, int64_t now,
                               enum ss_err (*fn)(void *ctx, const struct ss_dependent *dep), void *ctx) SS_MUST;

/*
 * The active link link_id of citizen_id's account (ending it first if it has
 * ended by itself): SS_NOT_FOUND if there is none of theirs (or it was
 * removed), SS_CONFLICT if it is pending, declined, withdrawn or ended.
 */
enum ss_err ss_dependents_active(struct ss_app *app, int64_t citizen_id, int64_t link_id, int64_t now,
                                 struct ss_dependent *out) SS_MUST;

/* Removes link link_id of citizen_id's account; SS_NOT_FOUND if there is none of theirs. */
enum ss_err ss_dependents_remove(struct ss_app *app, int64_t citizen_id, int64_t link_id, int64_t now) SS_MUST;

/*
 * Calls fn for every link in state ("pending": the requests for consent;
 * "active": who may show my code) that names the resident citizen_id as an
 * adult dependent, oldest first; dep->name and dep->id_number are then the
 * guardian's, masked. A minor's links are not listed: they are not the
 * minor's to answer.
 */
enum ss_err ss_dependents_naming(struct ss_app *app, int64_t citizen_id, const char *state,
                                 enum ss_err (*fn)(void *ctx, const struct ss_dependent *dep), void *ctx) SS_MUST;

/*
 * The resident citizen_id accepts (or declines) the pending link link_id that
 * names them: SS_NOT_FOUND if it does not name them, SS_CONFLICT if it is not
 * pending or is a minor's. out: the link afterwards.
 */
enum ss_err ss_dependents_answer(struct ss_app *app, int64_t citizen_id, int64_t link_id, bool accept, int64_t now,
                                 struct ss_dependent *out) SS_MUST;

/*
 * The adult resident citizen_id withdraws the consent they gave to the
 * active link link_id that names them: it becomes withdrawn, and the
 * guardian's codes for them stop scanning at once. SS_NOT_FOUND if it does
 * not name them, SS_CONFLICT if it is not active or is a minor's.
 */
enum ss_err ss_dependents_withdraw(struct ss_app *app, int64_t citizen_id, int64_t link_id, int64_t now,
                                   struct ss_dependent *out) SS_MUST;

/*
 * A hotline operator (staff_id) confirms the pending link link_id of an
 * adult after a call in which the adult consented: SS_NOT_FOUND if there is
 * no such link, SS_CONFLICT if it is not pending, is a minor's (see
 * ss_dependents_document), or its dependent is a registered resident (who
 * consents in the app).
 */
enum ss_err ss_dependents_confirm(struct ss_app *app, int64_t staff_id, int64_t link_id, int64_t now,
                                  struct ss_dependent *out) SS_MUST;

/*
 * A hotline operator (staff_id) has seen document, which names the guardian
 * as the parent or guardian of the minor of the pending link link_id: the
 * link becomes active with document as its basis. SS_INVALID naming document
 * for another document; SS_NOT_FOUND if there is no such link; SS_CONFLICT if
 * it is not pending, is an adult's, or the minor has SS_GUARDIANS_MAX active
 * links already.
 */
enum ss_err ss_dependents_document(struct ss_app *app, int64_t staff_id, int64_t link_id, const char *document,
                                   int64_t now, struct ss_dependent *out) SS_MUST;

/* A link by id, for staff; SS_NOT_FOUND if there is none. */
enum ss_err ss_dependents_get(struct ss_app *app, int64_t link_id, struct ss_dependent *out) SS_MUST;

#endif
