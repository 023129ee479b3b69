/* Unit tests of the core over a real SQLite store in a temporary directory: app open and init, keys, masking,
 * registry import, registration, log-in throttling, staff, the channel every core function that keeps one checks. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/time.h"
#include "check.h"
#include "core/app.h"
#include "core/holders.h"
#include "core/idcard.h"
#include "core/appeals.h"
#include "core/identity.h"
#include "core/mask.h"
#include "core/pii.h"
#include "core/registry.h"
#include "core/staff.h"
#include "crypto/totp.h"

static char dir[64];

static struct ss_app *open_app(bool create)
{
	struct ss_app *app = NULL;
	enum ss_err err = ss_app_open(dir, create, &app);
	if (err)
		printf("# open: %s\n", ss_err_message());
	return app;
}

static int bad_lines;
static long last_bad;
static void on_bad(void *ctx, long line, const char *field, const char *reason)
{
	bad_lines++;
	last_bad = line;
}

static enum ss_err import(struct ss_app *app, const char *csv)
{
	FILE *f = fmemopen((void *)csv, strlen(csv), "r");
	struct ss_import_report rep = {.bad_line = on_bad};
	bad_lines = 0;
	enum ss_err err = ss_registry_import(app, f, &rep);
	fclose(f);
	return err;
}

#define HEADER "id_number,name,sex,birth_date,division,phone\n"

static void test_mask(void)
{
	char out[SS_MASK_MAX];
	ss_mask_name("张三", out);
	CHECK_STR(out, "张*");
	ss_mask_name("欧阳小明", out);
	CHECK_STR(out, "欧***");
	ss_mask_name("A", out);
	CHECK_STR(out, "A");
	ss_mask_id("11010519491231002X", out);
	CHECK_STR(out, "11**************2X");
	ss_mask_phone("13800138000", out);
	CHECK_STR(out, "138****8000");
	ss_mask_phone("+8613800138000", out);
	CHECK_STR(out, "+86*******8000");
}

static void test_init_idempotent(void)
{
	struct ss_app *app = open_app(false);
	CHECK(app == NULL); /* not initialised yet */
	app = open_app(true);
	CHECK(app != NULL);
	uint32_t data = ss_keyring_current_id(app->keys, SS_KEY_DATA);
	CHECK(data != 0);
	ss_app_close(app);
	app = open_app(true);
	CHECK(app != NULL && ss_keyring_current_id(app->keys, SS_KEY_DATA) == data);
	ss_app_close(app);
}

static void test_wrong_master_refused(void)
{
	setenv("SUISHEN_MASTER_KEY", "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff", 1);
	struct ss_app *app = NULL;
	CHECK(ss_app_open(dir, false, &app) == SS_INVALID);
	CHECK(strstr(ss_err_message(), "wrong master key") != NULL);
	setenv("SUISHEN_MASTER_KEY", "not hex", 1);
	CHECK(ss_app_open(dir, false, &app) == SS_INVALID);
	unsetenv("SUISHEN_MASTER_KEY");
	app = open_app(false);
	CHECK(app != NULL);
	ss_app_close(app);

	/* a lost master key file is not replaced by init: it must be restored */
	char path[128], saved[128];
	snprintf(path, sizeof(path), "%s/master.key", dir);
	snprintf(saved, sizeof(saved), "%s/master.key.saved", dir);
	CHECK(rename(path, saved) == 0);
	CHECK(ss_app_open(dir, true, &app) == SS_INVALID);
	CHECK(strstr(ss_err_message(), "no master key") != NULL);
	CHECK(access(path, F_OK) != 0);
	CHECK(rename(saved, path) == 0);
	app = open_app(false);
	CHECK(app != NULL);
	ss_app_close(app);
}

