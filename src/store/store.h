/*
 * store: the storage interface. Everything suishen keeps durably goes
 * through the table of operations below; a back end (store_sqlite.c, later
 * store_pg.c) fills it in. No back end's types appear above this line, so
 * the domain (src/core/) never knows which database it runs on.
 *
 * Rows carry personal data only as sealed blobs (encrypted by the key ring
 * before they get here) and blind indexes; the store never sees clear text.
 *
 * Threads: one struct ss_store may be used by any number of threads; each
 * operation is atomic. begin .. commit group operations into one transaction
 * that belongs to the calling thread until it ends (other threads wait).
 * Transactions nest: an operation that is a transaction of its own (such as
 * status_put), or an inner begin .. commit, becomes part of the enclosing
 * one, and an inner rollback undoes only what was done since its begin.
 * Blobs read back are copied into the arena the caller passes.
 *
 * Errors: SS_CONFLICT for a unique key already taken, SS_NOT_FOUND for a
 * missing row, SS_BUSY when the database stays locked past the busy timeout
 * or a blob names a data key that is retiring or retired (the caller's key
 * ring is behind the store's: it catches up within seconds, core/app.h),
 * SS_INTERNAL for anything else (logged once by the back end).
 */
#ifndef SS_STORE_STORE_H
#define SS_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/arena.h"
#include "base/err.h"

#define SS_INDEX_LEN 32 /* a blind index (HMAC-SM3) */

struct ss_blob {
	const uint8_t *p;
	size_t n;
};

/* A key of the key ring, wrapped under the master key. */
struct ss_key_row {
	int64_t key_id;
	const char *purpose; /* "code", "data", "index" */
	const char *state;   /* "current", "active", "retired" */
	struct ss_blob wrapped;
	int64_t created_at;
};

/*
 * Every column that holds sealed blobs (crypto/keyring.h), as
 * X(table, id column, blob column, use): the id column is the table's integer
 * key, and use is the associated data the blobs were sealed for (core/pii.h).
 * Re-sealing under a new data key (core/reseal.h) walks them all, and each
 * back end refuses a blob in them that names a data key being retired: a
 * table or column that keeps sealed data is one more line here. (Sealed values
 * in meta are listed in core/reseal.c.)
 */
#define SS_STORE_SEALED(X)                                           \
	X(population, person_id, sealed, "person")                   \
	X(citizens, citizen_id, sealed, "citizen")                   \
	X(citizens, citizen_id, totp_sealed, "citizen-totp")         \
	X(terminals, terminal_id, secret_sealed, "terminal")         \
	X(source_clients, client_id, secret_sealed, "source_client") \
	X(records, record_seq, sealed, "record")                     \
	X(dependent_links, link_id, sealed, "citizen")               \
	X(appeals, appeal_id, sealed, "appeal")                      \
	X(appeals, appeal_id, data_check, "appeal-check")            \
	X(appeals, appeal_id, grass_check, "appeal-check")           \
	X(appeals, appeal_id, decision_sealed, "appeal-decision")

/* The sealed columns by number, in the order of SS_STORE_SEALED. */
enum ss_sealed_column {
#define SS_SEALED_ENUM(table, id, column, use) SS_SEALED_##table##_##column,
	SS_STORE_SEALED(SS_SEALED_ENUM)
#undef SS_SEALED_ENUM
	        SS_SEALED_COLUMNS
};

/* A person of the population registry. */
struct ss_person_row {
	int64_t person_id;
	uint8_t idx[SS_INDEX_LEN]; /* blind index of the ID number */
	char division[7];          /* where the person is registered (GB/T 2260) */
	struct ss_blob sealed;     /* the person's particulars, sealed */
	int64_t updated_at;
};

/* A registered resident. */
struct ss_citizen_row {
	int64_t citizen_id;
	int64_t person_id;
	uint8_t idx[SS_INDEX_LEN];
	struct ss_blob sealed;      /* name, ID number, phone: sealed */
	struct ss_blob totp_sealed; /* the TOTP secret: sealed */
	const char *password_hash;  /* PHC string */
	const char *channel;        /* where the resident registered */
	int64_t created_at;
	int64_t totp_last_step; /* the TOTP step of the last log-in (-1: none): a code is used once */
};

/* A session of a resident. */
struct ss_session_row {
	uint8_t token_hash[32];
	int64_t citizen_id;
	const char *channel;
	int64_t created_at, expires_at;
};

/* A member of staff. */
struct ss_staff_row {
	int64_t staff_id;
	const char *name;
	const char *role;
	uint8_t token_hash[32];
	int64_t created_at;
};

