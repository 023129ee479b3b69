/*
 * terminal: the terminals of organisations that scan codes, and how their
 * requests are authenticated.
 *
 * Staff create a terminal at a place of an organisation for one scene; its
 * secret (32 random bytes, shown once as 64 hex characters) is stored sealed.
 * Every terminal request is signed (sign.h); ss_terminal_authenticate()
 * checks the terminal, the timestamp window, the signature and that the nonce
 * is new. Terminals are cached in memory (their keys unsealed) after their
 * first request, so the scan path reads no row for them. Thread-safe.
 */
#ifndef SS_CORE_TERMINAL_H
#define SS_CORE_TERMINAL_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "core/app.h"
#include "core/scene.h"
#include "core/sign.h"

#define SS_ORG_MAX   128
#define SS_PLACE_MAX 128

struct ss_terminal {
	int64_t terminal_id;
	int64_t place_id;
	const struct ss_scene *scene;
	uint8_t key[32];
	struct ss_nonce_row nonce; /* of the request ss_terminal_authenticate() accepted: kept with its scan */
};

struct ss_terminals *ss_terminals_new(void);
void ss_terminals_free(struct ss_terminals *t);

/*
 * Creates a terminal at place of org (both made if new; division, a GB/T 2260
 * code or NULL, is the place's district) for scene. org and place are
 * checked as every name people read (ss_str_check_name) and kept trimmed.
 * The secret is written as 64 lowercase hex characters and is not kept in
 * clear.
 */
enum ss_err ss_terminal_create(struct ss_app *app, const char *org_name, const char *place_name, const char *scene,
                               const char *division, int64_t staff_id, int64_t *terminal_id, char secret[65]) SS_MUST;

/* Authenticates a signed request (SS_UNAUTHENTICATED with the reason); on success the terminal. */
enum ss_err ss_terminal_authenticate(struct ss_app *app, const struct ss_signed_request *req,
                                     struct ss_terminal *out) SS_MUST;

#endif
