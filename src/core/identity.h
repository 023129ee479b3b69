/*
 * identity: residents: real-name registration against the population
 * registry, log-in with password and TOTP, sessions, and the resident's own
 * profile.
 *
 * Registration checks, in order: the fields' form (SS_INVALID naming the
 * field), the ID number per GB 11643, the name against the registry for that
 * number (SS_MISMATCH; also when the number is not in the registry), and that
 * the number is not registered yet (SS_CONFLICT). Passwords are hashed with
 * argon2id; the TOTP secret and the particulars are sealed (pii.h).
 *
 * Log-in answers SS_UNAUTHENTICATED for every wrong credential alike (unknown
 * number, wrong password, wrong, missing or already used OTP), with the same
 * message. A one-time code is accepted for the 30-second step before, at and
 * after now, and only once (RFC 6238 5.2): a second log-in needs the next
 * code. Consecutive failures of one ID number slow it down, then lock it,
 * whether or not anyone registered the number, so that the answers do not
 * tell who is registered: each attempt is counted, under the number's blind
 * index, before it is checked (atomically in the store, so concurrent
 * attempts cannot outrun the count); from the 5th each next attempt must wait
 * (login_delay_ms, doubling each time, at most 15 minutes), and at the 10th
 * the number is locked for 15 minutes; an attempt that comes too early gets
 * SS_RATE_LIMITED with the seconds to wait, and is not checked. A number
 * without an account is checked against a stand-in that costs the same
 * (argon2id, a sealed TOTP secret), and is logged and audited the same way.
 * The counts are stored, so a restart does not reset them; a success resets
 * them, and a count is forgotten SS_LOGIN_FORGET_SECONDS after its last
 * attempt. A number that fails GB 11643 cannot be anyone's: it is answered
 * as a wrong credential after the same argon2id work, and never counted.
 *
 * Sessions: opaque 64-hex-character tokens, stored only as SM3 hashes, with
 * the channel and an expiry (session_ttl). Thread-safe.
 */
#ifndef SS_CORE_IDENTITY_H
#define SS_CORE_IDENTITY_H

#include <stdbool.h>
#include <stdint.h>

#include "base/err.h"
#include "core/app.h"
#include "core/population.h"

#define SS_TOTP_URI_MAX       192
#define SS_PASSWORD_MIN       8
#define SS_PASSWORD_MAX       128
#define SS_LOGIN_SLOW_AFTER   5
#define SS_LOGIN_LOCK_AFTER   10
#define SS_LOGIN_LOCK_SECONDS (15 * 60)
/*
 * A count is forgotten this long after its last attempt: as long as ten lock
 * periods, so a guesser who waits for it to go gets no more tries per hour
 * than one who is locked again after each (one per lock period).
 */
#define SS_LOGIN_FORGET_SECONDS (SS_LOGIN_LOCK_AFTER * SS_LOGIN_LOCK_SECONDS)
/* At most this many counts are kept (about 100 bytes each); past it the oldest that no longer block go first. */
#define SS_LOGIN_COUNTS_MAX 1000000

/* True if channel is one of app, wechat, alipay, web. */
bool ss_channel_is_valid(const char *channel);

/*
 * SS_INVALID naming channel unless it is one of those: what every core
 * function that keeps or acts on a channel checks, wherever the caller took
 * it from (a request's X-Channel, a body, the command line).
 */
enum ss_err ss_channel_check(const char *channel) SS_MUST;

struct ss_registration {
	const char *name, *id_number, *phone, *password, *channel;
};

/*
 * The real-name check of registration, for anyone who names a person of the
 * registry (a resident registering, a guardian adding a relative): name (as
 * ss_name_check() gives it) must be the registry's name for the ID number id
 * (as ss_idcard_parse() gives it). SS_MISMATCH (field "name") if it is not,
 * or if the number is not in the registry; on success the registry's row of
 * the person (its blobs in a, which the caller releases as secret).
 */
enum ss_err ss_identity_real_name(struct ss_app *app, const char *name, const struct ss_idcard *id, struct ss_arena *a,
                                  struct ss_person_row *person) SS_MUST;

/* Registers a resident; on success the citizen id and the otpauth:// URI of the second factor. */
enum ss_err ss_identity_register(struct ss_app *app, const struct ss_registration *reg, int64_t *citizen_id,
                                 char totp_uri[SS_TOTP_URI_MAX]) SS_MUST;

/*
 * Registers a resident exactly as ss_identity_register() does (the same
 * checks in the same order, the same rows), except that the password comes
 * already hashed: password_hash is a PHC string made by ss_password_hash() of
 * a password that meets the rules above, and reg->password is not used (it
 * may be NULL). For setting up many residents at once (suishen demo), where
 * an argon2id hash apiece would cost tens of milliseconds each. Opens no
 * transaction of its own, so a caller may group many in one.
 */
enum ss_err ss_identity_register_prehashed(struct ss_app *app, const struct ss_registration *reg,
                                           const char *password_hash, int64_t *citizen_id,
                                           char totp_uri[SS_TOTP_URI_MAX]) SS_MUST;

struct ss_login {
	char token[65];
	int64_t expires_at;
	int64_t retry_after; /* seconds, with SS_RATE_LIMITED */
};

/*
 * Logs a resident in (otp may be NULL: that fails like a wrong one). Every
 * attempt is audited (login, login.failed, login.throttled; naming the
 * account, or none) with a keyed hash of source (the peer's address, or
 * NULL), so that failures from one source can be counted without keeping
 * the address.
 */
enum ss_err ss_identity_login(struct ss_app *app, const char *id_number, const char *password, const char *otp,
                              const char *channel, const char *source, struct ss_login *out) SS_MUST;

/*
 * Housekeeping: removes the sessions that expired and the log-in counts that
 * are forgotten (see above), then the oldest counts past SS_LOGIN_COUNTS_MAX.
 */
enum ss_err ss_identity_purge(struct ss_app *app, int64_t now_ms) SS_MUST;

/* The citizen a bearer token belongs to; SS_UNAUTHENTICATED if unknown or expired. */
enum ss_err ss_identity_authenticate(struct ss_app *app, const char *token, int64_t *citizen_id) SS_MUST;

/* Ends the session of token (logging out): the token stops working at once. An unknown token changes nothing. */
enum ss_err ss_identity_logout(struct ss_app *app, const char *token) SS_MUST;

struct ss_profile {
	int64_t citizen_id;
	char name[SS_NAME_MAX + 1];
	char id_number[19];
	char phone[SS_PHONE_MAX + 1];
};

/* A resident's particulars, in clear: callers mask them before they leave (mask.h). */
enum ss_err ss_identity_profile(struct ss_app *app, int64_t citizen_id, struct ss_profile *out) SS_MUST;

#endif