/* A terminal, with its place and organisation. */
struct ss_terminal_row {
	int64_t terminal_id;
	int64_t place_id;
	const char *scene;
	struct ss_blob secret_sealed;
	int64_t created_by; /* staff id */
	int64_t created_at;
	bool disabled;
	/* read back only: */
	const char *place, *org, *division;
};

/* A colour that is not the default green, or one change of colour. */
struct ss_status_row {
	int64_t person_id;
	int color; /* 0 green, 1 yellow, 2 red */
	int64_t since;
	const char *rule;   /* "manual", or the rule that fired */
	const char *reason; /* shown to the resident */
	int64_t set_by;     /* staff id, 0 if none */
	/* set by the rules (zero or NULL when set by hand: stored as 0, '' and '[]') */
	int64_t review_at;    /* when the colour changes by itself, 0 if never */
	const char *rule_set; /* the version of the rule set that gave it */
	const char *fired;    /* JSON: [{"rule","text_zh","text_en","records":[{"kind","occurred_at"}]}] (assign.h) */
	/* read back only by status_history_of_person and status_changes_after: */
	int64_t change_id;
};

/*
 * The nonce of a signed request whose effect is kept (core/sign.h): the
 * request's timestamp and the nonce cache's 64-bit key of its client and
 * nonce. ts 0: none.
 */
struct ss_nonce_row {
	int64_t ts;
	uint64_t key;
};

/* One scan, as recorded. */
struct ss_scan_row {
	int64_t scan_id;
	int64_t terminal_id, place_id;
	int scene, result;
	int64_t person_id, presenter_id; /* 0: none */
	int64_t key_id;
	int64_t code_issued_at;    /* when the code scanned was issued (unix seconds; 0 for an invalid code) */
	uint64_t code_fingerprint; /* tells the code scanned from every other, revealing nothing (crypto/code.h);
	                              0 for an invalid code: what the watcher keys a code by (core/alerts.h) */
	int64_t scanned_at_ms;
	/* read back only: */
	const char *place;
	/* written only: the nonce of the signed request that made the scan (ts 0: none), kept with it */
	struct ss_nonce_row nonce;
};

/* A link between a resident (the guardian) and a dependent of the registry (core/dependents.h). */
struct ss_dependent_row {
	int64_t link_id;            /* set by dependent_insert */
	int64_t guardian_id;        /* the guardian's citizen id */
	int64_t guardian_person_id; /* and person id */
	int64_t person_id;          /* the dependent */
	const char *relation;       /* "child", "parent", ... */
	const char *state;          /* "pending", "active", "declined", "removed", "ended", "withdrawn" */
	const char *basis;          /* what made it active: "registry", "birth_certificate", ... ("": none recorded) */
	int64_t adult_at;           /* when a minor dependent turns 18 (unix seconds); 0: an adult when added */
	struct ss_blob sealed;      /* the dependent's particulars, sealed as a holder's (core/pii.h) */
	int64_t created_at, changed_at;
};

/* A record from a data source (core/records.h), as kept. */
struct ss_record_row {
	int64_t record_seq;               /* place in arrival order (set by the store) */
	uint8_t record_key[SS_INDEX_LEN]; /* blind index of the record_id: one row per record_id */
	uint8_t idx[SS_INDEX_LEN];        /* blind index of the ID number it is about (registered or not) */
	const char *kind;                 /* "close_contact", ... */
	const char *source;               /* "lab", "province:32", ... */
	int64_t occurred_at;              /* unix seconds */
	struct ss_blob sealed;            /* record_id, ID number and attributes (JSON), sealed */
	int64_t received_at;              /* unix seconds */
};

/* A client of a data source (core/source.h): a system allowed to post records of one source. */
struct ss_source_client_row {
	int64_t client_id;
	const char *source; /* "lab", "province:32", ... */
	const char *name;   /* who it is, for people ("" if none) */
	struct ss_blob secret_sealed;
	int64_t created_by; /* staff id */
	int64_t created_at;
	bool disabled;
};

/* One entry of the audit log (core/audit.h). */
struct ss_audit_row {
	int64_t seq; /* 1, 2, ...: set by audit_append */
	int64_t at_ms;
	const char *actor; /* "staff", "citizen", "terminal", "source", "system" */
	int64_t actor_id;  /* 0 for the system */
	const char *action;
	int64_t subject; /* person id, 0 if none */
	const char *why; /* "" if none */
	bool unmasked;
	const char *detail; /* a JSON object */
	uint8_t prev[32];   /* set by audit_append */
	uint8_t hash[32];   /* set by audit_append through its chain function */
	/* read back only by audit_query: who the actor is ("" when not known) */
	const char *staff_role, *staff_name; /* actor staff */
	const char *org, *place, *scene;     /* actor terminal */
};

