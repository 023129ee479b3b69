/* app: opening a data directory: master key, store, key ring (see app.h). */
#include "core/app.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/conf.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/str.h"
#include "base/time.h"
#include "core/alerts.h"
#include "core/assign.h"
#include "core/audit.h"
#include "core/dependents.h"
#include "core/holders.h"
#include "core/pii.h"
#include "core/rulejob.h"
#include "core/rules.h"
#include "core/scanlog.h"
#include "core/sign.h"
#include "core/terminal.h"
#include "crypto/crypto.h"

#define MASTER_FILE  "master.key"
#define PENDING_FILE MASTER_FILE ".new" /* the new master key while it replaces the old one */

/* Reads 64 hex characters (and optional trailing white space) into key. */
static bool parse_master(const char *text, size_t n, uint8_t key[SS_MASTER_KEY_LEN])
{
	while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r' || text[n - 1] == ' '))
		n--;
	return ss_hex_decode(text, n, key, SS_MASTER_KEY_LEN);
}

/* Writes key as 64 hex characters and a line break to fd, on disk when this returns. */
static bool put_key(int fd, const uint8_t key[SS_MASTER_KEY_LEN])
{
	char hex[2 * SS_MASTER_KEY_LEN + 2];
	ss_hex_encode(key, SS_MASTER_KEY_LEN, hex);
	strcat(hex, "\n");
	size_t len = strlen(hex);
	bool ok = write(fd, hex, len) == (ssize_t)len && fsync(fd) == 0;
	ss_wipe(hex, sizeof(hex));
	return ok;
}

/* Makes a directory's entries (a file made or renamed) durable. */
static bool sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	bool ok = fd >= 0 && fsync(fd) == 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

static enum ss_err write_master(const char *dir, const char *path, uint8_t key[SS_MASTER_KEY_LEN])
{
	enum ss_err err = ss_random(key, SS_MASTER_KEY_LEN);
	if (err)
		return err;
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return ss_fail(SS_INTERNAL, "data", "cannot create master key '%s': %s", path, strerror(errno));
	bool ok = put_key(fd, key);
	close(fd);
	if (!ok || !sync_dir(dir))
		return ss_fail(SS_INTERNAL, "data", "cannot write master key '%s'", path);
	ss_log_info("master_key_created", "path=%s", path);
	return SS_OK;
}

/* Reads a key file (mode 0600, 64 hex characters); SS_NOT_FOUND if there is none. */
static enum ss_err read_key_file(const char *path, uint8_t key[SS_MASTER_KEY_LEN])
{
	char text[256];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT
		               ? SS_NOT_FOUND
		               : ss_fail(SS_INVALID, "data", "cannot read master key '%s': %s", path, strerror(errno));
	struct stat st;
	if (fstat(fd, &st) == 0 && (st.st_mode & 077)) {
		close(fd);
		return ss_fail(SS_INVALID, "data", "master key file '%s' is readable by others: chmod 600 it", path);
	}
	ssize_t n = read(fd, text, sizeof(text) - 1);
	close(fd);
	bool ok = n > 0 && parse_master(text, (size_t)n, key);
	ss_wipe(text, sizeof(text));
	if (!ok)
		return ss_fail(SS_INVALID, "data", "master key file '%s' must hold 64 hex characters", path);
	return SS_OK;
}

/* Reads a key from the environment variable name (then wiped and unset); SS_NOT_FOUND if it is not set. */
static enum ss_err read_key_env(const char *name, uint8_t key[SS_MASTER_KEY_LEN])
{
	const char *env = getenv(name);
	if (!env || !*env)
		return SS_NOT_FOUND;
	bool ok = parse_master(env, strlen(env), key);
	/* read once; child processes and /proc/PID/environ readers need not see it */
	ss_wipe((char *)env, strlen(env));
	unsetenv(name);
	return ok ? SS_OK : ss_fail(SS_INVALID, name, "master key in %s must be 64 hex characters", name);
}

