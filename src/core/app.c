/* app: opening a data directory: master key, store, key ring (see app.h). */
#include "core/app.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
#include "core/rulejob.h"
#include "core/rules.h"
#include "core/scanlog.h"
#include "core/sign.h"
#include "core/terminal.h"
#include "crypto/crypto.h"

#define MASTER_FILE "master.key"

/* Reads 64 hex characters (and optional trailing white space) into key. */
static bool parse_master(const char *text, size_t n, uint8_t key[SS_MASTER_KEY_LEN])
{
	while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r' || text[n - 1] == ' '))
		n--;
	return ss_hex_decode(text, n, key, SS_MASTER_KEY_LEN);
}

static enum ss_err write_master(const char *path, uint8_t key[SS_MASTER_KEY_LEN])
{
	char hex[2 * SS_MASTER_KEY_LEN + 2];
	enum ss_err err = ss_random(key, SS_MASTER_KEY_LEN);
	if (err)
		return err;
	ss_hex_encode(key, SS_MASTER_KEY_LEN, hex);
	strcat(hex, "\n");
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return ss_fail(SS_INTERNAL, "data", "cannot create master key '%s': %s", path, strerror(errno));
	size_t len = strlen(hex);
	bool ok = write(fd, hex, len) == (ssize_t)len && fsync(fd) == 0;
	close(fd);
	ss_wipe(hex, sizeof(hex));
	if (!ok)
		return ss_fail(SS_INTERNAL, "data", "cannot write master key '%s'", path);
	ss_log_info("master_key_created", "path=%s", path);
	return SS_OK;
}

static enum ss_err read_master(const char *dir, bool create, uint8_t key[SS_MASTER_KEY_LEN])
{
	char path[4096], text[256];
	const char *env = getenv("SUISHEN_MASTER_KEY");

	if (env && *env) {
		if (!parse_master(env, strlen(env), key))
			return ss_fail(SS_INVALID, "SUISHEN_MASTER_KEY",
			               "master key in SUISHEN_MASTER_KEY must be 64 hex characters");
		/* read once; child processes and /proc/PID/environ readers need not see it */
		ss_wipe((char *)env, strlen(env));
		unsetenv("SUISHEN_MASTER_KEY");
		return SS_OK;
	}
	snprintf(path, sizeof(path), "%s/%s", dir, MASTER_FILE);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	char db[4096];
	snprintf(db, sizeof(db), "%s/suishen.db", dir);
	/* a new key only for a new directory: a lost key must be restored, not replaced */
	if (fd < 0 && errno == ENOENT && create && access(db, F_OK) != 0)
		return write_master(path, key);
	if (fd < 0)
		return ss_fail(
		        SS_INVALID, "data",
		        "no master key: set SUISHEN_MASTER_KEY or restore '%s' (without it the data cannot be read)",
		        path);
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

/* Compares the master key with the check value stored at init (storing it on a new directory). */
static enum ss_err check_master(struct ss_app *app, bool create)
{
	uint8_t check[32];
	struct ss_blob stored;
	struct ss_arena a;
	ss_arena_init(&a);
	ss_keyring_master_check(app->keys, check);
	enum ss_err err = app->store->ops->meta_get(app->store, "master_check", &a, &stored);
	if (err == SS_NOT_FOUND && create)
		err = app->store->ops->meta_set(app->store, "master_check", (struct ss_blob){check, sizeof(check)});
	else if (err == SS_NOT_FOUND)
		err = ss_fail(SS_INVALID, "data", "data directory '%s' is not initialised: run 'suishen init'",
		              app->data_dir);
	else if (!err && (stored.n != sizeof(check) || !ss_ct_equal(stored.p, check, sizeof(check))))
		err = ss_fail(SS_INVALID, "data",
		              "wrong master key: it is not the key data directory '%s' was initialised with "
		              "(check SUISHEN_MASTER_KEY or %s/" MASTER_FILE ")",
		              app->data_dir, app->data_dir);
	ss_arena_release(&a);
	return err;
}

struct load_ctx {
	struct ss_app *app;
	bool has[SS_KEY_PURPOSES];
	uint32_t seen[1024];
	size_t nseen;
};

static enum ss_err load_key(void *ctx, const struct ss_key_row *row)
{
	struct load_ctx *lc = ctx;
	enum ss_key_purpose purpose;
	enum ss_key_state state;
	uint8_t secret[SS_KEY_LEN];