/* A security alert (core/alerts.h). */
struct ss_alert_row {
	int64_t alert_id; /* set by alert_put */
	const char *kind;
	int64_t raised_at_ms;
	const char *subject;
	const char *detail;                          /* a JSON object */
	int64_t acknowledged_by, acknowledged_at_ms; /* 0 while open */
	/* what it is about, by id (0: nothing), so that a read can name it */
	int64_t person_id, presenter_id; /* shared_code: the code's holder, and the relative presenting it */
	int64_t staff_id;                /* staff_reads */
	int64_t place_id[2];             /* probing: the terminal's place; shared_code: where seen first, then */
	/* read back only by alerts_list ("" or empty when there is none) */
	struct ss_blob person_sealed, presenter_sealed; /* their registry particulars, sealed (core/pii.h) */
	const char *org[2], *place[2];                  /* of place_id[i] */
	const char *staff_name, *staff_role;
	const char *acknowledged_name; /* of acknowledged_by */
};

/* What audit_query selects; zero or NULL members do not filter. */
struct ss_audit_filter {
	const char *actor;
	int64_t actor_id;
	const char *action;
	int64_t subject;
	int64_t from_ms, to_ms; /* at within [from_ms, to_ms] */
	bool unmasked;          /* only reads of unmasked personal data */
	int64_t before;         /* only entries with seq < before (paging back) */
	int limit;
};

/* An appeal (core/appeals.h), as kept. */
struct ss_appeal_row {
	int64_t appeal_id; /* set by appeal_insert */
	int64_t person_id;
	int64_t citizen_id;  /* the resident who filed it; 0 if an operator filed it for a caller */
	const char *channel; /* app, wechat, alipay, web, hotline */
	const char *filed_by;
	int64_t filed_by_id;
	const char *state;
	int64_t filed_at, due_at;
	int64_t handler_id;             /* 0: not assigned */
	struct ss_blob sealed;          /* ID number, reason, details */
	struct ss_blob data_check;      /* sealed; n == 0: not recorded */
	struct ss_blob grass_check;     /* sealed; n == 0: not recorded */
	const char *decision;           /* "", "upheld", "rejected" */
	int64_t decided_at;             /* 0: not decided */
	const char *color;              /* upheld: the colour set, else "" */
	int64_t until;                  /* upheld: until when, else 0 */
	struct ss_blob decision_sealed; /* the decision's reason, sealed; n == 0: none */
};

/* One transition of an appeal. */
struct ss_appeal_event_row {
	int64_t appeal_id;
	int64_t at;
	const char *action; /* filed, claimed, checked, decided, closed */
	const char *kind;   /* checked: data or grassroots; decided: upheld or rejected; else "" */
	const char *state;  /* the state after it */
	const char *actor;  /* citizen or staff */
	int64_t actor_id;
};

/* Appeals counted for metrics. */
struct ss_appeal_counts {
	int64_t open;    /* not yet decided */
	int64_t overdue; /* not yet decided and past due */
	int64_t decided;
	double median_decision_secs; /* of the decided ones; 0 if none */
};

/* An application of a rule set (core/rulejob.h), as kept. */
struct ss_rule_job_row {
	int64_t job_id; /* set by rule_job_insert */
	const char *version;
	const char *state;    /* "running", "done", "failed" */
	int64_t started_by;   /* staff id; 0: the command line */
	int64_t started_at;   /* unix seconds */
	int64_t finished_at;  /* unix seconds; 0 while running */
	int64_t people_total; /* people with records when it started; -1 until counted */
	int64_t people_done;  /* re-evaluated so far */
	int64_t changed;      /* of them, those whose colour changed (read only: rule_job_change counts them) */
	int64_t after;        /* everyone up to this person id is done */
	int64_t owner;        /* the process running it (a random token) */
	int64_t heartbeat_ms; /* when the owner last reported; 0: let go */
	const char *error;    /* failed: why; else "" */
};

struct ss_store;

struct ss_store_ops {
	const char *name;
	void (*close)(struct ss_store *s);

	enum ss_err (*begin)(struct ss_store *s);
	/* Ends the transaction; if that fails it has been rolled back: the caller must not roll back again. */
	enum ss_err (*commit)(struct ss_store *s);
	void (*rollback)(struct ss_store *s);

	enum ss_err (*meta_get)(struct ss_store *s, const char *key, struct ss_arena *a, struct ss_blob *out);
	enum ss_err (*meta_set)(struct ss_store *s, const char *key, struct ss_blob value);