static void test_registry_all_or_nothing(void)
{
	struct ss_app *app = open_app(false);
	int64_t count = -1;
	CHECK(import(app, HEADER "11010519491231002X,张三,F,1949-12-31,110105,13800138000\n"
	                         "110105194912310021,李四,F,1949-12-31,110105,\n") == SS_INVALID);
	CHECK(bad_lines == 1 && last_bad == 3);
	CHECK(app->store->ops->person_count(app->store, &count) == SS_OK && count == 0);
	CHECK(import(app, "id,name\n") == SS_INVALID && bad_lines == 1 && last_bad == 1);
	CHECK(import(app, HEADER "11010519491231002X,张三,F,1949-12-31,110105,13800138000\n"
	                         "11010519491231002X,张三,F,1949-12-31,110105,13800138000\n") == SS_INVALID);
	CHECK(bad_lines == 1 && last_bad == 3);
	CHECK(import(app, HEADER "11010519491231002X,张三,F,1949-12-31,110105,13800138000\n") == SS_OK);
	CHECK(app->store->ops->person_count(app->store, &count) == SS_OK && count == 1);
	ss_app_close(app);
}

static void test_register_and_login(void)
{
	struct ss_app *app = open_app(false);
	int64_t id;
	char uri[SS_TOTP_URI_MAX];
	struct ss_registration reg = {"张三", "11010519491231002x", "13800138000", "password1", "app"};
	CHECK(ss_identity_register(app, &reg, &id, uri) == SS_OK);
	CHECK(strncmp(uri, "otpauth://totp/", 15) == 0);
	CHECK(ss_identity_register(app, &reg, &id, uri) == SS_CONFLICT);
	struct ss_registration wrong = {"张四", "11010519491231002X", "13800138000", "password1", "app"};
	CHECK(ss_identity_register(app, &wrong, &id, uri) == SS_MISMATCH);
	struct ss_registration bad = {"张三", "110105194912310021", "13800138000", "password1", "app"};
	CHECK(ss_identity_register(app, &bad, &id, uri) == SS_INVALID);
	CHECK_STR(ss_err_field(), "id_number");

	/* the TOTP secret from the URI, decoded from base32 */
	const char *s = strstr(uri, "secret=") + 7;
	uint8_t secret[20];
	int bits = 0, o = 0;
	unsigned acc = 0;
	for (; *s && *s != '&'; s++) {
		acc = acc << 5 | (unsigned)(*s >= 'A' ? *s - 'A' : *s - '2' + 26);
		bits += 5;
		if (bits >= 8)
			secret[o++] = (uint8_t)(acc >> (bits -= 8));
	}
	CHECK(o == 20);
	char otp[8];
	snprintf(otp, sizeof(otp), "%06u", ss_totp_code(secret, ss_time_now()));
	struct ss_login login;
	CHECK(ss_identity_login(app, "11010519491231002X", "password1", otp, "app", NULL, &login) == SS_OK);
	int64_t who;
	CHECK(ss_identity_authenticate(app, login.token, &who) == SS_OK && who == id);
	struct ss_profile p;
	CHECK(ss_identity_profile(app, who, &p) == SS_OK);
	CHECK_STR(p.name, "张三");
	CHECK_STR(p.id_number, "11010519491231002X");
	CHECK(ss_identity_authenticate(app, "deadbeef", &who) == SS_UNAUTHENTICATED);

	/* five failures slow the account down: even the right credentials wait */
	app->cfg.login_delay_ms = 5000;
	for (int i = 0; i < 5; i++)
		CHECK(ss_identity_login(app, "11010519491231002X", "wrong-password", otp, "app", NULL, &login) ==
		      SS_UNAUTHENTICATED);
	CHECK(ss_identity_login(app, "11010519491231002X", "password1", otp, "app", NULL, &login) == SS_RATE_LIMITED);
	CHECK(login.retry_after >= 1);
	ss_app_close(app);
}

/* A number no one registered is slowed after five failures like a resident's; a lowercase x is the same number. */
static void test_unregistered_number_throttled(void)
{
	struct ss_app *app = open_app(false);
	struct ss_login login;
	char number[19] = "11010519900101";
	for (int seq = 0; seq < 1000 && number[17] != 'X'; seq++) {
		snprintf(number + 14, 4, "%03d", seq);
		number[17] = ss_idcard_check_char(number);
	}
	CHECK(number[17] == 'X');
	app->cfg.login_delay_ms = 5000;
	for (int i = 0; i < 5; i++) {
		number[17] = i % 2 ? 'X' : 'x';
		CHECK(ss_identity_login(app, number, "wrong-password", "123456", "app", NULL, &login) ==
		      SS_UNAUTHENTICATED);
	}
	CHECK(ss_identity_login(app, number, "wrong-password", "123456", "app", NULL, &login) == SS_RATE_LIMITED);
	CHECK(login.retry_after >= 1 && login.retry_after <= 5);
	ss_app_close(app);
}