static enum ss_err read_master(const char *dir, bool create, uint8_t key[SS_MASTER_KEY_LEN], bool *from_env)
{
	char path[4096], db[4096];
	enum ss_err err = read_key_env("SUISHEN_MASTER_KEY", key);
	*from_env = err != SS_NOT_FOUND;
	if (err != SS_NOT_FOUND)
		return err;
	snprintf(path, sizeof(path), "%s/%s", dir, MASTER_FILE);
	snprintf(db, sizeof(db), "%s/suishen.db", dir);
	err = read_key_file(path, key);
	/* a new key only for a new directory: a lost key must be restored, not replaced */
	if (err == SS_NOT_FOUND && create && access(db, F_OK) != 0)
		return write_master(dir, path, key);
	if (err == SS_NOT_FOUND)
		return ss_fail(
		        SS_INVALID, "data",
		        "no master key: set SUISHEN_MASTER_KEY or restore '%s' (without it the data cannot be read)",
		        path);
	return err;
}

/*
 * Compares kr's master key with the check value stored at init (storing it on
 * a new directory); *wrong tells a key that is not the directory's apart from
 * other failures.
 */
static enum ss_err check_master(struct ss_app *app, const struct ss_keyring *kr, bool create, bool *wrong)
{
	uint8_t check[32];
	struct ss_blob stored;
	struct ss_arena a;
	ss_arena_init(&a);
	ss_keyring_master_check(kr, check);
	*wrong = false;
	enum ss_err err = app->store->ops->meta_get(app->store, "master_check", &a, &stored);
	if (err == SS_NOT_FOUND && create)
		err = app->store->ops->meta_set(app->store, "master_check", (struct ss_blob){check, sizeof(check)});
	else if (err == SS_NOT_FOUND)
		err = ss_fail(SS_INVALID, "data", "data directory '%s' is not initialised: run 'suishen init'",
		              app->data_dir);
	else if (!err && (*wrong = stored.n != sizeof(check) || !ss_ct_equal(stored.p, check, sizeof(check))))
		err = ss_fail(SS_INVALID, "data",
		              "wrong master key: it is not the key data directory '%s' was initialised with "
		              "(check SUISHEN_MASTER_KEY or %s/" MASTER_FILE ")",
		              app->data_dir, app->data_dir);
	ss_arena_release(&a);
	return err;
}

/*
 * A replacement of the master key that stopped after its commit but before
 * master.key.new took the place of master.key (ss_app_replace_master) leaves
 * the new key in master.key.new: if that is the key the store now names, it
 * is moved into place and used. True if it was.
 */
static bool recover_master(struct ss_app *app)
{
	char path[4096], pending[4096];
	uint8_t key[SS_MASTER_KEY_LEN];
	bool wrong = true;
	snprintf(path, sizeof(path), "%s/%s", app->data_dir, MASTER_FILE);
	snprintf(pending, sizeof(pending), "%s/%s", app->data_dir, PENDING_FILE);
	if (read_key_file(pending, key) != SS_OK)
		return false;
	struct ss_keyring *kr = ss_keyring_new(key);
	bool ok = check_master(app, kr, false, &wrong) == SS_OK;
	/* ENOENT: the replacing process moved it itself meanwhile */
	ok = ok && (rename(pending, path) == 0 || errno == ENOENT) && sync_dir(app->data_dir);
	if (ok) {
		ss_keyring_set_master(app->keys, key);
		ss_log_warn("master_key_recovered", "path=%s msg=\"a replacement of the master key is completed\"",
		            path);
	}
	ss_keyring_free(kr);
	ss_wipe(key, sizeof(key));
	return ok;
}

struct load_ctx {
	struct ss_app *app;
	bool reload; /* the ring was loaded before */
	bool has[SS_KEY_PURPOSES];
	enum ss_err err; /* the first key that did not unwrap (the others were loaded) */
	/* data keys the ring holds that the store has retired: they leave it after the walk */
	uint32_t retired[64];
	size_t nretired;
};

static enum ss_err load_key(void *ctx, const struct ss_key_row *row)
{
	struct load_ctx *lc = ctx;
	struct ss_keyring *kr = lc->app->keys;
	enum ss_key_purpose purpose;
	enum ss_key_state state;
	uint8_t secret[SS_KEY_LEN];
	uint32_t id = (uint32_t)row->key_id;