	enum ss_err (*key_insert)(struct ss_store *s, const struct ss_key_row *row, int64_t *key_id);
	enum ss_err (*key_set_state)(struct ss_store *s, int64_t key_id, const char *state);
	/* Makes the current key of purpose (if any) active. */
	enum ss_err (*key_demote_current)(struct ss_store *s, const char *purpose);
	/* Calls fn for every key, oldest first; stops at the first error fn returns. */
	enum ss_err (*key_each)(struct ss_store *s, enum ss_err (*fn)(void *ctx, const struct ss_key_row *row),
	                        void *ctx);
	/* Replaces a key's wrapped secret (the master key was replaced). */
	enum ss_err (*key_rewrap)(struct ss_store *s, int64_t key_id, struct ss_blob wrapped);

	/*
	 * Re-sealing (core/reseal.h). sealed_rows: the rows of sealed column col
	 * with id > after that hold a blob (not NULL, not empty), in id order, at
	 * most limit; blobs copied to a. sealed_replace: sets row id's blob to
	 * blob if it still is old; SS_NOT_FOUND (and no change) if it is not (it
	 * changed meanwhile, or the row is gone).
	 */
	enum ss_err (*sealed_rows)(struct ss_store *s, enum ss_sealed_column col, int64_t after, int limit,
	                           struct ss_arena *a, enum ss_err (*fn)(void *ctx, int64_t id, struct ss_blob blob),
	                           void *ctx);
	enum ss_err (*sealed_replace)(struct ss_store *s, enum ss_sealed_column col, int64_t id, struct ss_blob old,
	                              struct ss_blob blob);

	/* Inserts a person, or replaces the particulars of the person with the same idx. */
	enum ss_err (*person_put)(struct ss_store *s, const struct ss_person_row *row, int64_t *person_id);
	enum ss_err (*person_get)(struct ss_store *s, const uint8_t idx[SS_INDEX_LEN], struct ss_arena *a,
	                          struct ss_person_row *out);
	enum ss_err (*person_count)(struct ss_store *s, int64_t *count);
	/* A person by id (idx included); SS_NOT_FOUND if there is none. */
	enum ss_err (*person_by_id)(struct ss_store *s, int64_t person_id, struct ss_arena *a,
	                            struct ss_person_row *out);
	/* The highest person id given so far (0 if none): people added later have higher ids. */
	enum ss_err (*person_max_id)(struct ss_store *s, int64_t *person_id);
	/* Makes the n blind indexes in idx the guardians the registry names for person_id, in place of any before. */
	enum ss_err (*registry_guardians_set)(struct ss_store *s, int64_t person_id, const uint8_t (*idx)[SS_INDEX_LEN],
	                                      size_t n);
	/* SS_OK if the registry names the person guardian_person_id as a guardian of person_id, else SS_NOT_FOUND. */
	enum ss_err (*registry_guardian_get)(struct ss_store *s, int64_t person_id, int64_t guardian_person_id);

	enum ss_err (*citizen_insert)(struct ss_store *s, const struct ss_citizen_row *row, int64_t *citizen_id);
	enum ss_err (*citizen_by_idx)(struct ss_store *s, const uint8_t idx[SS_INDEX_LEN], struct ss_arena *a,
	                              struct ss_citizen_row *out);
	enum ss_err (*citizen_by_id)(struct ss_store *s, int64_t citizen_id, struct ss_arena *a,
	                             struct ss_citizen_row *out);
	/*
	 * Ends a successful log-in with the TOTP step totp_step: records the step.
	 * SS_CONFLICT (and no change) if a step at or above it was used already
	 * (a replayed code).
	 */
	enum ss_err (*citizen_login_done)(struct ss_store *s, int64_t citizen_id, int64_t totp_step);
	/*
	 * Log-in throttling, kept per blind index of an ID number, whether or not
	 * anyone registered it (core/identity.h). login_claim claims one attempt,
	 * atomically: unless the number is blocked at now_ms, counts the attempt
	 * as a failure in advance (a count last claimed before forget_before_ms
	 * starts again from 0) and blocks the number until now_ms + delay_ms(ctx,
	 * new count) (0: not blocked), so concurrent attempts cannot outrun the
	 * count. SS_OK with the new count; SS_RATE_LIMITED with *blocked_until if
	 * blocked. login_clear forgets the count of idx (a success).
	 */
	enum ss_err (*login_claim)(struct ss_store *s, const uint8_t idx[SS_INDEX_LEN], int64_t now_ms,
	                           int64_t forget_before_ms, int64_t (*delay_ms)(void *ctx, int64_t failures),
	                           void *ctx, int64_t *failures, int64_t *blocked_until);
	enum ss_err (*login_clear)(struct ss_store *s, const uint8_t idx[SS_INDEX_LEN]);
	/*
	 * Forgets the counts last claimed before forget_before_ms that no longer
	 * block at now_ms, then, while more than max_rows are kept, the oldest
	 * (by last claim) that no longer block; *forgotten gets how many. Deletes
	 * in batches, letting other operations in between.
	 */
	enum ss_err (*login_forget)(struct ss_store *s, int64_t forget_before_ms, int64_t now_ms, int64_t max_rows,
	                            int64_t *forgotten);

