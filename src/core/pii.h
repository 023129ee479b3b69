/*
 * pii: personal data at rest. Records of personal fields (name, ID number,
 * phone, ...) are sealed as one blob under the key ring's current data key,
 * and found again by the blind index of the ID number; neither the store nor
 * a log line ever holds them in clear. Thread-safe.
 */
#ifndef SS_CORE_PII_H
#define SS_CORE_PII_H

#include <stddef.h>
#include <stdint.h>

#include "base/arena.h"
#include "base/err.h"
#include "core/app.h"
#include "core/population.h"

#define SS_PII_MAX_FIELDS 8

/* What sealed blobs are for (their associated data): a blob opens only for its own use. */
#define SS_PII_CITIZEN "citizen"      /* a resident: name, ID number, phone */
#define SS_PII_TOTP    "citizen-totp" /* a resident's TOTP secret, in hex */
#define SS_PII_PERSON  "person"       /* a registry entry: ID number, name, sex, birth date, division, phone */
/* The longest particulars of a resident, as sealed: name, ID number and phone with their NULs. */
#define SS_PII_CITIZEN_MAX (SS_NAME_MAX + 1 + SS_IDCARD_LEN + 1 + SS_PHONE_MAX + 1)

/* The blind index of a (normalised) ID number. */
void ss_pii_index(const struct ss_app *app, const char *id_number, uint8_t idx[SS_INDEX_LEN]);

/* Seals n text fields (none may contain a NUL) for the use ad; the blob is allocated from a. */
enum ss_err ss_pii_seal(const struct ss_app *app, const char *ad, const char *const *fields, size_t n,
                        struct ss_arena *a, struct ss_blob *out) SS_MUST;

/*
 * Opens a blob made by ss_pii_seal for ad into exactly n fields (arena
 * strings). SS_INTERNAL if it does not open: that is data loss or tampering,
 * and is logged.
 */
enum ss_err ss_pii_open(const struct ss_app *app, const char *ad, struct ss_blob blob, struct ss_arena *a,
                        const char **fields, size_t n) SS_MUST;

/*
 * The same into the caller's buffer buf of cap bytes (at least blob.n -
 * SS_SEAL_OVERHEAD + 1), without allocating: for the scan path. The caller
 * wipes buf.
 */
enum ss_err ss_pii_open_into(const struct ss_app *app, const char *ad, struct ss_blob blob, char *buf, size_t cap,
                             const char **fields, size_t n) SS_MUST;

#endif