	if (!ss_key_purpose_parse(row->purpose, &purpose) || !ss_key_state_parse(row->state, &state))
		return ss_fail(SS_INTERNAL, NULL, "key %lld has an unknown purpose or state", (long long)row->key_id);
	bool held = ss_keyring_contains(kr, id);
	if (state == SS_KEY_RETIRED) {
		if (held && purpose == SS_KEY_DATA && lc->nretired < sizeof(lc->retired) / sizeof(lc->retired[0]))
			lc->retired[lc->nretired++] = id;
		else if (purpose != SS_KEY_DATA)
			ss_keyring_remove(kr, id);
		return SS_OK;
	}
	if (state == SS_KEY_CURRENT)
		lc->has[purpose] = true;
	/*
	 * A key held already is not unwrapped again: its state in the ring follows
	 * from the keys added after it, and a process whose master key was
	 * replaced meanwhile keeps working with the keys it has.
	 */
	if (held)
		return SS_OK;
	if (ss_keyring_unwrap(kr, purpose, row->wrapped.p, row->wrapped.n, secret)) {
		if (!lc->err)
			lc->err = ss_fail(SS_INVALID, "data", "key %lld does not unwrap under this master key",
			                  (long long)row->key_id);
		return SS_OK;
	}
	/* a retiring key still opens what it sealed: for this ring it is active */
	ss_keyring_add(kr, id, purpose, secret, state == SS_KEY_RETIRING ? SS_KEY_ACTIVE : state);
	ss_wipe(secret, sizeof(secret));
	if (lc->reload) /* a key another process made: an operator waits for this after a rotation */
		ss_log_info("key_loaded", "key_id=%u purpose=%s state=%s", id, row->purpose, row->state);
	return SS_OK;
}

/* Makes and stores a new key; with current set it becomes the current key of its purpose. */
static enum ss_err new_key(struct ss_app *app, enum ss_key_purpose purpose, uint32_t *key_id)
{
	uint8_t secret[SS_KEY_LEN], wrapped[SS_KEY_WRAPPED_LEN];
	int64_t id = 0;
	enum ss_err err = ss_random(secret, sizeof(secret));
	if (err)
		return err;
	ss_keyring_wrap(app->keys, purpose, secret, wrapped);
	struct ss_store *s = app->store;
	if ((err = s->ops->begin(s)))
		goto out;
	struct ss_key_row row = {.purpose = ss_key_purpose_name(purpose),
	                         .state = "current",
	                         .wrapped = {wrapped, sizeof(wrapped)},
	                         .created_at = ss_time_now()};
	/* the demotion is inside the transaction: two rotations at once leave one current key */
	if ((err = s->ops->key_demote_current(s, row.purpose)) || (err = s->ops->key_insert(s, &row, &id))) {
		s->ops->rollback(s);
		goto out;
	}
	if ((err = s->ops->commit(s)))
		goto out;
	ss_keyring_add(app->keys, (uint32_t)id, purpose, secret, SS_KEY_CURRENT);
	if (key_id)
		*key_id = (uint32_t)id;
	ss_log_info("key_created", "key_id=%lld purpose=%s", (long long)id, ss_key_purpose_name(purpose));
out:
	ss_wipe(secret, sizeof(secret));
	return err;
}

/* Walks the store's keys into the ring (lc); a retired data key leaves it once nothing in memory needs it. */
static enum ss_err walk_keys(struct ss_app *app, struct load_ctx *lc)
{
	enum ss_err err = app->store->ops->key_each(app->store, load_key, lc);
	for (size_t i = 0; i < lc->nretired; i++) {
		uint32_t id = lc->retired[i];
		/* a ring that could not load the key that replaced it keeps it */
		if (ss_keyring_current_id(app->keys, SS_KEY_DATA) == id)
			continue;
		/* the holders' particulars in memory are re-sealed first: the store's were, before it retired */
		int64_t n = app->holders ? ss_holders_reseal(app->holders, app->keys, SS_PII_CITIZEN, id) : 0;
		ss_keyring_remove(app->keys, id);
		ss_log_info("key_dropped", "key_id=%u purpose=data resealed_in_memory=%lld", id, (long long)n);
	}
	return err ? err : lc->err;
}

