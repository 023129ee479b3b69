/* staff: roles, creation and token checks (see staff.h). */
#include "core/staff.h"

#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "base/str.h"
#include "base/time.h"

static const struct {
	enum ss_role role;
	const char *name;
} roles[] = {
        {SS_ROLE_ADMIN, "admin"},       {SS_ROLE_OPERATOR, "operator"},
        {SS_ROLE_HANDLER, "handler"},   {SS_ROLE_EPIDEMIOLOGIST, "epidemiologist"},
        {SS_ROLE_SECURITY, "security"},
};

bool ss_role_parse(const char *name, enum ss_role *out)
{
	for (size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++)
		if (!strcmp(name, roles[i].name))
			return *out = roles[i].role, true;
	return false;
}

const char *ss_role_name(enum ss_role role)
{
	for (size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++)
		if (roles[i].role == role)
			return roles[i].name;
	return "unknown";
}

enum ss_err ss_staff_create(struct ss_app *app, const char *name, const char *role, int64_t *staff_id, char token[65])
{
	enum ss_role r;
	char clean[SS_STAFF_NAME_MAX + 1];
	enum ss_err err = ss_str_check_name(name, strlen(name), SS_STAFF_NAME_MAX, "name", clean);
	if (err)
		return err;
	if (!ss_role_parse(role, &r))
		return ss_fail(SS_INVALID, "role", "role must be admin, operator, handler, epidemiologist or security");
	struct ss_staff_row row = {.name = clean, .role = role, .created_at = ss_time_now()};
	err = ss_app_new_token(token, row.token_hash);
	if (!err)
		err = app->store->ops->staff_insert(app->store, &row, staff_id);
	if (!err)
		ss_log_info("staff_created", "staff_id=%lld role=%s", (long long)*staff_id, role);
	return err;
}

enum ss_err ss_staff_authenticate(struct ss_app *app, const char *token, struct ss_staff *out)
{
	uint8_t hash[32];
	struct ss_staff_row row;
	struct ss_arena a;

	if (!ss_app_token_hash(token, hash))
		return ss_fail(SS_UNAUTHENTICATED, NULL, "missing or invalid staff token");
	ss_arena_init(&a);
	enum ss_err err = app->store->ops->staff_by_token(app->store, hash, &a, &row);
	if (err == SS_NOT_FOUND)
		err = ss_fail(SS_UNAUTHENTICATED, NULL, "missing or invalid staff token");
	if (!err && !ss_role_parse(row.role, &out->role))
		err = ss_fail(SS_INTERNAL, NULL, "staff member has an unknown role");
	if (!err) {
		out->staff_id = row.staff_id;
		snprintf(out->name, sizeof(out->name), "%s", row.name);
	}
	ss_arena_release(&a);
	return err;
}
