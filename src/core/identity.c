/* identity: registration, log-in, sessions, profile (see identity.h). */
#include "core/identity.h"

#include <assert.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "base/mem.h"
#include "base/str.h"
#include "base/time.h"
#include "core/audit.h"
#include "core/holders.h"
#include "core/pii.h"
#include "crypto/crypto.h"
#include "crypto/password.h"
#include "crypto/totp.h"

bool ss_channel_is_valid(const char *channel)
{
	static const char *const channels[] = {"app", "wechat", "alipay", "web"};
	for (size_t i = 0; channel && i < sizeof(channels) / sizeof(channels[0]); i++)
		if (!strcmp(channel, channels[i]))
			return true;
	return false;
}

enum ss_err ss_channel_check(const char *channel)
{
	if (!ss_channel_is_valid(channel))
		return ss_fail(SS_INVALID, "channel", "channel must be app, wechat, alipay or web");
	return SS_OK;
}

static enum ss_err check_password(const char *pw)
{
	size_t n = strlen(pw);
	if (n < SS_PASSWORD_MIN || n > SS_PASSWORD_MAX)
		return ss_fail(SS_INVALID, "password", "password must be %d to %d bytes", SS_PASSWORD_MIN,
		               SS_PASSWORD_MAX);
	return SS_OK;
}

/* The registry's particulars of the person with this ID number; SS_MISMATCH when there is none. */
static enum ss_err registry_name(struct ss_app *app, const uint8_t idx[SS_INDEX_LEN], struct ss_arena *a,
                                 struct ss_person_row *person, const char **name)
{
	const char *fields[6];
	enum ss_err err = app->store->ops->person_get(app->store, idx, a, person);
	if (err == SS_NOT_FOUND)
		return ss_fail(SS_MISMATCH, "name", "name and ID number do not match the population registry");
	if (err || (err = ss_pii_open(app, SS_PII_PERSON, person->sealed, a, fields, 6)))
		return err;
	*name = fields[1];
	return SS_OK;
}

enum ss_err ss_identity_real_name(struct ss_app *app, const char *name, const struct ss_idcard *id, struct ss_arena *a,
                                  struct ss_person_row *person)
{
	uint8_t idx[SS_INDEX_LEN];
	const char *registered = "";
	ss_pii_index(app, id->number, idx);
	enum ss_err err = registry_name(app, idx, a, person, &registered);
	if (!err && strcmp(registered, name) != 0)
		err = ss_fail(SS_MISMATCH, "name", "name and ID number do not match the population registry");
	return err;
}

/*
 * Registration, shared by both entry points: with prehashed NULL the password
 * is checked and hashed here (after the registry and duplicate checks, so a
 * refused registration costs no argon2id); otherwise prehashed is the stored
 * hash and reg->password is not looked at.
 */
static enum ss_err register_citizen(struct ss_app *app, const struct ss_registration *reg, const char *prehashed,
                                    int64_t *citizen_id, char totp_uri[SS_TOTP_URI_MAX])
{
	char name[SS_NAME_MAX + 1], phone[SS_PHONE_MAX + 1];
	struct ss_idcard id;
	enum ss_err err;

	if ((err = ss_channel_check(reg->channel)) ||
	    (err = ss_name_check(reg->name, strlen(reg->name), "name", name)) ||
	    (err = ss_idcard_parse(reg->id_number, strlen(reg->id_number), ss_time_now(), &id)) ||
	    (err = ss_phone_check(reg->phone, strlen(reg->phone), "phone", phone)) ||
	    (!prehashed && (err = check_password(reg->password))))
		return err;

	struct ss_arena a;
	struct ss_person_row person;
	struct ss_citizen_row row = {0};
	uint8_t secret[SS_TOTP_SECRET_LEN];
	char hash[SS_PASSWORD_HASH_MAX];

	ss_arena_init(&a);
	ss_pii_index(app, id.number, row.idx);
	if ((err = ss_identity_real_name(app, name, &id, &a, &person)))
		goto out;
	struct ss_citizen_row existing;
	err = app->store->ops->citizen_by_idx(app->store, row.idx, &a, &existing);
	if (!err)
		err = ss_fail(SS_CONFLICT, "id_number", "this ID number is already registered");
	if (err != SS_NOT_FOUND)
		goto out;
	if ((err = ss_random(secret, sizeof(secret))) ||
	    (!prehashed && (err = ss_password_hash(reg->password, strlen(reg->password), hash))))
		goto out;
	const char *particulars[] = {name, id.number, phone};
	char secret_hex[2 * SS_TOTP_SECRET_LEN + 1];
	ss_hex_encode(secret, sizeof(secret), secret_hex);
	const char *totp_fields[] = {secret_hex};
	err = ss_pii_seal(app, SS_PII_CITIZEN, particulars, 3, &a, &row.sealed);
	if (!err)
		err = ss_pii_seal(app, SS_PII_TOTP, totp_fields, 1, &a, &row.totp_sealed);
	ss_wipe(secret_hex, sizeof(secret_hex));
	if (err)
		goto out;
	row.person_id = person.person_id;
	row.password_hash = prehashed ? prehashed : hash;
	row.channel = reg->channel;
	row.created_at = ss_time_now();
	err = app->store->ops->citizen_insert(app->store, &row, citizen_id);
	if (err == SS_CONFLICT)
		err = ss_fail(SS_CONFLICT, "id_number", "this ID number is already registered");
	if (err)
		goto out;
	/* the new resident can be scanned at once, in the colour the store gives them (it may not be green) */
	if (app->holders && (err = ss_holders_add(app->holders, app->store, row.person_id, row.sealed, row.created_at)))
		goto out;
	char b32[64];
	ss_base32_encode(secret, sizeof(secret), b32);
	snprintf(totp_uri, SS_TOTP_URI_MAX,
	         "otpauth://totp/suishen:%lld?secret=%s&issuer=suishen&algorithm=SHA1&digits=6&period=30",
	         (long long)*citizen_id, b32);
	ss_wipe(b32, sizeof(b32));
	ss_log_info("citizen_registered", "citizen_id=%lld channel=%s", (long long)*citizen_id, reg->channel);
out:
	ss_wipe(secret, sizeof(secret));
	ss_wipe(hash, sizeof(hash));
	ss_arena_release_secret(&a);
	return err;
}