enum ss_err ss_app_reload_keys(struct ss_app *app)
{
	struct load_ctx lc = {.app = app, .reload = true};
	bool wrong;
	enum ss_err master = check_master(app, app->keys, false, &wrong);
	if (master && !wrong)
		return master;
	enum ss_err err = walk_keys(app, &lc);
	if (wrong)
		return ss_fail(
		        SS_INVALID, "data",
		        "the master key of data directory '%s' was replaced: this process keeps the keys it has but "
		        "can load no new one; restart it with the new master key",
		        app->data_dir);
	return err;
}

static enum ss_err load_keys(struct ss_app *app, bool create)
{
	struct load_ctx lc = {.app = app};
	enum ss_err err = walk_keys(app, &lc);
	for (int p = 0; !err && p < SS_KEY_PURPOSES; p++) {
		if (lc.has[p])
			continue;
		if (!create)
			return ss_fail(SS_INVALID, "data", "data directory '%s' has no %s key: run 'suishen init'",
			               app->data_dir, ss_key_purpose_name((enum ss_key_purpose)p));
		err = new_key(app, (enum ss_key_purpose)p, NULL);
	}
	return err;
}

enum ss_err ss_app_open(const char *dir, bool create, struct ss_app **out)
{
	uint8_t master[SS_MASTER_KEY_LEN];
	bool from_env, wrong;
	enum ss_err err;

	if ((err = ss_crypto_init()))
		return err;
	if (create && mkdir(dir, 0700) != 0 && errno != EEXIST)
		return ss_fail(SS_INVALID, "data", "cannot create data directory '%s': %s", dir, strerror(errno));
	struct stat st;
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
		return ss_fail(SS_INVALID, "data", "no data directory '%s': run 'suishen init --data %s'", dir, dir);
	if ((err = read_master(dir, create, master, &from_env)))
		return err;

	struct ss_app *app = ss_calloc(1, sizeof(*app));
	pthread_mutex_init(&app->rules_lock, NULL);
	app->data_dir = ss_strdup(dir);
	app->master_from_env = from_env;
	app->cfg = (struct ss_app_config){.session_ttl = 12 * 3600, .code_ttl = 60, .login_delay_ms = 1000};
	app->keys = ss_keyring_new(master);
	ss_wipe(master, sizeof(master));
	if ((err = ss_rulejobs_new(&app->rulejobs)))
		goto fail;
	if ((err = ss_store_open("sqlite", dir, create, &app->store))) {
		if (err == SS_NOT_FOUND)
			err = ss_fail(SS_INVALID, "data", "data directory '%s' is not initialised: run 'suishen init'",
			              dir);
		goto fail;
	}
	err = check_master(app, app->keys, create, &wrong);
	if (err && wrong && !from_env) /* if master.key.new does not do either, the message is about master.key */
		err = recover_master(app) ? SS_OK : check_master(app, app->keys, create, &wrong);
	if (err || (err = load_keys(app, create)))
		goto fail;
	char conf[4096];
	snprintf(conf, sizeof(conf), "%s/%s", dir, SS_APP_CONF);
	if ((err = ss_conf_load(conf, &app->conf)))
		goto fail;
	*out = app;
	return SS_OK;
fail:
	ss_app_close(app);
	return err;
}

/*
 * Nonces live for two 300-s windows: at the 8,000 signed requests a second the
 * front end is designed for, 4.8 million at once. 2^24 entries (16 bytes each,
 * 256 MiB, touched only as used) keep that under a third full.
 */
#define NONCE_CAPACITY (1u << 24)

static void first_unknown(void *ctx, const char *key, const char *value)
{
	const char **unknown = ctx;
	if (!*unknown && !ss_alert_config_has(key))
		*unknown = key;
}

