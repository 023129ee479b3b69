/*
 * code: the residents' dynamic codes, the text inside the QR that a terminal
 * scans.
 *
 * A code is made in the cloud for one holder at one moment and reveals nothing
 * without the key: the holder's internal person id, the time it was issued
 * and who presents it (0: the holder themself; else the person id of a
 * guardian presenting a relative's code) are encrypted with SM4-CTR under a
 * random 80-bit nonce, then authenticated with HMAC-SM3 (encrypt-then-MAC,
 * tag truncated to 80 bits). The key id travels in clear so any node can pick
 * the key; a retired key is not in the ring, so its codes do not open.
 *
 * Text: a version character ('1'), then RFC 4648 base32 (A-Z, 2-7, no
 * padding) of key id (2 bytes) | nonce (10) | ciphertext (12) | tag (10):
 * 1 + 55 = 56 characters, all in the QR alphanumeric set, so the QR is
 * version 3 at level M. Other versions (signed offline codes) may come later
 * under other version characters.
 *
 * A code's fingerprint tells it from every other code without revealing
 * it: 64 more bits of the HMAC-SM3 whose first 80 the code carries as its
 * tag (bits 80..143, lowest bit set so that 0 means "none"). Without the
 * code key it cannot be computed from a code's text, so a stored fingerprint
 * does not let whoever holds a photo of a code find its scans; the code
 * cannot be rebuilt from it (that needs the 80-bit nonce); and the
 * fingerprints of one holder's codes are unrelated to each other, so they
 * link nothing that the holder's id beside them does not.
 *
 * Thread-safe; no allocation. Expiry is the caller's business (the claims
 * carry issued_at).
 */
#ifndef SS_CRYPTO_CODE_H
#define SS_CRYPTO_CODE_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "crypto/keyring.h"

#define SS_CODE_LEN     56
#define SS_CODE_VERSION '1'

struct ss_code_claims {
	uint32_t key_id;
	uint32_t person_id;
	uint32_t presenter_id; /* 0: presented by the holder */
	int64_t issued_at;     /* unix seconds */
	uint64_t fingerprint;  /* tells this code from every other (never 0); see above */
};

/*
 * Makes a code under the current code key of kr into out (SS_CODE_LEN
 * characters and a NUL). SS_INTERNAL if there is no code key, its id does not
 * fit the code's 16 bits, or there is no randomness; SS_INVALID if issued_at
 * is outside 0..UINT32_MAX (the code carries 32 bits of it).
 */
enum ss_err ss_code_issue(const struct ss_keyring *kr, uint32_t person_id, uint32_t presenter_id, int64_t issued_at,
                          char out[SS_CODE_LEN + 1]) SS_MUST;

/*
 * Opens a code of n characters. SS_OK with the claims if it is authentic;
 * SS_INVALID for anything else (wrong length or version, characters outside
 * the alphabet, a key not in the ring, any altered character). Leading and
 * trailing white space is not accepted: the caller trims. Runs in about the
 * same time whatever is wrong with the code.
 */
enum ss_err ss_code_open(const struct ss_keyring *kr, const char *code, size_t n, struct ss_code_claims *out) SS_MUST;

#endif
