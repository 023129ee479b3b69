/* password: argon2id PHC strings over libargon2 (see password.h). */
#include "crypto/password.h"

#include <stdint.h>
#include <string.h>

#include <argon2.h>

#include "base/log.h"
#include "base/lowprio.h"
#include "base/mem.h"
#include "crypto/crypto.h"

/* OWASP's first argon2id choice: 19 MiB, two passes, one lane. */
#define T_COST   2
#define M_COST   19456
#define LANES    1
#define SALT_LEN 16
#define HASH_LEN 32

/*
 * The most a stored hash may ask of verify. A hash carries its own costs, so
 * a tampered or corrupt row could otherwise make one login allocate terabytes
 * or run for hours; these leave room to raise the costs above 16 times.
 */
#define M_COST_MAX (1u << 20) /* KiB: 1 GiB */
#define T_COST_MAX 64
#define LANES_MAX  16

/* One argon2id computation, run on a low-priority thread (base/lowprio.h): anyone can ask for one at will. */
struct argon2_call {
	const char *password;
	size_t n;
	const uint8_t *salt;
	char *out;
	const char *hash;
	int rc;
};

static void hash_call(void *ctx)
{
	struct argon2_call *c = ctx;
	c->rc = argon2id_hash_encoded(T_COST, M_COST, LANES, c->password, c->n, c->salt, SALT_LEN, HASH_LEN, c->out,
	                              SS_PASSWORD_HASH_MAX);
}

static void verify_call(void *ctx)
{
	struct argon2_call *c = ctx;
	c->rc = argon2id_verify(c->hash, c->password, c->n);
}

enum ss_err ss_password_hash(const char *password, size_t n, char out[SS_PASSWORD_HASH_MAX])
{
	uint8_t salt[SALT_LEN];
	enum ss_err err;
	int rc;

	if (n > ARGON2_MAX_PWD_LENGTH)
		return ss_fail(SS_TOO_BIG, "password", "password too long");
	if ((err = ss_random(salt, sizeof(salt))) != SS_OK)
		return err;
	struct argon2_call call = {.password = n ? password : "", .n = n, .salt = salt, .out = out};
	ss_lowprio_run(hash_call, &call);
	rc = call.rc;
	ss_wipe(salt, sizeof(salt));
	if (rc != ARGON2_OK) {
		ss_log_error("crypto_failure", "op=argon2id_hash error=\"%s\"", argon2_error_message(rc));
		return SS_INTERNAL;
	}
	return SS_OK;
}

/* Reads a decimal of at most 10 digits at *s into v; false if there is none or it passes max. */
static bool read_num(const char **s, uint32_t max, uint32_t *v)
{
	uint64_t x = 0;
	const char *p = *s;

	if (*p < '0' || *p > '9' || (*p == '0' && p[1] >= '0' && p[1] <= '9'))
		return false;
	for (int i = 0; *p >= '0' && *p <= '9'; p++, i++) {
		if (i == 10)
			return false;
		x = x * 10 + (uint64_t)(*p - '0');
	}
	if (x > max)
		return false;
	*v = (uint32_t)x;
	*s = p;
	return true;
}

static bool skip(const char **s, const char *lit)
{
	size_t n = strlen(lit);

	if (strncmp(*s, lit, n) != 0)
		return false;
	*s += n;
	return true;
}

/* True if hash is an argon2id v19 PHC string whose costs are within the limits above. */
static bool costs_are_sane(const char *hash)
{
	const char *s = hash;
	uint32_t m, t, p;

	return skip(&s, "$argon2id$v=19$m=") && read_num(&s, M_COST_MAX, &m) && skip(&s, ",t=") &&
	       read_num(&s, T_COST_MAX, &t) && skip(&s, ",p=") && read_num(&s, LANES_MAX, &p) && *s == '$';
}

bool ss_password_verify(const char *hash, const char *password, size_t n)
{
	if (!hash || (!password && n > 0) || n > ARGON2_MAX_PWD_LENGTH)
		return false;
	if (strnlen(hash, SS_PASSWORD_HASH_MAX) == SS_PASSWORD_HASH_MAX || !costs_are_sane(hash))
		return false;
	struct argon2_call call = {.password = n ? password : "", .n = n, .hash = hash};
	ss_lowprio_run(verify_call, &call);
	return call.rc == ARGON2_OK;
}
