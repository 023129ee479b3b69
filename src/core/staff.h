/*
 * staff: the city's staff and their roles. A member of staff has one role;
 * each endpoint names the roles it admits (a bit set), and the router checks
 * it before the handler runs. Staff tokens are opaque, 64 hex characters,
 * stored only as SM3 hashes. Thread-safe.
 */
#ifndef SS_CORE_STAFF_H
#define SS_CORE_STAFF_H

#include <stdbool.h>
#include <stdint.h>

#include "base/err.h"
#include "core/app.h"

enum ss_role {
	SS_ROLE_ADMIN = 1 << 0,
	SS_ROLE_OPERATOR = 1 << 1, /* hotline 12345 */
	SS_ROLE_HANDLER = 1 << 2,  /* appeals */
	SS_ROLE_EPIDEMIOLOGIST = 1 << 3,
	SS_ROLE_SECURITY = 1 << 4,
};
#define SS_ROLE_ANY (SS_ROLE_ADMIN | SS_ROLE_OPERATOR | SS_ROLE_HANDLER | SS_ROLE_EPIDEMIOLOGIST | SS_ROLE_SECURITY)

/* The role named name ("admin", ...); false if there is none. */
bool ss_role_parse(const char *name, enum ss_role *out);
const char *ss_role_name(enum ss_role role);

#define SS_STAFF_NAME_MAX 64 /* bytes */

struct ss_staff {
	int64_t staff_id;
	enum ss_role role;
	char name[SS_STAFF_NAME_MAX + 1];
};

/*
 * Creates a member of staff; the token is shown once and only its hash kept.
 * The name is checked as every name people read (ss_str_check_name), kept
 * trimmed; SS_INVALID naming name or role.
 */
enum ss_err ss_staff_create(struct ss_app *app, const char *name, const char *role, int64_t *staff_id,
                            char token[65]) SS_MUST;

/* The member of staff a token belongs to; SS_UNAUTHENTICATED if none. */
enum ss_err ss_staff_authenticate(struct ss_app *app, const char *token, struct ss_staff *out) SS_MUST;

#endif