	enum ss_err (*session_insert)(struct ss_store *s, const struct ss_session_row *row);
	enum ss_err (*session_get)(struct ss_store *s, const uint8_t token_hash[32], struct ss_arena *a,
	                           struct ss_session_row *out);
	/* Removes sessions that expired before now. */
	enum ss_err (*session_purge)(struct ss_store *s, int64_t now);
	/* Removes the session of token_hash (none: nothing to do). */
	enum ss_err (*session_delete)(struct ss_store *s, const uint8_t token_hash[32]);

	/* Calls fn for every registered resident: ids, sealed particulars, when they registered. */
	enum ss_err (*citizen_each)(struct ss_store *s,
	                            enum ss_err (*fn)(void *ctx, int64_t citizen_id, int64_t person_id,
	                                              struct ss_blob sealed, int64_t created_at),
	                            void *ctx);

	enum ss_err (*staff_insert)(struct ss_store *s, const struct ss_staff_row *row, int64_t *staff_id);
	enum ss_err (*staff_by_token)(struct ss_store *s, const uint8_t token_hash[32], struct ss_arena *a,
	                              struct ss_staff_row *out);

	/* The place named place of the organisation org, both made if missing. */
	enum ss_err (*place_ensure)(struct ss_store *s, const char *org, const char *place, const char *division,
	                            int64_t *place_id);
	enum ss_err (*terminal_insert)(struct ss_store *s, const struct ss_terminal_row *row, int64_t *terminal_id);
	enum ss_err (*terminal_get)(struct ss_store *s, int64_t terminal_id, struct ss_arena *a,
	                            struct ss_terminal_row *out);

	/* Sets a person's colour and appends it to their history, in one transaction. */
	enum ss_err (*status_put)(struct ss_store *s, const struct ss_status_row *row);
	enum ss_err (*status_get)(struct ss_store *s, int64_t person_id, struct ss_arena *a, struct ss_status_row *out);
	/* Calls fn for every person whose colour is not the default. */
	enum ss_err (*status_each)(struct ss_store *s, enum ss_err (*fn)(void *ctx, const struct ss_status_row *row),
	                           void *ctx);

	/*
	 * Appends n scans, and the nonces of the requests that made them, in one
	 * transaction (committed, on disk, when this returns SS_OK); SS_CONFLICT
	 * (and nothing kept) if one of the nonces is kept already.
	 */
	enum ss_err (*scan_append)(struct ss_store *s, const struct ss_scan_row *rows, size_t n);
	enum ss_err (*scan_max_id)(struct ss_store *s, int64_t *scan_id);
	/*
	 * The newest scans of a person, newest first, at most limit; with
	 * presented_only, only those of codes a relative presented for them.
	 */
	enum ss_err (*scans_of_person)(struct ss_store *s, int64_t person_id, bool presented_only, int limit,
	                               struct ss_arena *a, enum ss_err (*fn)(void *ctx, const struct ss_scan_row *row),
	                               void *ctx);

	/*
	 * The scans of a person (as holder of the code) with from_ms <= scanned_at
	 * <= to_ms, oldest first, at most limit; place names copied to a.
	 */
	enum ss_err (*scans_of_person_during)(struct ss_store *s, int64_t person_id, int64_t from_ms, int64_t to_ms,
	                                      int limit, struct ss_arena *a,
	                                      enum ss_err (*fn)(void *ctx, const struct ss_scan_row *row), void *ctx);
	/*
	 * The scans at a place with from_ms <= scanned_at <= to_ms that name a
	 * person, oldest first, at most limit: only place_id, person_id,
	 * presenter_id and scanned_at_ms are filled in (read from the index on
	 * place and time alone).
	 */
	enum ss_err (*scans_at_place)(struct ss_store *s, int64_t place_id, int64_t from_ms, int64_t to_ms, int limit,
	                              enum ss_err (*fn)(void *ctx, const struct ss_scan_row *row), void *ctx);

