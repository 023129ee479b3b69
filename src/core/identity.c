/* identity: registration, log-in, sessions, profile (see identity.h). */
#include "core/identity.h"

#include <assert.h>
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
	if (app->holders) /* the new resident can be scanned at once */
		ss_holders_add(app->holders, row.person_id, row.sealed, row.created_at);
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

/* The throttle after one more failure: how long the account must wait (ms from now). */
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

/* The TOTP step otp matches for this resident, or -1; a step already used does not match (RFC 6238 5.2). */
static int64_t totp_step(struct ss_app *app, const struct ss_citizen_row *c, const char *otp, struct ss_arena *a)
{
	const char *fields[1];
	uint8_t secret[SS_TOTP_SECRET_LEN];
	int64_t step = -1;
	if (!otp || ss_pii_open(app, SS_PII_TOTP, c->totp_sealed, a, fields, 1) ||
	    !ss_hex_decode(fields[0], strlen(fields[0]), secret, sizeof(secret)))
		return -1;
	if (!ss_totp_check(secret, ss_time_now(), otp, c->totp_last_step, &step))
		step = -1;
	ss_wipe(secret, sizeof(secret));
	ss_wipe((char *)fields[0], strlen(fields[0]));
	return step;
}

static int64_t delay_policy(void *ctx, int64_t failures)
{
	return delay_after(ctx, failures);
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
	                           .actor_id = c ? c->citizen_id : 0,
	                           .action = action,
	                           .subject = c ? c->person_id : 0,
	                           .detail = detail};
	return ss_audit(app, &e);
}

enum ss_err ss_identity_login(struct ss_app *app, const char *id_number, const char *password, const char *otp,
                              const char *channel, const char *source, struct ss_login *out)
{
	struct ss_idcard id;
	struct ss_citizen_row c;
	struct ss_arena a;
	enum ss_err err;

	/* a dummy hash keeps an unknown number as slow as a known one */
	static const char dummy[] = "$argon2id$v=19$m=19456,t=2,p=1$c3Vpc2hlbmR1bW15c2FsdA$"
	                            "zJ0iGjmU0dyvQ8y4gE6c2cGXJxqFQyI4xW0Qm1l5o9k";
	memset(out, 0, sizeof(*out));
	if ((err = ss_channel_check(channel))) /* kept with the session: checked before any credential is */
		return err;
	if (!id_number || !password || ss_idcard_parse(id_number, strlen(id_number), ss_time_now(), &id)) {
		(void)ss_password_verify(dummy, "x", 1);
		(void)audit_login(app, "login.failed", NULL, channel, source);
		return wrong_credentials();
	}
	ss_arena_init(&a);
	uint8_t idx[SS_INDEX_LEN];
	ss_pii_index(app, id.number, idx);
	err = app->store->ops->citizen_by_idx(app->store, idx, &a, &c);
	if (err == SS_NOT_FOUND) {
		/* an unknown number costs what a known one does: a hash and an audit entry */
		(void)ss_password_verify(dummy, password, strlen(password));
		(void)audit_login(app, "login.failed", NULL, channel, source);
		err = wrong_credentials();
		goto out;
	}
	if (err)
		goto out;
	/* the attempt is counted (and the account slowed) before anything is checked */
	int64_t failures, blocked_until, now_ms = ss_time_now_ms();
	err = app->store->ops->citizen_login_claim(app->store, c.citizen_id, now_ms, delay_policy, app, &failures,
	                                           &blocked_until);
	if (err == SS_RATE_LIMITED) {
		out->retry_after = (blocked_until - now_ms + 999) / 1000;
		ss_log_info("login_throttled", "citizen_id=%lld", (long long)c.citizen_id);
		(void)audit_login(app, "login.throttled", &c, channel, source);
		err = ss_fail(SS_RATE_LIMITED, NULL, "too many failed log-ins for this account: try again in %lld s",
		              (long long)out->retry_after);
		goto out;
	}
	if (err)
		goto out;
	bool ok = ss_password_verify(c.password_hash, password, strlen(password));
	int64_t step = totp_step(app, &c, otp, &a);
	struct ss_store *st = app->store;
	struct ss_session_row s = {.citizen_id = c.citizen_id, .channel = channel, .created_at = ss_time_now()};
	s.expires_at = s.created_at + app->cfg.session_ttl;
	if (ok && step >= 0 && (err = ss_app_new_token(out->token, s.token_hash)))
		goto out;
	/* success: the attempt's end, the session and the audit entry are one transaction */
	if (ok && step >= 0 && (err = st->ops->begin(st)))
		goto out;
	if (!ok || step < 0 || (err = st->ops->citizen_login_done(st, c.citizen_id, step)) == SS_CONFLICT) {
		if (ok && step >= 0)
			st->ops->rollback(st);
		ss_log_info("login_failed", "citizen_id=%lld failures=%lld", (long long)c.citizen_id,
		            (long long)failures);
		(void)audit_login(app, "login.failed", &c, channel, source);
		memset(out->token, 0, sizeof(out->token));
		err = wrong_credentials();
		goto out;
	}
	if (err || (err = st->ops->session_insert(st, &s)) || (err = audit_login(app, "login", &c, channel, source))) {
		st->ops->rollback(st);
		memset(out->token, 0, sizeof(out->token));
		goto out;
	}
	if ((err = st->ops->commit(st))) {
		memset(out->token, 0, sizeof(out->token));
		goto out;
	}
	out->expires_at = s.expires_at;
	ss_log_info("login", "citizen_id=%lld channel=%s", (long long)c.citizen_id, channel);
out:
	ss_arena_release_secret(&a);
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