enum ss_err ss_identity_register(struct ss_app *app, const struct ss_registration *reg, int64_t *citizen_id,
                                 char totp_uri[SS_TOTP_URI_MAX])
{
	return register_citizen(app, reg, NULL, citizen_id, totp_uri);
}

enum ss_err ss_identity_register_prehashed(struct ss_app *app, const struct ss_registration *reg,
                                           const char *password_hash, int64_t *citizen_id,
                                           char totp_uri[SS_TOTP_URI_MAX])
{
	assert(password_hash && strlen(password_hash) < SS_PASSWORD_HASH_MAX);
	return register_citizen(app, reg, password_hash, citizen_id, totp_uri);
}

static enum ss_err wrong_credentials(void)
{
	return ss_fail(SS_UNAUTHENTICATED, NULL, "wrong ID number, password or one-time code");
}

/* The throttle after one more failure: how long the number must wait (ms from now). */
static int64_t delay_after(const struct ss_app *app, int64_t failures)
{
	if (failures >= SS_LOGIN_LOCK_AFTER)
		return (int64_t)SS_LOGIN_LOCK_SECONDS * 1000;
	if (failures < SS_LOGIN_SLOW_AFTER)
		return 0;
	int64_t d = app->cfg.login_delay_ms;
	for (int64_t i = SS_LOGIN_SLOW_AFTER; i < failures && d < SS_LOGIN_LOCK_SECONDS * 1000; i++)
		d *= 2;
	return d < SS_LOGIN_LOCK_SECONDS * 1000 ? d : (int64_t)SS_LOGIN_LOCK_SECONDS * 1000;
}

static int64_t delay_policy(void *ctx, int64_t failures)
{
	return delay_after(ctx, failures);
}

/*
 * The password hash of the stand-in for a number no resident has: of a random
 * password nobody knows, made once per process by ss_password_hash(), so that
 * checking a password against it costs what checking one against a resident's
 * hash does, with whatever parameters new hashes get.
 */
static enum ss_err stand_in_hash(const char **out)
{
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	static char hash[SS_PASSWORD_HASH_MAX]; /* "" until made */
	enum ss_err err = SS_OK;
	pthread_mutex_lock(&lock);
	if (!hash[0]) {
		uint8_t pw[16];
		char hex[2 * sizeof(pw) + 1];
		if (!(err = ss_random(pw, sizeof(pw)))) {
			ss_hex_encode(pw, sizeof(pw), hex);
			err = ss_password_hash(hex, strlen(hex), hash);
			ss_wipe(hex, sizeof(hex));
		}
		ss_wipe(pw, sizeof(pw));
		if (err)
			hash[0] = '\0';
	}
	pthread_mutex_unlock(&lock);
	*out = hash;
	return err;
}

