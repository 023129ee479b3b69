/* Unit tests of re-sealing and of replacing the master key (core/reseal.c, core/app.c) over a real SQLite store:
 * an old data key retires and nothing becomes unreadable, also for a process that was running all along; a blob
 * under a retiring key is refused; the master key is replaced all or nothing, and a replacement cut short between
 * its commit and its rename is completed at the next open. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/str.h"
#include "check.h"
#include "core/app.h"
#include "core/audit.h"
#include "core/holders.h"
#include "core/identity.h"
#include "core/pii.h"
#include "core/registry.h"
#include "core/reseal.h"
#include "core/terminal.h"

static char dir[64];
static int64_t citizen;

static struct ss_app *open_app(void)
{
	struct ss_app *app = NULL;
	if (ss_app_open(dir, false, &app))
		printf("# open: %s\n", ss_err_message());
	return app;
}

struct count {
	uint32_t key;
	int64_t rows, other;
};

static enum ss_err count_blob(void *ctx, int64_t id, struct ss_blob blob)
{
	struct count *c = ctx;
	c->rows++;
	c->other += ss_keyring_sealed_key_id(blob.p, blob.n) != c->key;
	return SS_OK;
}

/* How many blobs of the store (its sealed columns and the audit key) name a key other than key; *rows: all. */
static int64_t not_under(struct ss_app *app, uint32_t key, int64_t *rows)
{
	struct count c = {.key = key};
	struct ss_arena a;
	struct ss_blob b;
	ss_arena_init(&a);
	for (int col = 0; col < SS_SEALED_COLUMNS; col++)
		CHECK(app->store->ops->sealed_rows(app->store, (enum ss_sealed_column)col, 0, 100000, &a, count_blob,
		                                   &c) == SS_OK);
	if (app->store->ops->meta_get(app->store, SS_AUDIT_KEY_META, &a, &b) == SS_OK)
		count_blob(&c, 0, b);
	ss_arena_release(&a);
	*rows = c.rows;
	return c.other;
}

struct state_of {
	uint32_t id;
	char state[16];
};

static enum ss_err state_of(void *ctx, const struct ss_key_row *row)
{
	struct state_of *so = ctx;
	if ((uint32_t)row->key_id == so->id)
		snprintf(so->state, sizeof(so->state), "%s", row->state);
	return SS_OK;
}

/* The state of key id in the store ("" if none). */
static const char *key_state(struct ss_app *app, uint32_t id)
{
	static struct state_of so;
	so = (struct state_of){.id = id};
	CHECK(app->store->ops->key_each(app->store, state_of, &so) == SS_OK);
	return so.state;
}

/* A directory with a registry person, a registered resident, a terminal and the audit key, all sealed. */
static void test_setup(void)
{
	struct ss_app *app = NULL;
	CHECK(ss_app_open(dir, true, &app) == SS_OK);
	const char *csv = "id_number,name,sex,birth_date,division,phone\n"
	                  "11010519491231002X,张三,F,1949-12-31,110105,13800138000\n"
	                  "110105195001010012,李四,M,1950-01-01,110105,\n";
	FILE *f = fmemopen((void *)csv, strlen(csv), "r");
	struct ss_import_report rep = {0};
	CHECK(ss_registry_import(app, f, &rep) == SS_OK);
	fclose(f);
	char uri[SS_TOTP_URI_MAX], secret[65];
	int64_t terminal;
	struct ss_registration reg = {"张三", "11010519491231002X", "13800138000", "password1", "app"};
	CHECK(ss_identity_register(app, &reg, &citizen, uri) == SS_OK);
	CHECK(ss_terminal_create(app, "瑞金医院", "门诊大厅", "hospital", NULL, 0, &terminal, secret) == SS_OK);
	struct ss_audit_event e = {.actor = SS_ACTOR_SYSTEM, .action = "test.setup"};
	bool made = false;
	CHECK(ss_audit(app, &e) == SS_OK && ss_audit_checkpoint(app, &made) == SS_OK && made);
	ss_app_close(app);
}

/*
 * A data key rotated out retires through a re-seal: every blob then names the
 * new key, and a process that was running all along (its holders in memory
 * sealed under the old key) re-seals them in memory as it drops the old key.
 */