enum ss_err ss_app_start(struct ss_app *app, bool writer)
{
	enum ss_err err;
	if (!app->holders) {
		app->holders = ss_holders_new();
		if ((err = ss_holders_load(app->holders, app->store)))
			return err;
		ss_log_info("holders_loaded", "holders=%lld", (long long)ss_holders_count(app->holders));
	}
	if (!app->dependents) { /* after the holders: linked dependents become holders */
		if ((err = ss_dependents_load(app)))
			return err;
		ss_log_info("dependents_loaded", "links=%lld", (long long)ss_dependents_count(app->dependents));
	}
	if (!app->rules && (err = ss_assign_load_rules(app)))
		return err;
	if (!app->terminals)
		app->terminals = ss_terminals_new();
	if (!app->nonces) {
		struct ss_nonce_cache *c = ss_nonce_cache_new(NONCE_CAPACITY);
		/* a server refuses what counted before a restart or a crash: the nonces kept with what they did */
		if (writer && (err = ss_nonce_cache_load(c, app->store, ss_time_now()))) {
			ss_nonce_cache_free(c);
			return err;
		}
		app->nonces = c;
	}
	if (!app->alerts) {
		struct ss_alert_config ac;
		const char *unknown = NULL;
		/* the watcher is the settings' one reader: a key it does not read is a mistake (a misspelled threshold
		 * would leave the default in force unnoticed) */
		ss_conf_each(app->conf, first_unknown, &unknown);
		if (unknown)
			return ss_fail(SS_INVALID, unknown,
			               "%s: unknown setting '%s' (the settings are in docs/operations.md)", SS_APP_CONF,
			               unknown);
		if ((err = ss_alert_config_load(app->conf, app->cfg.code_ttl, &ac)))
			return err;
		app->alerts = ss_alerts_new(&ac);
		/* it watches from here on: what is logged from now is looked at, what came before is not replayed */
		if ((err = ss_alerts_run(app, app->alerts, ss_time_now_ms(), NULL)))
			return err;
	}
	if (writer && !app->scanlog) {
		/*
		 * The writer has a connection of its own: on the shared one its commits would queue behind every
		 * reader of the store (a flood of code requests reading sessions), and scans wait for its commits.
		 */
		if ((err = ss_store_open("sqlite", app->data_dir, false, &app->scan_store)) ||
		    (err = ss_scanlog_start(app->scan_store, &app->scanlog)))
			return err;
	}
	return SS_OK;
}

void ss_app_close(struct ss_app *app)
{
	if (!app)
		return;
	ss_rulejobs_free(app->rulejobs);         /* first: its thread uses everything below */
	bool wrote_scans = app->scanlog != NULL; /* the scan writer audits unmasked reads */
	ss_scanlog_stop(app->scanlog);
	ss_store_close(app->scan_store);
	/* what this process added to the audit log is signed before it ends */
	if ((app->audited || wrote_scans) && ss_audit_checkpoint(app, NULL) != SS_OK)
		ss_log_error("audit_checkpoint_failed", "msg=\"%s\"", ss_err_message());
	ss_holders_free(app->holders);
	ss_dependents_free(app->dependents);
	ss_rules_free(app->rules);
	pthread_mutex_destroy(&app->rules_lock);
	ss_terminals_free(app->terminals);
	ss_nonce_cache_free(app->nonces);
	ss_alerts_free(app->alerts);
	ss_conf_free(app->conf);
	ss_store_close(app->store);
	ss_keyring_free(app->keys);
	free(app->data_dir);
	free(app);
}

/* The audit entry of a key operation (key operations are rare: one entry each, made by the command line). */
static enum ss_err audit_key(struct ss_app *app, const char *action, uint32_t key_id, const char *purpose)
{
	char detail[96];
	snprintf(detail, sizeof(detail), "{\"key_id\":%u,\"purpose\":\"%s\"}", key_id, purpose);
	struct ss_audit_event e = {.actor = SS_ACTOR_SYSTEM, .action = action, .detail = detail};
	return ss_audit(app, &e);
}

enum ss_err ss_app_rotate_key(struct ss_app *app, enum ss_key_purpose purpose, uint32_t *key_id)
{
	if (purpose == SS_KEY_INDEX)
		return ss_fail(SS_INVALID, "purpose",
		               "the index key cannot be rotated: blind indexes of stored data depend on it");
	enum ss_err err = new_key(app, purpose, key_id);
	if (!err)
		err = audit_key(app, "key.rotate", *key_id, ss_key_purpose_name(purpose));
	return err;
}

struct find_ctx {
	uint32_t id;
	bool found;
	char purpose[16], state[16];
};

static enum ss_err find_key(void *ctx, const struct ss_key_row *row)
{
	struct find_ctx *fc = ctx;
	if ((uint32_t)row->key_id == fc->id) {
		fc->found = true;
		snprintf(fc->purpose, sizeof(fc->purpose), "%s", row->purpose);
		snprintf(fc->state, sizeof(fc->state), "%s", row->state);
	}
	return SS_OK;
}