	if (!ss_key_purpose_parse(row->purpose, &purpose) || !ss_key_state_parse(row->state, &state))
		return ss_fail(SS_INTERNAL, NULL, "key %lld has an unknown purpose or state", (long long)row->key_id);
	if (lc->nseen < sizeof(lc->seen) / sizeof(lc->seen[0]))
		lc->seen[lc->nseen++] = (uint32_t)row->key_id;
	if (state == SS_KEY_RETIRED) {
		ss_keyring_remove(lc->app->keys, (uint32_t)row->key_id);
		return SS_OK;
	}
	if (ss_keyring_unwrap(lc->app->keys, purpose, row->wrapped.p, row->wrapped.n, secret))
		return ss_fail(SS_INVALID, "data", "key %lld does not unwrap under this master key",
		               (long long)row->key_id);
	ss_keyring_add(lc->app->keys, (uint32_t)row->key_id, purpose, secret, state);
	ss_wipe(secret, sizeof(secret));
	if (state == SS_KEY_CURRENT)
		lc->has[purpose] = true;
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

enum ss_err ss_app_reload_keys(struct ss_app *app)
{
	struct load_ctx lc = {.app = app};
	return app->store->ops->key_each(app->store, load_key, &lc);
}

static enum ss_err load_keys(struct ss_app *app, bool create)
{
	struct load_ctx lc = {.app = app};
	enum ss_err err = app->store->ops->key_each(app->store, load_key, &lc);
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
	enum ss_err err;

	if ((err = ss_crypto_init()))
		return err;
	if (create && mkdir(dir, 0700) != 0 && errno != EEXIST)
		return ss_fail(SS_INVALID, "data", "cannot create data directory '%s': %s", dir, strerror(errno));
	struct stat st;
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
		return ss_fail(SS_INVALID, "data", "no data directory '%s': run 'suishen init --data %s'", dir, dir);
	if ((err = read_master(dir, create, master)))
		return err;

	struct ss_app *app = ss_calloc(1, sizeof(*app));
	pthread_mutex_init(&app->rules_lock, NULL);
	app->data_dir = ss_strdup(dir);
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
	if ((err = check_master(app, create)) || (err = load_keys(app, create)))
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
	if (!app->nonces)
		app->nonces = ss_nonce_cache_new(NONCE_CAPACITY);
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
	if (writer && !app->scanlog && (err = ss_scanlog_start(app->store, &app->scanlog)))
		return err;
	return SS_OK;
}

void ss_app_close(struct ss_app *app)
{
	if (!app)
		return;
	ss_rulejobs_free(app->rulejobs);         /* first: its thread uses everything below */
	bool wrote_scans = app->scanlog != NULL; /* the scan writer audits unmasked reads */
	ss_scanlog_stop(app->scanlog);
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
	if (strcmp(fc.purpose, "code") != 0)
		return ss_fail(SS_INVALID, "id", "only code keys can be retired; %s key %u still opens stored data",
		               fc.purpose, key_id);
	if (!strcmp(fc.state, "current"))
		return ss_fail(SS_INVALID, "id", "key %u is current: rotate first", key_id);
	if ((err = app->store->ops->key_set_state(app->store, key_id, "retired")))
		return err;
	ss_keyring_remove(app->keys, key_id);
	ss_log_info("key_retired", "key_id=%u", key_id);
	return audit_key(app, "key.retire", key_id, fc.purpose);
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