static int64_t block_from_third(void *ctx, int64_t failures)
{
	return failures >= 3 ? 5000 : 0;
}

/* The store's counts per blind index: counted before the check, restarted when old, forgotten oldest first. */
static void test_login_counts(void)
{
	struct ss_app *app = open_app(false);
	struct ss_store *s = app->store;
	uint8_t idx[7][SS_INDEX_LEN];
	int64_t failures, until, forgotten;
	for (int i = 0; i < 7; i++)
		memset(idx[i], 0xa0 + i, SS_INDEX_LEN);
	CHECK(s->ops->login_forget(s, INT64_MAX, INT64_MAX, 0, &forgotten) == SS_OK); /* the tests' before */
	CHECK(s->ops->login_claim(s, idx[0], 1000, 0, block_from_third, NULL, &failures, &until) == SS_OK);
	CHECK(failures == 1 && until == 0);
	CHECK(s->ops->login_claim(s, idx[0], 1100, 0, block_from_third, NULL, &failures, &until) == SS_OK);
	CHECK(failures == 2 && until == 0);
	CHECK(s->ops->login_claim(s, idx[0], 1200, 0, block_from_third, NULL, &failures, &until) == SS_OK);
	CHECK(failures == 3 && until == 6200);
	CHECK(s->ops->login_claim(s, idx[0], 6199, 0, block_from_third, NULL, &failures, &until) == SS_RATE_LIMITED);
	CHECK(until == 6200);
	/* a count last claimed before forget_before_ms starts again, blocked or not */
	CHECK(s->ops->login_claim(s, idx[0], 6200, 1201, block_from_third, NULL, &failures, &until) == SS_OK);
	CHECK(failures == 1 && until == 0);
	/* a success clears it */
	CHECK(s->ops->login_clear(s, idx[0]) == SS_OK);
	CHECK(s->ops->login_claim(s, idx[0], 6300, 0, block_from_third, NULL, &failures, &until) == SS_OK);
	CHECK(failures == 1);
	CHECK(s->ops->login_clear(s, idx[0]) == SS_OK);

	/* idx[1..5] claimed at 100 .. 500, idx[6] blocked (claimed three times) since 50 */
	for (int i = 1; i <= 5; i++)
		CHECK(s->ops->login_claim(s, idx[i], 100 * i, 0, block_from_third, NULL, &failures, &until) == SS_OK);
	for (int i = 0; i < 3; i++)
		CHECK(s->ops->login_claim(s, idx[6], 48 + i, 0, block_from_third, NULL, &failures, &until) == SS_OK);
	CHECK(until == 5050);
	/* by age: the two claimed before 250; the blocked one stays though older */
	CHECK(s->ops->login_forget(s, 250, 1000, 100, &forgotten) == SS_OK && forgotten == 2);
	/* by number: four kept, two allowed: the oldest two that do not block */
	CHECK(s->ops->login_forget(s, 0, 1000, 2, &forgotten) == SS_OK && forgotten == 2);
	CHECK(s->ops->login_forget(s, 0, 1000, 2, &forgotten) == SS_OK && forgotten == 0);
	/* what is left: idx[5] with its count, idx[6] still blocked; the others start again */
	CHECK(s->ops->login_claim(s, idx[5], 1000, 0, block_from_third, NULL, &failures, &until) == SS_OK);
	CHECK(failures == 2);
	CHECK(s->ops->login_claim(s, idx[6], 1000, 0, block_from_third, NULL, &failures, &until) == SS_RATE_LIMITED);
	CHECK(s->ops->login_claim(s, idx[4], 1000, 0, block_from_third, NULL, &failures, &until) == SS_OK);
	CHECK(failures == 1);
	ss_app_close(app);
}

