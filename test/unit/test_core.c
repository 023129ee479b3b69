/* Unit tests of the core over a real SQLite store in a temporary directory: app open and init, keys, masking,
 * registry import, registration, log-in throttling, staff. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/time.h"
#include "check.h"
#include "core/app.h"
#include "core/identity.h"
#include "core/mask.h"
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

int main(void)
{
	if (!check_data_dir(dir))
		return 1;
	RUN(test_mask);
	RUN(test_init_idempotent);
	RUN(test_wrong_master_refused);
	RUN(test_registry_all_or_nothing);
	RUN(test_register_and_login);
	RUN(test_staff);
	RUN(test_rotate_keeps_data);
	RUN(test_nested_transactions);
	if (!check_data_dir_remove(dir))
		return 1;
	return check_done();
}