	/* Relatives (core/dependents.h). A live link is one in state pending or active. */
	/* Keeps a new link; SS_CONFLICT if the guardian has a live link to the same person already. */
	enum ss_err (*dependent_insert)(struct ss_store *s, const struct ss_dependent_row *row, int64_t *link_id);
	/* A link by id, blobs and text copied to a; SS_NOT_FOUND if there is none. */
	enum ss_err (*dependent_get)(struct ss_store *s, int64_t link_id, struct ss_arena *a,
	                             struct ss_dependent_row *out);
	/*
	 * Moves a link from state from to state to at now, with basis (NULL: the
	 * one it has); SS_NOT_FOUND (and no change) if it is not in from.
	 */
	enum ss_err (*dependent_set_state)(struct ss_store *s, int64_t link_id, const char *from, const char *to,
	                                   const char *basis, int64_t now);
	/*
	 * Calls fn for the links of guardian_id (0: any) about person_id (0: any)
	 * in state (NULL: any), oldest first; blobs and text copied to a. The
	 * rows are read before fn is called, so fn may write to the store.
	 */
	enum ss_err (*dependent_each)(struct ss_store *s, int64_t guardian_id, int64_t person_id, const char *state,
	                              struct ss_arena *a,
	                              enum ss_err (*fn)(void *ctx, const struct ss_dependent_row *row), void *ctx);

	/* Stores a rule set's text under its version and makes it the only active one, in one transaction. */
	enum ss_err (*rule_set_put)(struct ss_store *s, const char *version, const char *text, int64_t loaded_at);
	/* The active rule set's version and text (copied to a); SS_NOT_FOUND if none was ever stored. */
	enum ss_err (*rule_set_active)(struct ss_store *s, struct ss_arena *a, const char **version, const char **text);
	/* The changes of a person's colour, newest first, at most limit; text copied to a. */
	enum ss_err (*status_history_of_person)(struct ss_store *s, int64_t person_id, int limit, struct ss_arena *a,
	                                        enum ss_err (*fn)(void *ctx, const struct ss_status_row *row),
	                                        void *ctx);
	/*
	 * Calls fn for every change of colour after the change after_id, oldest
	 * first (row->change_id increases), so that a process can follow what
	 * another one wrote.
	 */
	enum ss_err (*status_changes_after)(struct ss_store *s, int64_t after_id,
	                                    enum ss_err (*fn)(void *ctx, const struct ss_status_row *row), void *ctx);
	/*
	 * The people (id and blind index) whose colour is due for review at now
	 * (0 < review_at <= now), earliest first, at most limit: found through an
	 * index, so the cost follows the number due, not the population.
	 */
	enum ss_err (*statuses_due)(struct ss_store *s, int64_t now, int limit,
	                            enum ss_err (*fn)(void *ctx, int64_t person_id, const uint8_t idx[SS_INDEX_LEN]),
	                            void *ctx);

	/*
	 * Keeps a record, unless one with the same record_key is kept already:
	 * then SS_CONFLICT ("duplicate, ignored") and nothing changes. *record_seq
	 * (if not NULL) gets the new row's place in arrival order.
	 */
	enum ss_err (*record_put)(struct ss_store *s, const struct ss_record_row *row, int64_t *record_seq);
	/* Calls fn for every record about idx, oldest first (occurred_at, then arrival); blobs and text copied to a. */
	enum ss_err (*records_of_person)(struct ss_store *s, const uint8_t idx[SS_INDEX_LEN], struct ss_arena *a,
	                                 enum ss_err (*fn)(void *ctx, const struct ss_record_row *row), void *ctx);
	/*
	 * Calls fn for the people of the registry who have at least one record
	 * and whose person_id is above after, in person_id order, at most limit
	 * (at most 1,000) of them: one batch of a walk over everyone the rules
	 * can colour (core/assign.h). The batch is read before fn is called, so
	 * fn may write to the store. division: the person's (6 digits).
	 */
	enum ss_err (*record_people_each)(struct ss_store *s, int64_t after, int limit,
	                                  enum ss_err (*fn)(void *ctx, int64_t person_id,
	                                                    const uint8_t idx[SS_INDEX_LEN], const char *division),
	                                  void *ctx);