/*
 * A resident's row for a number without one: citizen and person id 0, the
 * stand-in password hash and a sealed TOTP secret (zeros), so that the check
 * below does the same work for it (argon2id, opening a sealed secret, TOTP)
 * as for a resident. Nothing can log in with it: no account has id 0.
 */
static enum ss_err stand_in(struct ss_app *app, const char *hash, struct ss_arena *a, struct ss_citizen_row *c)
{
	static const char zeros[2 * SS_TOTP_SECRET_LEN + 1] = "0000000000000000000000000000000000000000";
	const char *fields[] = {zeros};
	memset(c, 0, sizeof(*c));
	c->password_hash = hash;
	c->totp_last_step = -1;
	return ss_pii_seal(app, SS_PII_TOTP, fields, 1, a, &c->totp_sealed);
}

/* The TOTP step otp matches for this resident, or -1; a step already used does not match (RFC 6238 5.2). */
static int64_t totp_step(struct ss_app *app, const struct ss_citizen_row *c, const char *otp, struct ss_arena *a)
{
	const char *fields[1];
	uint8_t secret[SS_TOTP_SECRET_LEN];
	int64_t step = -1;
	if (ss_pii_open(app, SS_PII_TOTP, c->totp_sealed, a, fields, 1) ||
	    !ss_hex_decode(fields[0], strlen(fields[0]), secret, sizeof(secret)))
		return -1;
	if (!ss_totp_check(secret, ss_time_now(), otp, c->totp_last_step, &step))
		step = -1;
	ss_wipe(secret, sizeof(secret));
	ss_wipe((char *)fields[0], strlen(fields[0]));
	return step;
}

/* The audit entry of a log-in attempt: the account (0 if none), the channel and a keyed hash of the source. */
static enum ss_err audit_login(struct ss_app *app, const char *action, const struct ss_citizen_row *c,
                               const char *channel, const char *source)
{
	char detail[128], src[17] = "";
	if (source && *source) {
		uint8_t h[32];
		ss_keyring_blind(app->keys, "login-source", source, strlen(source), h);
		ss_hex_encode(h, 8, src);
	}
	snprintf(detail, sizeof(detail), "{\"channel\":\"%s\",\"source\":\"%s\"}",
	         ss_channel_is_valid(channel) ? channel : "", src);
	struct ss_audit_event e = {.actor = SS_ACTOR_CITIZEN,
	                           .actor_id = c->citizen_id,
	                           .action = action,
	                           .subject = c->person_id,
	                           .detail = detail};
	return ss_audit(app, &e);
}

/* A checked attempt that failed: the same log line, audit entry and answer whether or not there is an account. */
static enum ss_err login_failed(struct ss_app *app, const struct ss_citizen_row *c, int64_t failures,
                                const char *channel, const char *source)
{
	ss_log_info("login_failed", "citizen_id=%lld failures=%lld", (long long)c->citizen_id, (long long)failures);
	(void)audit_login(app, "login.failed", c, channel, source);
	return wrong_credentials();
}

