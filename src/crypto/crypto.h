/*
 * crypto: Chinese national cryptography (SM2, SM3, SM4) and a CSPRNG, over
 * OpenSSL 3's EVP. This folder holds the only files that include OpenSSL headers.
 *
 * The hot-path primitives (SM3, HMAC-SM3, SM4-CTR, HMAC-SHA1) keep their
 * OpenSSL contexts per thread and re-key them only when the key differs from
 * the previous call's on that thread, so no call creates an OpenSSL context
 * (OpenSSL 3.0 itself still allocates inside SM3 and HMAC re-initialisation);
 * every function here may be called from any thread. Contexts and the
 * remembered key of a thread are wiped and freed when the thread exits. The
 * fast functions start lazily and abort if ss_crypto_init() would have failed.
 *
 * An OpenSSL failure is logged once with its error queue and becomes
 * SS_INTERNAL. Private-key operations stay inside this folder.
 */
#ifndef SS_CRYPTO_CRYPTO_H
#define SS_CRYPTO_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

#define SS_SM3_LEN        32
#define SS_SM4_KEY_LEN    16
#define SS_SM4_IV_LEN     16
#define SS_SHA1_LEN       20
#define SS_SM2_PRIV_LEN   32
#define SS_SM2_PUB_LEN    65 /* uncompressed point: 04 || x || y */
#define SS_SM2_SIG_MAX    72 /* DER-encoded (r, s) */
#define SS_SM2_DEFAULT_ID "1234567812345678"

/*
 * Checks once that OpenSSL provides SM2, SM3, SM4-CTR and HMAC; returns
 * SS_INTERNAL with a clear message if not. Call before anything else here.
 */
enum ss_err ss_crypto_init(void) SS_MUST;

/* Fills n bytes with output of OpenSSL's CSPRNG; SS_INTERNAL if it cannot. */
enum ss_err ss_random(void *out, size_t n) SS_MUST;

/* SM3 (GB/T 32905) of n bytes. */
void ss_sm3(const void *data, size_t n, uint8_t out[SS_SM3_LEN]);

/* HMAC-SM3 (RFC 2104 over SM3) of n bytes under key. */
void ss_hmac_sm3(const uint8_t *key, size_t keylen, const void *data, size_t n, uint8_t out[SS_SM3_LEN]);

/* HMAC-SM3 over the concatenation of parts (count of them), without copying. */
struct ss_iov {
	const void *p;
	size_t n;
};
void ss_hmac_sm3_v(const uint8_t *key, size_t keylen, const struct ss_iov *parts, size_t count,
                   uint8_t out[SS_SM3_LEN]);

/* HMAC-SHA1 (for RFC 6238 TOTP only). */
void ss_hmac_sha1(const uint8_t *key, size_t keylen, const void *data, size_t n, uint8_t out[SS_SHA1_LEN]);

/*
 * SM4 (GB/T 32907) in CTR mode with a 128-bit big-endian counter block iv:
 * out = in XOR keystream. The same call encrypts and decrypts; in and out may
 * be the same buffer.
 */
void ss_sm4_ctr(const uint8_t key[SS_SM4_KEY_LEN], const uint8_t iv[SS_SM4_IV_LEN], const void *in, size_t n,
                void *out);

/* An SM2 key pair (GB/T 32918), or a public key alone. Opaque. */
struct ss_sm2_key;

/* Makes a new key pair. */
enum ss_err ss_sm2_generate(struct ss_sm2_key **out) SS_MUST;

/* A key pair from its 32-byte private scalar; SS_INVALID if it is out of range. */
enum ss_err ss_sm2_from_private(const uint8_t priv[SS_SM2_PRIV_LEN], struct ss_sm2_key **out) SS_MUST;

/* A public key from its 65-byte uncompressed point; SS_INVALID if it is not on the curve. */
enum ss_err ss_sm2_from_public(const uint8_t pub[SS_SM2_PUB_LEN], struct ss_sm2_key **out) SS_MUST;

/* The private scalar; SS_INVALID for a public-only key. The caller wipes it. */
enum ss_err ss_sm2_private_bytes(const struct ss_sm2_key *key, uint8_t out[SS_SM2_PRIV_LEN]) SS_MUST;

/* The public point, uncompressed. */
enum ss_err ss_sm2_public_bytes(const struct ss_sm2_key *key, uint8_t out[SS_SM2_PUB_LEN]) SS_MUST;

/*
 * An SM2 user id longer than 8191 bytes (the standard's 16-bit bit length)
 * gives SS_INVALID in sign and verify.
 *
 * Signs n bytes of msg with SM3 and the user id (NULL: SS_SM2_DEFAULT_ID), writing
 * the DER signature to sig (at least SS_SM2_SIG_MAX bytes) and its length to siglen.
 */
enum ss_err ss_sm2_sign(const struct ss_sm2_key *key, const char *id, const void *msg, size_t n, uint8_t *sig,
                        size_t *siglen) SS_MUST;

/* SS_OK if sig is a valid signature of msg under key and id (NULL: default id); SS_INVALID otherwise. */
enum ss_err ss_sm2_verify(const struct ss_sm2_key *key, const char *id, const void *msg, size_t n, const uint8_t *sig,
                          size_t siglen) SS_MUST;

/* NULL is a no-op. Private material is wiped. */
void ss_sm2_free(struct ss_sm2_key *key);

#endif