static void test_reseal_retires_old_key(void)
{
	struct ss_app *server = open_app(), *app = open_app();
	CHECK(server && app && ss_app_start(server, false) == SS_OK);
	uint32_t old = ss_keyring_current_id(app->keys, SS_KEY_DATA), next = 0;
	CHECK(ss_app_rotate_key(app, SS_KEY_DATA, &next) == SS_OK && next != old);
	int64_t rows = 0;
	CHECK(not_under(app, old, &rows) == 0 &&
	      rows >= 6); /* two people, a resident's two, a terminal, the audit key */

	struct ss_reseal_result res;
	struct ss_reseal_report rep = {.batch = 1}; /* a transaction a row: batches end mid-table */
	CHECK(ss_reseal_run(app, &rep, &res) == SS_OK);
	CHECK(res.current == next && res.nretired == 1 && res.retired[0] == old);
	CHECK(res.resealed == rows && res.rows == rows);
	int64_t all = 0;
	CHECK(not_under(app, next, &all) == 0 && all == rows);
	CHECK_STR(key_state(app, old), "retired");
	CHECK(!ss_keyring_contains(app->keys, old));
	/* again: nothing to do */
	CHECK(ss_reseal_run(app, &rep, &res) == SS_OK && res.nretired == 0 && res.resealed == 0);

	/* the running process: its copy of the resident's particulars names the old key until it reloads */
	uint8_t sealed[SS_SEAL_OVERHEAD + SS_PII_CITIZEN_MAX];
	char plain[SS_PII_CITIZEN_MAX + 1];
	const char *fields[3];
	size_t n = 0;
	int64_t person = 1;
	CHECK(ss_holders_sealed(server->holders, person, sealed, sizeof(sealed), &n));
	CHECK(ss_keyring_sealed_key_id(sealed, n) == old);
	CHECK(ss_keyring_contains(server->keys, old));
	CHECK(ss_app_reload_keys(server) == SS_OK);
	CHECK(!ss_keyring_contains(server->keys, old));
	CHECK(ss_holders_sealed(server->holders, person, sealed, sizeof(sealed), &n));
	CHECK(ss_keyring_sealed_key_id(sealed, n) == next);
	CHECK(ss_pii_open_into(server, SS_PII_CITIZEN, (struct ss_blob){sealed, n}, plain, sizeof(plain), fields, 3) ==
	      SS_OK);
	CHECK_STR(fields[0], "张三");
	ss_app_close(server);
	ss_app_close(app);

	/* opened afresh, without the old key: the resident, the terminal, the audit key */
	app = open_app();
	struct ss_profile p;
	CHECK(app && ss_identity_profile(app, citizen, &p) == SS_OK);
	CHECK_STR(p.id_number, "11010519491231002X");
	CHECK(ss_audit_checkpoint(app, NULL) == SS_OK);
	ss_app_close(app);
}

/*
 * The fence: once a key is retiring, no new or changed blob may name it,
 * whoever writes it: a process whose key ring still seals under it is told to
 * try again (SS_BUSY) and writes nothing; rewriting a row unchanged is allowed.
 */
static void test_fence(void)
{
	struct ss_app *stale = open_app(), *app = open_app();
	CHECK(stale && app);
	uint32_t old = ss_keyring_current_id(app->keys, SS_KEY_DATA), next = 0;
	CHECK(ss_app_rotate_key(app, SS_KEY_DATA, &next) == SS_OK);
	CHECK(ss_keyring_current_id(stale->keys, SS_KEY_DATA) == old); /* it has not reloaded */
	char secret[65];
	int64_t t1 = 0, t2 = 0;
	CHECK(ss_terminal_create(stale, "一院", "东门", "venue", NULL, 0, &t1, secret) == SS_OK);
	CHECK(app->store->ops->key_set_state(app->store, old, "retiring") == SS_OK);
	/* a row under the old key, as the stale process wrote it, may be written back unchanged */
	struct ss_arena a;
	struct ss_terminal_row row;
	ss_arena_init(&a);
	CHECK(app->store->ops->terminal_get(app->store, t1, &a, &row) == SS_OK);
	CHECK(ss_keyring_sealed_key_id(row.secret_sealed.p, row.secret_sealed.n) == old);
	CHECK(app->store->ops->sealed_replace(app->store, SS_SEALED_terminals_secret_sealed, t1, row.secret_sealed,
	                                      row.secret_sealed) == SS_OK);
	/* but nothing new under it */
	CHECK(ss_terminal_create(stale, "一院", "西门", "venue", NULL, 0, &t2, secret) == SS_BUSY);
	CHECK(app->store->ops->terminal_get(app->store, t1 + 1, &a, &row) == SS_NOT_FOUND);
	CHECK(ss_app_reload_keys(stale) == SS_OK);
	CHECK(ss_terminal_create(stale, "一院", "西门", "venue", NULL, 0, &t2, secret) == SS_OK);
	CHECK(app->store->ops->terminal_get(app->store, t2, &a, &row) == SS_OK);
	CHECK(ss_keyring_sealed_key_id(row.secret_sealed.p, row.secret_sealed.n) == next);
	/* the re-seal the fence serves finishes what is left, here the first terminal */
	struct ss_reseal_result res;
	struct ss_reseal_report rep = {0};
	CHECK(ss_reseal_run(app, &rep, &res) == SS_OK && res.nretired == 1 && res.retired[0] == old);
	int64_t rows;
	CHECK(not_under(app, next, &rows) == 0);
	ss_arena_release(&a);
	ss_app_close(stale);
	ss_app_close(app);
}