	/*
	 * Appends n entries to the audit log in one transaction (part of the
	 * caller's, if one is open): each gets the next seq and, as prev, the hash
	 * of the entry before it; chain(row) then sets row->hash. Rows are
	 * updated in place.
	 */
	enum ss_err (*audit_append)(struct ss_store *s, struct ss_audit_row *rows, size_t n,
	                            void (*chain)(struct ss_audit_row *row));
	/* The last entry's seq and hash (0 and zeros if the log is empty). */
	enum ss_err (*audit_last)(struct ss_store *s, int64_t *seq, uint8_t hash[32]);
	/* Calls fn for the entries with seq > after, in order, at most limit; text copied to a. */
	enum ss_err (*audit_each)(struct ss_store *s, int64_t after, int limit, struct ss_arena *a,
	                          enum ss_err (*fn)(void *ctx, const struct ss_audit_row *row), void *ctx);
	/* The entries f selects, newest first, with who their actors are; text copied to a. */
	enum ss_err (*audit_query)(struct ss_store *s, const struct ss_audit_filter *f, struct ss_arena *a,
	                           enum ss_err (*fn)(void *ctx, const struct ss_audit_row *row), void *ctx);
	/* Keeps a signed checkpoint of the chain at entry seq. */
	enum ss_err (*audit_checkpoint_put)(struct ss_store *s, int64_t seq, const uint8_t hash[32], struct ss_blob sig,
	                                    int64_t at_ms);
	/* Calls fn for every checkpoint, in order of seq; blobs copied to a. */
	enum ss_err (*audit_checkpoint_each)(struct ss_store *s, struct ss_arena *a,
	                                     enum ss_err (*fn)(void *ctx, int64_t seq, const uint8_t *hash,
	                                                       struct ss_blob sig, int64_t at_ms),
	                                     void *ctx);

	/*
	 * Calls fn for the scans with scan_id > after, in order, at most limit
	 * (place names are not read): a reader following the scan log.
	 */
	enum ss_err (*scans_after)(struct ss_store *s, int64_t after, int limit,
	                           enum ss_err (*fn)(void *ctx, const struct ss_scan_row *row), void *ctx);
	/* Keeps an alert; row->alert_id gets its id. */
	enum ss_err (*alert_put)(struct ss_store *s, struct ss_alert_row *row);
	/*
	 * Calls fn for the alerts raised at or after since_ms (0: any), of kind (NULL:
	 * any), with alert_id < before (0: any), newest first, at most limit, with
	 * the names of what they are about; text and blobs copied to a.
	 */
	enum ss_err (*alerts_list)(struct ss_store *s, int64_t since_ms, const char *kind, int64_t before, int limit,
	                           struct ss_arena *a, enum ss_err (*fn)(void *ctx, const struct ss_alert_row *row),
	                           void *ctx);
	/*
	 * Marks an alert acknowledged by staff_id at at_ms; SS_NOT_FOUND if there is
	 * no such alert, SS_CONFLICT (and no change) if it was acknowledged already.
	 */
	enum ss_err (*alert_ack)(struct ss_store *s, int64_t alert_id, int64_t staff_id, int64_t at_ms);

	enum ss_err (*client_insert)(struct ss_store *s, const struct ss_source_client_row *row, int64_t *client_id);
	/* A source client; SS_NOT_FOUND if there is none with client_id. */
	enum ss_err (*client_get)(struct ss_store *s, int64_t client_id, struct ss_arena *a,
	                          struct ss_source_client_row *out);
	/* Appeals (core/appeals.h). */
	enum ss_err (*appeal_insert)(struct ss_store *s, const struct ss_appeal_row *row, int64_t *appeal_id);
	/* An appeal by id, blobs and text copied to a; SS_NOT_FOUND if there is none. */
	enum ss_err (*appeal_get)(struct ss_store *s, int64_t appeal_id, struct ss_arena *a, struct ss_appeal_row *out);
	/* Writes an appeal's mutable members (state .. decision_sealed) as row has them. */
	enum ss_err (*appeal_update)(struct ss_store *s, const struct ss_appeal_row *row);
	enum ss_err (*appeal_event_insert)(struct ss_store *s, const struct ss_appeal_event_row *row);
	/* Calls fn for every event of an appeal, oldest first. */
	enum ss_err (*appeal_events)(struct ss_store *s, int64_t appeal_id, struct ss_arena *a,
	                             enum ss_err (*fn)(void *ctx, const struct ss_appeal_event_row *row), void *ctx);
	/* Calls fn for a person's appeals, newest first, at most limit; blobs and text copied to a. */
	enum ss_err (*appeals_of_person)(struct ss_store *s, int64_t person_id, int limit, struct ss_arena *a,
	                                 enum ss_err (*fn)(void *ctx, const struct ss_appeal_row *row), void *ctx);
	/*
	 * One page of the queue: the appeals in state (NULL: any) after
	 * (after_due, after_id) in (due_at, appeal_id) order, at most limit, read
	 * through an index (keyset paging; the cost follows limit, not the queue).
	 * Rows carry no blobs.
	 */
	enum ss_err (*appeal_queue)(struct ss_store *s, const char *state, int64_t after_due, int64_t after_id,
	                            int limit, struct ss_arena *a,
	                            enum ss_err (*fn)(void *ctx, const struct ss_appeal_row *row), void *ctx);
	/* Open, overdue at now, decided, and the median time to decision. */
	enum ss_err (*appeal_counts)(struct ss_store *s, int64_t now, struct ss_appeal_counts *out);