enum ss_err ss_app_retire_key(struct ss_app *app, uint32_t key_id)
{
	struct find_ctx fc = {.id = key_id};
	enum ss_err err = app->store->ops->key_each(app->store, find_key, &fc);
	if (err)
		return err;
	if (!fc.found)
		return ss_fail(SS_NOT_FOUND, "id", "no key %u", key_id);
	if (!strcmp(fc.purpose, "data"))
		return ss_fail(SS_INVALID, "id",
		               "data key %u retires through 'suishen keys reseal', which first re-seals what it sealed",
		               key_id);
	if (strcmp(fc.purpose, "code") != 0)
		return ss_fail(SS_INVALID, "id", "the %s key cannot be retired: stored blind indexes depend on it",
		               fc.purpose);
	if (!strcmp(fc.state, "current"))
		return ss_fail(SS_INVALID, "id", "key %u is current: rotate first", key_id);
	if ((err = app->store->ops->key_set_state(app->store, key_id, "retired")))
		return err;
	ss_keyring_remove(app->keys, key_id);
	ss_log_info("key_retired", "key_id=%u", key_id);
	return audit_key(app, "key.retire", key_id, fc.purpose);
}

enum ss_err ss_app_next_master(uint8_t key[SS_MASTER_KEY_LEN], bool *given)
{
	enum ss_err err = read_key_env("SUISHEN_NEW_MASTER_KEY", key);
	*given = err != SS_NOT_FOUND;
	return *given ? err : ss_random(key, SS_MASTER_KEY_LEN);
}

/*
 * Writes the new master key to master.key.new, held under an exclusive lock
 * (*fd, set once the file is this replacement's) until the replacement ends,
 * so that two replacements cannot mix their keys.
 */
