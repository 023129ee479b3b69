/*
 * keyring: the keys suishen works with, by id and purpose, and what is done
 * with them: sealing personal data at rest, blind indexes to find it, and
 * wrapping keys under the master key so they can be stored.
 *
 * A key is 32 secret bytes; from it are derived an SM4 key (encryption) and
 * an HMAC-SM3 key (authentication). Purposes:
 *   code  - the keys of residents' codes (issue, verify); rotated often;
 *   data  - sealing personal data at rest; rotated; old ones keep opening;
 *   index - the blind index of ID numbers; one for the life of the data.
 * Each purpose has at most one current key (used for new work); active keys
 * still open and verify; a retiring data key still opens, but no new blob may
 * name it (a re-seal is moving what it sealed to the current key: the store
 * refuses such a blob, core/reseal.h); retired keys are not loaded.
 *
 * A sealed blob is: version (1 byte, 1) | key id (4 bytes, big-endian) |
 * IV (16) | SM4-CTR ciphertext | HMAC-SM3 tag (first 16 bytes) over all before
 * it and an associated-data string naming what the blob is for, so a blob
 * moved to another column does not open (encrypt-then-MAC).
 *
 * Threads: all functions may be called from any thread; adding keys takes a
 * write lock, everything else a read lock. Secrets are wiped when freed.
 */
#ifndef SS_CRYPTO_KEYRING_H
#define SS_CRYPTO_KEYRING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

#define SS_KEY_LEN         32
#define SS_MASTER_KEY_LEN  32
#define SS_SEAL_OVERHEAD   (1 + 4 + 16 + 16)
#define SS_KEY_WRAPPED_LEN (SS_KEY_LEN + SS_SEAL_OVERHEAD)
#define SS_BLIND_LEN       32

enum ss_key_purpose { SS_KEY_CODE, SS_KEY_DATA, SS_KEY_INDEX, SS_KEY_PURPOSES };
enum ss_key_state { SS_KEY_CURRENT, SS_KEY_ACTIVE, SS_KEY_RETIRING, SS_KEY_RETIRED };

/* "code", "data", "index" / "current", "active", "retiring", "retired", and back (false if unknown). */
const char *ss_key_purpose_name(enum ss_key_purpose p);
const char *ss_key_state_name(enum ss_key_state s);
bool ss_key_purpose_parse(const char *name, enum ss_key_purpose *out);
bool ss_key_state_parse(const char *name, enum ss_key_state *out);

struct ss_keyring;

/* A key ring that wraps under master (copied; wiped at free). */
struct ss_keyring *ss_keyring_new(const uint8_t master[SS_MASTER_KEY_LEN]);
void ss_keyring_free(struct ss_keyring *kr);

/* A value that identifies the master key without revealing it, stored at init to catch a wrong master key. */
void ss_keyring_master_check(const struct ss_keyring *kr, uint8_t out[32]);

/* Makes master (copied) the key that wraps and unwraps keys from now on; ss_keyring_master_check follows it. */
void ss_keyring_set_master(struct ss_keyring *kr, const uint8_t master[SS_MASTER_KEY_LEN]);

/* Wraps a key's secret for storage (out: SS_KEY_WRAPPED_LEN bytes). */
void ss_keyring_wrap(const struct ss_keyring *kr, enum ss_key_purpose purpose, const uint8_t secret[SS_KEY_LEN],
                     uint8_t out[SS_KEY_WRAPPED_LEN]);

/* Unwraps a stored key; SS_INVALID if it was not wrapped under this master key for this purpose. */
enum ss_err ss_keyring_unwrap(const struct ss_keyring *kr, enum ss_key_purpose purpose, const uint8_t *wrapped,
                              size_t n, uint8_t secret[SS_KEY_LEN]) SS_MUST;

/*
 * Adds a key (its secret is copied); a CURRENT key demotes the previous current
 * key of its purpose to ACTIVE. Re-adding the current key as ACTIVE leaves it
 * current until a new current key is added, so a purpose never has none.
 */
void ss_keyring_add(struct ss_keyring *kr, uint32_t key_id, enum ss_key_purpose purpose,
                    const uint8_t secret[SS_KEY_LEN], enum ss_key_state state);

/* Forgets a key (retired): what was sealed or made with it no longer opens. */
void ss_keyring_remove(struct ss_keyring *kr, uint32_t key_id);

/* True if the ring holds key_id (of any purpose). */
bool ss_keyring_contains(const struct ss_keyring *kr, uint32_t key_id);

/* True if purpose has a current key. */
bool ss_keyring_has(const struct ss_keyring *kr, enum ss_key_purpose purpose);

/* The id of the current key of purpose (0 if none). */
uint32_t ss_keyring_current_id(const struct ss_keyring *kr, enum ss_key_purpose purpose);

/*
 * Seals n bytes under the current data key, for the use named by ad
 * ("citizen", "person", ...). out must hold n + SS_SEAL_OVERHEAD bytes.
 * SS_INTERNAL if there is no current data key.
 */
enum ss_err ss_keyring_seal(const struct ss_keyring *kr, const char *ad, const void *plain, size_t n,
                            uint8_t *out) SS_MUST;

/*
 * Opens a sealed blob made for ad; out must hold n - SS_SEAL_OVERHEAD bytes.
 * SS_INVALID if the blob was altered, made for another use, or made with a key
 * not in the ring.
 */
enum ss_err ss_keyring_open(const struct ss_keyring *kr, const char *ad, const uint8_t *blob, size_t n, uint8_t *out,
                            size_t *outlen) SS_MUST;

/*
 * Re-seals a blob made for ad under the current data key: out (n bytes, the
 * same size; it may be blob itself) opens to what blob opened to. SS_INVALID
 * if blob does not open (as ss_keyring_open), SS_INTERNAL if there is no
 * current data key. The clear text never leaves the function.
 */
enum ss_err ss_keyring_reseal(const struct ss_keyring *kr, const char *ad, const uint8_t *blob, size_t n,
                              uint8_t *out) SS_MUST;

/* The id of the key a sealed blob was made with (0 if the blob is too short). */
uint32_t ss_keyring_sealed_key_id(const uint8_t *blob, size_t n);

/* Blind index of n bytes in a domain ("id_number"): HMAC-SM3 under the index key. */
void ss_keyring_blind(const struct ss_keyring *kr, const char *domain, const void *data, size_t n,
                      uint8_t out[SS_BLIND_LEN]);

/*
 * The derived SM4 and MAC keys of key_id if it has the given purpose (for the
 * code format, which has its own layout); false if there is no such key.
 */
bool ss_keyring_get(const struct ss_keyring *kr, uint32_t key_id, enum ss_key_purpose purpose, uint8_t enc[16],
                    uint8_t mac[32]);

#endif