/* A channel is checked wherever it is kept, whoever passes it: registration, a session, an appeal filed. */
static void test_channels_are_checked(void)
{
	struct ss_app *app = open_app(false);
	int64_t id = 0;
	char uri[SS_TOTP_URI_MAX];
	struct ss_login login;
	CHECK(import(app, HEADER "11010519700101002X,李娜,F,1970-01-01,110105,13800138001\n") == SS_OK);
	static const char *const bad[] = {"fax", "", "APP", "app ", "wechat\n"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct ss_registration reg = {"李娜", "11010519700101002X", "13800138001", "password1", bad[i]};
		CHECK(ss_identity_register(app, &reg, &id, uri) == SS_INVALID);
		CHECK_STR(ss_err_field(), "channel");
		CHECK(ss_identity_login(app, "11010519491231002X", "password1", "000000", bad[i], NULL, &login) ==
		      SS_INVALID);
		CHECK_STR(ss_err_field(), "channel");
	}
	struct ss_registration none = {"李娜", "11010519700101002X", "13800138001", "password1", NULL};
	CHECK(ss_identity_register(app, &none, &id, uri) == SS_INVALID);
	/* nothing was kept: the number registers now, once */
	struct ss_registration reg = {"李娜", "11010519700101002X", "13800138001", "password1", "alipay"};
	CHECK(ss_identity_register(app, &reg, &id, uri) == SS_OK && id > 0);
	if (id <= 0) {
		ss_app_close(app);
		return;
	}
	struct ss_appeal_filing f = {.reason = "误判", .details = "请核实", .citizen_id = id, .channel = "fax"};
	CHECK(ss_appeal_file(app, &f, ss_time_now()) == SS_INVALID);
	CHECK_STR(ss_err_field(), "channel");
	struct ss_appeal_counts counts;
	CHECK(ss_appeal_counts(app, ss_time_now(), &counts) == SS_OK && counts.open == 0);
	f.channel = "wechat";
	CHECK(ss_appeal_file(app, &f, ss_time_now()) == SS_OK);
	ss_app_close(app);
}

static void test_staff(void)
{
	struct ss_app *app = open_app(false);
	int64_t id;
	char token[65];
	struct ss_staff st;
	CHECK(ss_staff_create(app, "王芳", "operator", &id, token) == SS_OK);
	CHECK(ss_staff_authenticate(app, token, &st) == SS_OK && st.staff_id == id && st.role == SS_ROLE_OPERATOR);
	CHECK(ss_staff_create(app, "x", "boss", &id, token) == SS_INVALID);
	token[0] = token[0] == 'a' ? 'b' : 'a';
	CHECK(ss_staff_authenticate(app, token, &st) == SS_UNAUTHENTICATED);
	ss_app_close(app);
}

static void test_rotate_keeps_data(void)
{
	struct ss_app *app = open_app(false);
	uint32_t id;
	CHECK(ss_app_rotate_key(app, SS_KEY_DATA, &id) == SS_OK);
	CHECK(ss_app_rotate_key(app, SS_KEY_INDEX, &id) == SS_INVALID);
	CHECK(ss_app_retire_key(app, ss_keyring_current_id(app->keys, SS_KEY_CODE)) == SS_INVALID);
	ss_app_close(app);
	app = open_app(false);
	struct ss_profile p;
	CHECK(ss_identity_profile(app, 1, &p) == SS_OK);
	CHECK_STR(p.name, "张三");
	ss_app_close(app);
}

