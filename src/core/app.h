/*
 * app: one opened data directory: its store, its key ring, its settings.
 *
 * Every command and the server start by opening the data directory with
 * ss_app_open(), which finds the master key (SUISHEN_MASTER_KEY, else
 * DIR/master.key), opens the store (applying migrations), refuses a master key
 * that is not the one the directory was initialised with, loads the key
 * ring and reads the settings file DIR/suishen.conf (SS_APP_CONF) if there is
 * one. With create set (suishen init) it makes whatever is missing; opening
 * an initialised directory again changes nothing, so init is idempotent.
 *
 * An app is shared by all threads of the server; its parts are thread-safe.
 */
#ifndef SS_CORE_APP_H
#define SS_CORE_APP_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/err.h"
#include "crypto/keyring.h"
#include "store/store.h"

#define SS_APP_CONF "suishen.conf" /* the settings file in a data directory (base/conf.h) */

struct ss_app_config {
	int64_t session_ttl;    /* seconds a resident's session lasts (default 12 h) */
	int64_t code_ttl;       /* seconds a code stays valid (default 60) */
	int64_t login_delay_ms; /* first delay after repeated login failures (default 1000) */
};

struct ss_holders;
struct ss_scanlog;
struct ss_nonce_cache;
struct ss_terminals;
struct ss_ruleset;
struct ss_dependents;
struct ss_conf;
struct ss_alerts;
struct ss_rulejobs;

struct ss_app {
	char *data_dir;
	struct ss_store *store;
	struct ss_keyring *keys;
	bool master_from_env; /* the master key came from SUISHEN_MASTER_KEY, not DIR/master.key */
	struct ss_app_config cfg;
	/* what serving needs (ss_app_start): NULL until then */
	struct ss_holders *holders;     /* colours and particulars of code holders, in memory */
	struct ss_scanlog *scanlog;     /* the one writer of scans */
	struct ss_store *scan_store;    /* its own connection to the store: its commits wait for no other caller */
	struct ss_nonce_cache *nonces;  /* nonces of signed requests seen within the window */
	struct ss_terminals *terminals; /* terminals' keys and scenes, cached */
	struct ss_ruleset *rules;       /* the active rule set (core/assign.h): NULL until loaded */
	pthread_mutex_t rules_lock;     /* guards the pointer rules: a rule set in use is held by a reference */
	struct ss_rulejobs *rulejobs;   /* the job thread that applies rule sets (core/rulejob.h) */
	int audited;                    /* entries this process added to the audit log (atomic; core/audit.h) */
	struct ss_conf *conf;           /* DIR/suishen.conf (base/conf.h); empty if there is none */
	struct ss_alerts *alerts;       /* the security watcher (core/alerts.h): NULL until ss_app_start */
	/* the active links of relatives (core/dependents.h), in memory: NULL until ss_app_start */
	struct ss_dependents *dependents;
};

/* Opens (with create: initialises) the data directory dir. Messages say what to do. */
enum ss_err ss_app_open(const char *dir, bool create, struct ss_app **out) SS_MUST;

/*
 * Loads what serving needs: the table of code holders, the terminal cache, the
 * nonce cache and the security watcher (whose thresholds the settings file
 * may set: SS_INVALID naming a bad one), and, with writer (a server), fills
 * the nonce cache with the nonces the store keeps (core/sign.h) and starts
 * the scan writer. Idempotent.
 */
enum ss_err ss_app_start(struct ss_app *app, bool writer) SS_MUST;

/* Closes everything (stopping the scan writer after it has written what is queued); NULL is a no-op. */
void ss_app_close(struct ss_app *app);

/* Makes a new current key of purpose (code or data); the previous one stays active. */
enum ss_err ss_app_rotate_key(struct ss_app *app, enum ss_key_purpose purpose, uint32_t *key_id) SS_MUST;

/* Retires a code key that is not current: codes made with it stop verifying (data keys: core/reseal.h). */
enum ss_err ss_app_retire_key(struct ss_app *app, uint32_t key_id) SS_MUST;

/*
 * Brings the key ring in step with the store (keys rotated or retired by
 * another process): a data key that retired leaves the ring once the holders'
 * particulars in memory are re-sealed under the current key. A process whose
 * master key was replaced keeps the keys it has (SS_INVALID says so: it must
 * restart with the new one to load any other).
 */
enum ss_err ss_app_reload_keys(struct ss_app *app) SS_MUST;

/*
 * The master key that is to replace the current one: the 64 hex characters
 * of SUISHEN_NEW_MASTER_KEY (then wiped from the environment; *given set), or
 * a random one.
 */
enum ss_err ss_app_next_master(uint8_t key[SS_MASTER_KEY_LEN], bool *given) SS_MUST;

/*
 * Replaces the master key with master, all or nothing: every key of the store
 * (retired ones too) is re-wrapped under it and the check value replaced in
 * one transaction, with its audit entry (key.master); *rewrapped says how
 * many keys. If the master key came from DIR/master.key, the new one takes
 * its place there atomically (written to master.key.new before the commit,
 * renamed after; an open completes a rename a crash cut short). If it came
 * from SUISHEN_MASTER_KEY, the caller hands the new one over. On failure the
 * old master key goes on opening everything. Running processes keep their
 * keys; they need the new master key only to start, or to load a key made
 * after the replacement.
 */
enum ss_err ss_app_replace_master(struct ss_app *app, const uint8_t master[SS_MASTER_KEY_LEN], int *rewrapped) SS_MUST;

/* Makes a random token (64 hex characters) and its SM3 hash for storing. */
enum ss_err ss_app_new_token(char token[65], uint8_t hash[32]) SS_MUST;

/* The SM3 hash under which a presented token is stored; false if it is not 64 hex characters. */
bool ss_app_token_hash(const char *token, uint8_t hash[32]);

#endif