static void path_of(char *out, size_t n, const char *file)
{
	snprintf(out, n, "%s/%s", dir, file);
}

static void read_file(const char *path, char *buf, size_t n)
{
	memset(buf, 0, n);
	FILE *f = fopen(path, "r");
	CHECK(f != NULL);
	if (f) {
		CHECK(fread(buf, 1, n - 1, f) > 0);
		fclose(f);
	}
}

/* The master key is replaced all or nothing; the old one opens nothing after, and a process running before goes on. */
static void test_replace_master(void)
{
	char key_path[128], pending[128], before[80], after[80], hex[65];
	path_of(key_path, sizeof(key_path), "master.key");
	path_of(pending, sizeof(pending), "master.key.new");
	read_file(key_path, before, sizeof(before));
	struct ss_app *running = open_app(), *app = open_app();
	CHECK(running && app && !app->master_from_env);
	uint8_t next[SS_MASTER_KEY_LEN];
	bool given = true;
	CHECK(ss_app_next_master(next, &given) == SS_OK && !given);

	/* a failure before the commit (master.key.new cannot be written) changes nothing */
	CHECK(mkdir(pending, 0700) == 0);
	int n = 0;
	CHECK(ss_app_replace_master(app, next, &n) == SS_INTERNAL);
	CHECK(rmdir(pending) == 0);
	read_file(key_path, after, sizeof(after));
	CHECK_STR(after, before);
	ss_app_close(app);
	app = open_app();
	CHECK(app != NULL);

	CHECK(ss_app_replace_master(app, next, &n) == SS_OK && n >= 5);
	CHECK(access(pending, F_OK) != 0);
	read_file(key_path, after, sizeof(after));
	ss_hex_encode(next, sizeof(next), hex);
	CHECK(strncmp(after, hex, 64) == 0);
	struct stat st;
	CHECK(stat(key_path, &st) == 0 && (st.st_mode & 0777) == 0600);
	ss_app_close(app);

	/* the old key is refused; the new one opens everything */
	before[64] = '\0';
	setenv("SUISHEN_MASTER_KEY", before, 1);
	CHECK(ss_app_open(dir, false, &app) == SS_INVALID && strstr(ss_err_message(), "wrong master key"));
	app = open_app();
	struct ss_profile p;
	CHECK(app && ss_identity_profile(app, citizen, &p) == SS_OK);
	uint32_t code = 0;
	CHECK(ss_app_rotate_key(app, SS_KEY_CODE, &code) == SS_OK);
	ss_app_close(app);

	/* the process opened before it keeps its keys, says it must restart, and cannot load the new code key */
	CHECK(ss_app_reload_keys(running) == SS_INVALID && strstr(ss_err_message(), "was replaced"));
	CHECK(ss_identity_profile(running, citizen, &p) == SS_OK);
	CHECK(!ss_keyring_contains(running->keys, code));
	ss_app_close(running);

	/* cut short between the commit and the rename: the new key is in master.key.new, the old in master.key */
	CHECK(rename(key_path, pending) == 0);
	int fd = open(key_path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	CHECK(fd >= 0 && write(fd, before, 64) == 64);
	close(fd);
	app = open_app();
	CHECK(app && ss_identity_profile(app, citizen, &p) == SS_OK);
	read_file(key_path, after, sizeof(after));
	CHECK(strncmp(after, hex, 64) == 0);
	CHECK(access(pending, F_OK) != 0);
	ss_app_close(app);

	/* a master.key.new left by a replacement that failed before its commit is not taken */
	fd = open(pending, O_WRONLY | O_CREAT | O_EXCL, 0600);
	CHECK(fd >= 0 && write(fd, before, 64) == 64);
	close(fd);
	app = open_app();
	CHECK(app != NULL);
	read_file(key_path, after, sizeof(after));
	CHECK(strncmp(after, hex, 64) == 0);
	ss_app_close(app);
	unlink(pending);
}

int main(void)
{
	if (!check_data_dir(dir))
		return 1;
	RUN(test_setup);
	RUN(test_reseal_retires_old_key);
	RUN(test_fence);
	RUN(test_replace_master);
	if (!check_data_dir_remove(dir))
		return 1;
	return check_done();
}
