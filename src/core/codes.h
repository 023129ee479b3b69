/*
 * codes: issuing a resident's code, and what a scan of a code answers.
 *
 * A scan's result is green, yellow or red (a valid code: its holder's colour
 * now), expired (authentic, but past the code TTL), invalid (not authentic:
 * tampered, unknown or retired key, garbage, or issued in the future), or
 * unknown (authentic, but its holder no longer holds a code, or a relative's
 * code whose link has been removed or has ended). For a valid
 * code the answer carries only what the terminal's scene may see (scene.h),
 * masked. Every scan is recorded by the scan writer before it is answered.
 * Reads only memory (holders, key ring): no database row. Thread-safe.
 */
#ifndef SS_CORE_CODES_H
#define SS_CORE_CODES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "core/app.h"
#include "core/mask.h"
#include "core/scanlog.h"
#include "core/terminal.h"
#include "crypto/code.h"

enum ss_scan_result {
	SS_RESULT_GREEN = 0,
	SS_RESULT_YELLOW = 1,
	SS_RESULT_RED = 2,
	SS_RESULT_EXPIRED = 3,
	SS_RESULT_INVALID = 4,
	SS_RESULT_UNKNOWN = 5,
};

#define SS_CODE_FUTURE_SKEW 5   /* seconds a code's issue time may lie ahead of our clock (other nodes' clocks) */
#define SS_CODE_INPUT_MAX   256 /* longest code text we look at */

/* "green", ..., "unknown". */
const char *ss_scan_result_name(int result);

/* A new code for a resident, and when it was issued. */
enum ss_err ss_codes_issue(struct ss_app *app, int64_t citizen_id, char code[SS_CODE_LEN + 1],
                           int64_t *issued_at) SS_MUST;

/*
 * A new code whose holder is person_id, presented by presenter_id (a
 * guardian's person id, core/dependents.h; 0: the holder themself), and when
 * it was issued. The caller has checked that the presenter may present it.
 */
enum ss_err ss_codes_issue_for(struct ss_app *app, int64_t person_id, int64_t presenter_id, char code[SS_CODE_LEN + 1],
                               int64_t *issued_at) SS_MUST;

struct ss_code_check {
	int result;
	int64_t person_id, presenter_id; /* 0 when the code named no one */
	int64_t key_id;
	int64_t issued_at;
	uint64_t fingerprint; /* tells the code from every other (crypto/code.h); 0 for an invalid one */
	int relation;         /* a relative's valid code: how the presenter is related (core/dependents.h); else -1 */
};

/* What a scan of code (n bytes) would answer at unix time now. Needs ss_app_start(). */
void ss_codes_check(struct ss_app *app, const char *code, size_t n, int64_t now, struct ss_code_check *out);

struct ss_scan_answer {
	int64_t scan_id;
	int64_t scanned_at_ms;
	int result;
	bool has_person;
	char name[SS_MASK_MAX]; /* masked or full, as the scene may see */
	bool has_id;
	char id_masked[SS_MASK_MAX];
	/* a relative's code: who presents it (their name always masked) and how they are related */
	bool has_presenter;
	char presenter_name[SS_MASK_MAX];
	const char *relation;
};

/*
 * Scans code at terminal t: fills the answer and queues the scan's record,
 * with t->nonce (the signed request's, kept in the same transaction);
 * done(ctx, err) follows from the scan writer once it is on disk. SS_BUSY if
 * the writer's queue is full (nothing recorded, done not called).
 */
enum ss_err ss_codes_scan(struct ss_app *app, const struct ss_terminal *t, const char *code, size_t n,
                          struct ss_scan_answer *out, ss_scan_done_fn done, void *ctx) SS_MUST;

#endif