	/*
	 * The dashboard's counts (no personal data). scan_counts: the scans with
	 * from_ms <= scanned_at < to_ms, read through the index on their time,
	 * one call of fn per (slot, scene, result) with its count, where slot is
	 * (scanned_at - from_ms) / width_ms. residents_by_division: the registered
	 * residents, one call of fn per division (color -1) with its count (a
	 * walk over every resident); colors_by_division: those of them whose
	 * colour is not green, one call per (division, colour) (a walk over the
	 * colours that are not green).
	 */
	enum ss_err (*scan_counts)(struct ss_store *s, int64_t from_ms, int64_t to_ms, int64_t width_ms,
	                           void (*fn)(void *ctx, int64_t slot, int scene, int result, int64_t n), void *ctx);
	enum ss_err (*residents_by_division)(struct ss_store *s,
	                                     void (*fn)(void *ctx, const char *division, int color, int64_t n),
	                                     void *ctx);
	enum ss_err (*colors_by_division)(struct ss_store *s,
	                                  void (*fn)(void *ctx, const char *division, int color, int64_t n), void *ctx);

	/*
	 * The nonces of signed requests whose effect is kept (core/sign.h).
	 * nonce_put keeps one (in the caller's transaction, if one is open: the
	 * one that keeps what the request did); SS_CONFLICT if (ts, key) is kept
	 * already. nonces_after calls fn for every nonce with ts > after;
	 * nonce_purge removes those with ts <= before.
	 */
	enum ss_err (*nonce_put)(struct ss_store *s, const struct ss_nonce_row *row);
	enum ss_err (*nonces_after)(struct ss_store *s, int64_t after,
	                            enum ss_err (*fn)(void *ctx, const struct ss_nonce_row *row), void *ctx);
	enum ss_err (*nonce_purge)(struct ss_store *s, int64_t before);

	/*
	 * A number that changes when another connection (another process) has
	 * committed to the store since the last call, and stays the same while
	 * only this one writes. Cheap enough to ask several times a second, so a
	 * process can follow what others write, and only when they wrote.
	 */
	enum ss_err (*data_version)(struct ss_store *s, int64_t *version);

	/*
	 * Rule jobs (core/rulejob.h). rule_job_get: the job job_id, or with 0
	 * the newest; text copied to a. rule_job_update: writes the job's state,
	 * finished_at, people_total, people_done, after, owner, heartbeat_ms and
	 * error as row has them, if its owner is owner and it is running, else
	 * SS_CONFLICT and no change. rule_job_change: counts one change of colour
	 * made by the job, in the district division, and writes where the job is
	 * (row's after and people_done) with it, under the same condition.
	 * rule_job_changes: calls fn for each (division, from, to) the job
	 * changed, with its count, in that order.
	 */
	enum ss_err (*rule_job_insert)(struct ss_store *s, const struct ss_rule_job_row *row, int64_t *job_id);
	enum ss_err (*rule_job_get)(struct ss_store *s, int64_t job_id, struct ss_arena *a,
	                            struct ss_rule_job_row *out);
	enum ss_err (*rule_job_update)(struct ss_store *s, const struct ss_rule_job_row *row, int64_t owner);
	enum ss_err (*rule_job_change)(struct ss_store *s, const struct ss_rule_job_row *row, int64_t owner,
	                               const char *division, int from, int to);
	enum ss_err (*rule_job_changes)(struct ss_store *s, int64_t job_id,
	                                void (*fn)(void *ctx, const char *division, int from, int to, int64_t n),
	                                void *ctx);
	/* The people with at least one record whose person_id is in (after, upto] (see record_people_each). */
	enum ss_err (*record_people_count)(struct ss_store *s, int64_t after, int64_t upto, int64_t *n);
};

struct ss_store {
	const struct ss_store_ops *ops;
};

/*
 * Opens (creating if asked) the store of a data directory and brings its
 * schema up to date by applying the numbered migrations not yet applied, each
 * in its own transaction. backend: "sqlite" (DIR/suishen.db). SS_NOT_FOUND if
 * the database does not exist and create is false.
 */
enum ss_err ss_store_open(const char *backend, const char *data_dir, bool create, struct ss_store **out) SS_MUST;

/* Closes the store; NULL is a no-op. */
void ss_store_close(struct ss_store *s);

/* The SQLite back end (store_sqlite.c). */
enum ss_err ss_store_sqlite_open(const char *path, bool create, struct ss_store **out) SS_MUST;

#endif
