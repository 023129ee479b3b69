/*
 * err: the one error type of suishen.
 *
 * Every fallible function returns an enum ss_err. The table below is the only
 * place that ties an error to its HTTP status and its stable machine-readable
 * code, so an error becomes an API response in exactly one place (the router).
 *
 * A function that fails because of its input records a human message and,
 * where one applies, the name of the offending field with ss_fail(). The detail
 * is kept per thread and read back by whoever renders the error; it is replaced
 * by the next ss_fail() on the same thread. Safe to call from any thread.
 */
#ifndef SS_BASE_ERR_H
#define SS_BASE_ERR_H

#include <stdbool.h>

#define SS_ERR_MAP(X)                              \
	X(OK, 200, "ok")                           \
	X(INVALID, 400, "invalid_argument")        \
	X(UNAUTHENTICATED, 401, "unauthenticated") \
	X(DENIED, 403, "permission_denied")        \
	X(NOT_FOUND, 404, "not_found")             \
	X(METHOD, 405, "method_not_allowed")       \
	X(TIMEOUT, 408, "timeout")                 \
	X(CONFLICT, 409, "conflict")               \
	X(TOO_BIG, 413, "too_large")               \
	X(URI_TOO_LONG, 414, "too_large")          \
	X(MISMATCH, 422, "real_name_mismatch")     \
	X(RATE_LIMITED, 429, "rate_limited")       \
	X(HEADERS_TOO_BIG, 431, "too_large")       \
	X(INTERNAL, 500, "internal")               \
	X(NOT_IMPLEMENTED, 501, "not_implemented") \
	X(BUSY, 503, "unavailable")                \
	X(VERSION, 505, "unsupported_version")

enum ss_err {
#define SS_ERR_ENUM(name, status, code) SS_##name,
	SS_ERR_MAP(SS_ERR_ENUM)
#undef SS_ERR_ENUM
};

#define SS_MUST __attribute__((warn_unused_result))

/* The HTTP status that stands for err. */
int ss_err_status(enum ss_err err);

/* The stable code of err ("invalid_argument", ...). Never NULL. */
const char *ss_err_code(enum ss_err err);

/*
 * Records a message (printf-style) and an optional field name for this thread
 * and returns err unchanged, so callers write `return ss_fail(SS_INVALID,
 * "id_number", "bad check digit");`. Messages are lowercase, no full stop, and
 * never contain personal data.
 */
enum ss_err ss_fail(enum ss_err err, const char *field, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* The message of this thread's last ss_fail(), or "" if none since ss_err_clear(). */
const char *ss_err_message(void);

/* The field of this thread's last ss_fail(), or NULL if it named none. */
const char *ss_err_field(void);

/* Forgets this thread's detail. */
void ss_err_clear(void);

#endif