/* Transactions nest: an inner rollback undoes only its own part; the outer commit keeps the rest. */
static void test_nested_transactions(void)
{
	struct ss_app *app = open_app(false);
	struct ss_store *s = app->store;
	struct ss_arena a;
	struct ss_blob v;
	const uint8_t one[] = "1", two[] = "2", three[] = "3";
	ss_arena_init(&a);
	CHECK(s->ops->begin(s) == SS_OK);
	CHECK(s->ops->meta_set(s, "nest.a", (struct ss_blob){one, 1}) == SS_OK);
	CHECK(s->ops->begin(s) == SS_OK);
	CHECK(s->ops->meta_set(s, "nest.b", (struct ss_blob){two, 1}) == SS_OK);
	s->ops->rollback(s);
	CHECK(s->ops->begin(s) == SS_OK);
	CHECK(s->ops->meta_set(s, "nest.c", (struct ss_blob){three, 1}) == SS_OK);
	CHECK(s->ops->commit(s) == SS_OK);
	CHECK(s->ops->commit(s) == SS_OK);
	CHECK(s->ops->meta_get(s, "nest.a", &a, &v) == SS_OK && v.n == 1 && v.p[0] == '1');
	CHECK(s->ops->meta_get(s, "nest.b", &a, &v) == SS_NOT_FOUND);
	CHECK(s->ops->meta_get(s, "nest.c", &a, &v) == SS_OK && v.n == 1 && v.p[0] == '3');
	/* an outer rollback undoes the inner commits too */
	CHECK(s->ops->begin(s) == SS_OK);
	CHECK(s->ops->begin(s) == SS_OK);
	CHECK(s->ops->meta_set(s, "nest.d", (struct ss_blob){one, 1}) == SS_OK);
	CHECK(s->ops->commit(s) == SS_OK);
	s->ops->rollback(s);
	CHECK(s->ops->meta_get(s, "nest.d", &a, &v) == SS_NOT_FOUND);
	/* and the store is usable afterwards, from a transaction of its own */
	CHECK(s->ops->meta_set(s, "nest.e", (struct ss_blob){one, 1}) == SS_OK);
	CHECK(s->ops->meta_get(s, "nest.e", &a, &v) == SS_OK);
	ss_arena_release(&a);
	ss_app_close(app);
}

/*
 * What another process writes (through a second connection, as `suishen import records` does while the server
 * runs): the store's data_version tells it from one's own writes, and a person it coloured before they register
 * holds a code in that colour from the first scan.
 */
static void test_other_process(void)
{
	struct ss_app *app = open_app(false);
	struct ss_store *other = NULL;
	int64_t v0 = 0, v1 = -1, v2 = -1, v3 = -1;
	CHECK(app && ss_app_start(app, false) == SS_OK);
	CHECK(ss_store_open("sqlite", dir, false, &other) == SS_OK);
	CHECK(app->store->ops->data_version(app->store, &v0) == SS_OK);
	CHECK(import(app, HEADER "110105198001010024,李四,F,1980-01-01,110105,13900139000\n") == SS_OK);
	CHECK(app->store->ops->data_version(app->store, &v1) == SS_OK && v1 == v0); /* its own writes: the same */

	uint8_t idx[SS_INDEX_LEN];
	struct ss_person_row p;
	struct ss_arena a;
	ss_arena_init(&a);
	ss_pii_index(app, "110105198001010024", idx);
	CHECK(app->store->ops->person_get(app->store, idx, &a, &p) == SS_OK);
	ss_arena_release(&a);
	struct ss_status_row st = {.person_id = p.person_id, .color = SS_RED, .since = 100, .rule = "m", .reason = "r"};
	CHECK(other->ops->status_put(other, &st) == SS_OK);
	CHECK(app->store->ops->data_version(app->store, &v2) == SS_OK && v2 != v1); /* another's: changed */
	CHECK(app->store->ops->data_version(app->store, &v3) == SS_OK && v3 == v2); /* and only once */

	int64_t id;
	int color = -1;
	int64_t since = 0;
	char uri[SS_TOTP_URI_MAX];
	struct ss_registration reg = {"李四", "110105198001010024", "13900139000", "password1", "app"};
	CHECK(!ss_holders_get(app->holders, p.person_id, &color, &since)); /* memory has not followed the store */
	CHECK(ss_identity_register(app, &reg, &id, uri) == SS_OK);
	CHECK(ss_holders_get(app->holders, p.person_id, &color, &since) && color == SS_RED && since == 100);
	ss_store_close(other);
	ss_app_close(app);
}

int main(void)
{
	if (!check_data_dir(dir))
		return 1;
	RUN(test_mask);
	RUN(test_init_idempotent);
	RUN(test_wrong_master_refused);
	RUN(test_registry_all_or_nothing);
	RUN(test_register_and_login);
	RUN(test_unregistered_number_throttled);
	RUN(test_login_counts);
	RUN(test_channels_are_checked);
	RUN(test_staff);
	RUN(test_rotate_keeps_data);
	RUN(test_nested_transactions);
	RUN(test_other_process);
	if (!check_data_dir_remove(dir))
		return 1;
	return check_done();
}