static enum ss_err write_pending(const char *dir, const char *pending, const uint8_t key[SS_MASTER_KEY_LEN], int *fd)
{
	int f = open(pending, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (f < 0)
		return ss_fail(SS_INTERNAL, "data", "cannot create '%s': %s", pending, strerror(errno));
	if (flock(f, LOCK_EX | LOCK_NB) != 0) {
		close(f);
		return ss_fail(SS_CONFLICT, "data", "another replacement of the master key of '%s' is running", dir);
	}
	*fd = f; /* from here the file is this replacement's, to remove if it fails */
	if (fchmod(*fd, 0600) != 0 || ftruncate(*fd, 0) != 0 || !put_key(*fd, key) || !sync_dir(dir))
		return ss_fail(SS_INTERNAL, "data", "cannot write '%s': %s", pending, strerror(errno));
	return SS_OK;
}

/* A key row as read for re-wrapping: the whole ring is read before any row is written. */
struct wrapped_key {
	int64_t key_id;
	enum ss_key_purpose purpose;
	uint8_t wrapped[SS_KEY_WRAPPED_LEN];
	bool well_formed;
};

struct wrapped_keys {
	struct wrapped_key *k;
	size_t n, cap;
};

static enum ss_err collect_key(void *ctx, const struct ss_key_row *row)
{
	struct wrapped_keys *wk = ctx;
	if (wk->n == wk->cap) {
		wk->cap = wk->cap ? 2 * wk->cap : 16;
		wk->k = ss_realloc(wk->k, wk->cap * sizeof(*wk->k));
	}
	struct wrapped_key *k = &wk->k[wk->n++];
	k->key_id = row->key_id;
	k->well_formed = ss_key_purpose_parse(row->purpose, &k->purpose) && row->wrapped.n == SS_KEY_WRAPPED_LEN;
	if (k->well_formed)
		memcpy(k->wrapped, row->wrapped.p, SS_KEY_WRAPPED_LEN);
	return SS_OK;
}

/* Inside the replacement's transaction: every key re-wrapped under next, the check value, the audit entry. */
static enum ss_err rewrap_all(struct ss_app *app, const struct ss_keyring *next, int *rewrapped)
{
	struct ss_store *s = app->store;
	struct wrapped_keys wk = {0};
	uint8_t secret[SS_KEY_LEN], check[32];
	bool wrong;
	/* the store's check is read again under the write lock: another replacement may have committed since open */
	enum ss_err err = check_master(app, app->keys, false, &wrong);
	if (err && wrong)
		err = ss_fail(SS_CONFLICT, "data", "the master key of '%s' was replaced meanwhile", app->data_dir);
	if (!err)
		err = s->ops->key_each(s, collect_key, &wk);
	for (size_t i = 0; !err && i < wk.n; i++) {
		struct wrapped_key *k = &wk.k[i];
		/* retired keys too: nothing the store keeps is left wrapped under the old key */
		if (!k->well_formed ||
		    ss_keyring_unwrap(app->keys, k->purpose, k->wrapped, sizeof(k->wrapped), secret) != SS_OK) {
			err = ss_fail(SS_INVALID, "data", "key %lld does not unwrap under the master key",
			              (long long)k->key_id);
			break;
		}
		ss_keyring_wrap(next, k->purpose, secret, k->wrapped);
		err = s->ops->key_rewrap(s, k->key_id, (struct ss_blob){k->wrapped, sizeof(k->wrapped)});
	}
	ss_wipe(secret, sizeof(secret));
	ss_keyring_master_check(next, check);
	if (!err)
		err = s->ops->meta_set(s, "master_check", (struct ss_blob){check, sizeof(check)});
	if (!err) {
		char detail[64];
		snprintf(detail, sizeof(detail), "{\"keys\":%zu}", wk.n);
		struct ss_audit_event e = {.actor = SS_ACTOR_SYSTEM, .action = "key.master", .detail = detail};
		err = ss_audit(app, &e);
	}
	*rewrapped = (int)wk.n;
	free(wk.k);
	return err;
}

enum ss_err ss_app_replace_master(struct ss_app *app, const uint8_t master[SS_MASTER_KEY_LEN], int *rewrapped)
{
	char path[4096], pending[4096];
	struct ss_store *s = app->store;
	int fd = -1;
	snprintf(path, sizeof(path), "%s/%s", app->data_dir, MASTER_FILE);
	snprintf(pending, sizeof(pending), "%s/%s", app->data_dir, PENDING_FILE);
	struct ss_keyring *next = ss_keyring_new(master);
	/*
	 * The new key is on disk before the store names it, and in place only
	 * after: a crash between the two leaves master.key.new, which the next
	 * open adopts (recover_master). Before the commit it is just removed.
	 */
	enum ss_err err = app->master_from_env ? SS_OK : write_pending(app->data_dir, pending, master, &fd);
	if (!err && !(err = s->ops->begin(s))) {
		if ((err = rewrap_all(app, next, rewrapped)))
			s->ops->rollback(s);
		else
			err = s->ops->commit(s);
	}
	if (err) {
		if (fd >= 0)
			unlink(pending);
		goto out;
	}
	ss_keyring_set_master(app->keys, master);
	ss_log_info("master_key_replaced", "keys=%d", *rewrapped);
	/* ENOENT: an open by another process adopted it meanwhile (recover_master) */
	if (fd >= 0 && ((rename(pending, path) != 0 && errno != ENOENT) || !sync_dir(app->data_dir)))
		err = ss_fail(SS_INTERNAL, "data",
		              "the master key was replaced, but '%s' could not be renamed to '%s' (%s): the next start "
		              "does it, or do it by hand",
		              pending, path, strerror(errno));
out:
	if (fd >= 0)
		close(fd);
	ss_keyring_free(next);
	return err;
}

enum ss_err ss_app_new_token(char token[65], uint8_t hash[32])
{
	uint8_t raw[32];
	enum ss_err err = ss_random(raw, sizeof(raw));
	if (err)
		return err;
	ss_hex_encode(raw, sizeof(raw), token);
	ss_wipe(raw, sizeof(raw));
	ss_sm3(token, 64, hash);
	return SS_OK;
}

bool ss_app_token_hash(const char *token, uint8_t hash[32])
{
	if (!token || strlen(token) != 64)
		return false;
	for (int i = 0; i < 64; i++)
		if (!((token[i] >= '0' && token[i] <= '9') || (token[i] >= 'a' && token[i] <= 'f')))
			return false;
	ss_sm3(token, 64, hash);
	return true;
}
