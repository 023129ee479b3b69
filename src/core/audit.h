/*
 * audit: the tamper-evident audit log. Every staff action, every read of a
 * person's unmasked data (a hospital scan, a staff look-up), every change of
 * colour and its cause, every key operation and every log-in is appended as
 * an entry: who (actor and id), what (action), about whom (subject: a person
 * id, never a name or an ID number), why (the scene or case behind a read)
 * and details as a JSON object of ids and codes.
 *
 * Entries are chained: each carries the SM3 hash of the one before it and
 * its own hash over that and its fields, so changing, removing or inserting
 * one breaks the chain from there on. At checkpoints the latest hash is signed
 * with the audit key (SM2; its private half sealed in the store under the key
 * ring, its public half beside it), so the chain cannot be recomputed after
 * a change without the key either. ss_audit_verify walks the whole log and
 * names the first entry that does not fit.
 *
 * An entry is appended in a transaction of its own, or as part of the
 * caller's if one is open (store transactions nest), so an action and its
 * entry are kept together. Thread-safe.
 */
#ifndef SS_CORE_AUDIT_H
#define SS_CORE_AUDIT_H

#include <stdbool.h>
#include <stdint.h>

#include "base/err.h"
#include "core/app.h"
#include "store/store.h"

/* Where the audit key's private half is kept (meta), and the use it is sealed for (core/reseal.c re-seals it). */
#define SS_AUDIT_KEY_META "audit.key"
#define SS_AUDIT_KEY_USE  "audit-key"

/* Who acted. */
enum ss_actor { SS_ACTOR_SYSTEM, SS_ACTOR_STAFF, SS_ACTOR_CITIZEN, SS_ACTOR_TERMINAL, SS_ACTOR_SOURCE };

/* "system", "staff", "citizen", "terminal", "source". */
const char *ss_actor_name(enum ss_actor a);

/* True and the actor if name is one of the names above. */
bool ss_actor_parse(const char *name, enum ss_actor *out);

struct ss_audit_event {
	enum ss_actor actor;
	int64_t actor_id;   /* staff, citizen, terminal or source client id; 0 for the system */
	const char *action; /* "status.set", "scan.unmasked", "login", ... */
	int64_t subject;    /* the person concerned (person id), 0 if none */
	const char *why;    /* the scene or case behind a read ("hospital", "appeal:12"), NULL if none */
	bool unmasked;      /* the subject's personal data was read unmasked */
	const char *detail; /* a JSON object of ids and codes, no personal data; NULL for {} */
};

/* Appends one event, now. */
enum ss_err ss_audit(struct ss_app *app, const struct ss_audit_event *e) SS_MUST;

/*
 * Appends n rows (at_ms, actor, ... filled in; seq, prev and hash are set
 * here) in one transaction of the store s: for a writer that already has rows
 * in hand, such as the scan writer.
 */
enum ss_err ss_audit_append(struct ss_store *s, struct ss_audit_row *rows, size_t n) SS_MUST;

/*
 * Signs the hash of the latest entry with the audit key (made on first use)
 * unless it is signed already; *made (if not NULL) tells whether a checkpoint
 * was made.
 */
enum ss_err ss_audit_checkpoint(struct ss_app *app, bool *made) SS_MUST;

struct ss_audit_report {
	int64_t entries;     /* entries checked */
	int64_t checkpoints; /* signed checkpoints checked */
	int64_t first_bad;   /* the first entry that does not fit (0: none) */
	char reason[256];    /* why, for people */
};

/*
 * Recomputes the whole chain and checks every checkpoint's hash and
 * signature. SS_OK with first_bad 0 if everything fits; SS_CONFLICT with
 * first_bad and reason naming the first entry that does not (changed,
 * missing, inserted, or removed from the end).
 */
enum ss_err ss_audit_verify(struct ss_app *app, struct ss_audit_report *out) SS_MUST;

#endif