enum ss_err ss_identity_login(struct ss_app *app, const char *id_number, const char *password, const char *otp,
                              const char *channel, const char *source, struct ss_login *out)
{
	struct ss_idcard id;
	struct ss_citizen_row c;
	struct ss_arena a;
	uint8_t idx[SS_INDEX_LEN];
	const char *hash;
	int64_t failures = 0, blocked_until = 0, now_ms = ss_time_now_ms();
	bool well_formed = id_number && !ss_idcard_parse(id_number, strlen(id_number), ss_time_now(), &id);
	enum ss_err err;

	memset(out, 0, sizeof(*out));
	if ((err = ss_channel_check(channel))) /* kept with the session: checked before any credential is */
		return err;
	err = stand_in_hash(&hash);
	if (!password)
		password = "";
	if (err)
		return err;
	ss_arena_init(&a);
	err = SS_NOT_FOUND; /* no account found yet */
	if (well_formed) {
		ss_pii_index(app, id.number, idx);
		err = app->store->ops->citizen_by_idx(app->store, idx, &a, &c);
	}
	if (err == SS_NOT_FOUND)
		err = stand_in(app, hash, &a, &c);
	/* counted (and the number slowed) before anything is checked, account or not; a malformed one is no one's */
	if (!err && well_formed)
		err = app->store->ops->login_claim(app->store, idx, now_ms,
		                                   now_ms - (int64_t)SS_LOGIN_FORGET_SECONDS * 1000, delay_policy, app,
		                                   &failures, &blocked_until);
	if (err == SS_RATE_LIMITED) {
		out->retry_after = (blocked_until - now_ms + 999) / 1000;
		ss_log_info("login_throttled", "citizen_id=%lld", (long long)c.citizen_id);
		(void)audit_login(app, "login.throttled", &c, channel, source);
		err = ss_fail(SS_RATE_LIMITED, NULL, "too many failed log-ins for this ID number: try again in %lld s",
		              (long long)out->retry_after);
		goto out;
	}
	if (err)
		goto out;
	bool ok = ss_password_verify(c.password_hash, password, strlen(password)) && c.citizen_id != 0;
	int64_t step = totp_step(app, &c, otp, &a);
	if (!ok || step < 0) {
		err = login_failed(app, &c, failures, channel, source);
		goto out;
	}
	/* success: the code's step, the count's end, the session and the audit entry are one transaction */
	struct ss_store *st = app->store;
	struct ss_session_row s = {.citizen_id = c.citizen_id, .channel = channel, .created_at = ss_time_now()};
	s.expires_at = s.created_at + app->cfg.session_ttl;
	if ((err = ss_app_new_token(out->token, s.token_hash)) || (err = st->ops->begin(st)))
		goto failed;
	err = st->ops->citizen_login_done(st, c.citizen_id, step);
	if (err == SS_CONFLICT) { /* the code was used meanwhile: a failure like any other */
		st->ops->rollback(st);
		err = login_failed(app, &c, failures, channel, source);
		goto failed;
	}
	if (err || (err = st->ops->login_clear(st, idx)) || (err = st->ops->session_insert(st, &s)) ||
	    (err = audit_login(app, "login", &c, channel, source))) {
		st->ops->rollback(st);
		goto failed;
	}
	if ((err = st->ops->commit(st)))
		goto failed;
	out->expires_at = s.expires_at;
	ss_log_info("login", "citizen_id=%lld channel=%s", (long long)c.citizen_id, channel);
	goto out;
failed:
	ss_wipe(out->token, sizeof(out->token));
out:
	ss_arena_release_secret(&a);
	return err;
}

enum ss_err ss_identity_purge(struct ss_app *app, int64_t now_ms)
{
	struct ss_store *s = app->store;
	int64_t forgotten = 0;
	enum ss_err err = s->ops->session_purge(s, now_ms / 1000);
	if (!err)
		err = s->ops->login_forget(s, now_ms - (int64_t)SS_LOGIN_FORGET_SECONDS * 1000, now_ms,
		                           SS_LOGIN_COUNTS_MAX, &forgotten);
	if (!err && forgotten)
		ss_log_info("login_counts_forgotten", "rows=%lld", (long long)forgotten);
	return err;
}

enum ss_err ss_identity_authenticate(struct ss_app *app, const char *token, int64_t *citizen_id)
{
	uint8_t hash[32];
	struct ss_session_row s;
	struct ss_arena a;

	if (!ss_app_token_hash(token, hash))
		return ss_fail(SS_UNAUTHENTICATED, NULL, "missing or invalid session token");
	ss_arena_init(&a);
	enum ss_err err = app->store->ops->session_get(app->store, hash, &a, &s);
	ss_arena_release_secret(&a);
	if (err == SS_NOT_FOUND || (!err && s.expires_at <= ss_time_now()))
		return ss_fail(SS_UNAUTHENTICATED, NULL, "missing or invalid session token");
	if (err)
		return err;
	*citizen_id = s.citizen_id;
	return SS_OK;
}

enum ss_err ss_identity_logout(struct ss_app *app, const char *token)
{
	uint8_t hash[32];
	if (!ss_app_token_hash(token, hash))
		return ss_fail(SS_UNAUTHENTICATED, NULL, "missing or invalid session token");
	return app->store->ops->session_delete(app->store, hash);
}

enum ss_err ss_identity_profile(struct ss_app *app, int64_t citizen_id, struct ss_profile *out)
{
	struct ss_citizen_row c;
	struct ss_arena a;
	const char *fields[3];

	ss_arena_init(&a);
	enum ss_err err = app->store->ops->citizen_by_id(app->store, citizen_id, &a, &c);
	if (err == SS_NOT_FOUND)
		err = ss_fail(SS_NOT_FOUND, NULL, "no such resident");
	if (!err)
		err = ss_pii_open(app, SS_PII_CITIZEN, c.sealed, &a, fields, 3);
	if (!err) {
		out->citizen_id = citizen_id;
		snprintf(out->name, sizeof(out->name), "%s", fields[0]);
		snprintf(out->id_number, sizeof(out->id_number), "%s", fields[1]);
		snprintf(out->phone, sizeof(out->phone), "%s", fields[2]);
	}
	ss_arena_release_secret(&a);
	return err;
}
