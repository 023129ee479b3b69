/*
 * crypto_bench: what one health code costs to seal (SM4-CTR over 32 bytes,
 * then HMAC-SM3 over the 48 bytes of iv and ciphertext), with the per-thread
 * contexts of src/crypto/ against fresh OpenSSL contexts per call, and SM2
 * signatures per second, and what issuing and opening a resident's code costs
 * (src/crypto/code.c: the sealing above plus base32 and the key ring). Prints
 * `name value` lines; lower _us is better.
 *
 *   crypto_bench [iterations]     (default 200000 for the code, 1/100 of that for SM2)
 *
 * The fresh variants are written here against OpenSSL directly, on purpose:
 * they are the code the crypto module exists to avoid, kept only to measure
 * the difference. Nothing else outside src/crypto/ includes OpenSSL headers.
 */
#include "crypto/crypto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>

#include "base/time.h"
#include "crypto/code.h"
#include "crypto/keyring.h"

#define PLAIN_LEN  32
#define SEALED_LEN (SS_SM4_IV_LEN + PLAIN_LEN)

static const uint8_t enc_key[SS_SM4_KEY_LEN] = {0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
                                                0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10};
static uint8_t mac_key[32];

static EVP_CIPHER *sm4_ctr;
static EVP_MAC *hmac;

/* out = iv || SM4-CTR(plain); mac = HMAC-SM3(out), through src/crypto/. */
static void code_kept(const uint8_t *plain, const uint8_t iv[SS_SM4_IV_LEN], uint8_t out[SEALED_LEN],
                      uint8_t mac[SS_SM3_LEN])
{
	memcpy(out, iv, SS_SM4_IV_LEN);
	ss_sm4_ctr(enc_key, iv, plain, PLAIN_LEN, out + SS_SM4_IV_LEN);
	ss_hmac_sm3(mac_key, sizeof(mac_key), out, SEALED_LEN, mac);
}

static void die(const char *what)
{
	fprintf(stderr, "crypto_bench: %s failed\n", what);
	exit(1);
}

/* The same with contexts made and freed on each call (algorithms fetched once). */
static void code_fresh(const uint8_t *plain, const uint8_t iv[SS_SM4_IV_LEN], uint8_t out[SEALED_LEN],
                       uint8_t mac[SS_SM3_LEN])
{
	OSSL_PARAM params[] = {
	        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, "SM3", 0),
	        OSSL_PARAM_construct_end(),
	};
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	EVP_MAC_CTX *m = EVP_MAC_CTX_new(hmac);
	size_t maclen = 0;
	int len = 0;

	memcpy(out, iv, SS_SM4_IV_LEN);
	if (!c || !m || !EVP_EncryptInit_ex2(c, sm4_ctr, enc_key, iv, NULL) ||
	    !EVP_EncryptUpdate(c, out + SS_SM4_IV_LEN, &len, plain, PLAIN_LEN) ||
	    !EVP_MAC_init(m, mac_key, sizeof(mac_key), params) || !EVP_MAC_update(m, out, SEALED_LEN) ||
	    !EVP_MAC_final(m, mac, &maclen, SS_SM3_LEN))
		die("code_fresh");
	EVP_CIPHER_CTX_free(c);
	EVP_MAC_CTX_free(m);
}

/* The same as most example code writes it: implicit fetches and one-shot helpers on each call. */
static void code_naive(const uint8_t *plain, const uint8_t iv[SS_SM4_IV_LEN], uint8_t out[SEALED_LEN],
                       uint8_t mac[SS_SM3_LEN])
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	size_t maclen = 0;
	int len = 0;

	memcpy(out, iv, SS_SM4_IV_LEN);
	if (!c || !EVP_EncryptInit_ex(c, EVP_sm4_ctr(), NULL, enc_key, iv) ||
	    !EVP_EncryptUpdate(c, out + SS_SM4_IV_LEN, &len, plain, PLAIN_LEN) ||
	    !EVP_Q_mac(NULL, "HMAC", NULL, "SM3", NULL, mac_key, sizeof(mac_key), out, SEALED_LEN, mac, SS_SM3_LEN,
	               &maclen))
		die("code_naive");
	EVP_CIPHER_CTX_free(c);
}

typedef void code_fn(const uint8_t *, const uint8_t *, uint8_t *, uint8_t *);

/* Microseconds per call of fn, the best of three runs of n calls. */
static double time_code(code_fn *fn, long n)
{
	uint8_t plain[PLAIN_LEN] = "3201020000000001 green 20261126", iv[SS_SM4_IV_LEN] = {0};
	uint8_t out[SEALED_LEN], mac[SS_SM3_LEN];
	double best = 1e30;

	for (int run = 0; run < 3; run++) {
		int64_t t0 = ss_time_mono_us();
		for (long i = 0; i < n; i++) {
			iv[15] = (uint8_t)i; /* a new iv per code, as in use */
			fn(plain, iv, out, mac);
			plain[0] ^= mac[0]; /* keep the work observable */
		}
		double us = (double)(ss_time_mono_us() - t0) / (double)n;
		if (us < best)
			best = us;
	}
	return best;
}

/* Microseconds per call of one hot-path primitive alone. */
static double time_primitive(int which, long n)
{
	uint8_t buf[64] = {0}, out[SS_SM3_LEN], iv[SS_SM4_IV_LEN] = {0};
	double best = 1e30;

	for (int run = 0; run < 3; run++) {
		int64_t t0 = ss_time_mono_us();
		for (long i = 0; i < n; i++) {
			buf[0] = (uint8_t)i;
			if (which == 0)
				ss_sm3(buf, 48, out);
			else if (which == 1)
				ss_hmac_sm3(mac_key, sizeof(mac_key), buf, 48, out);
			else
				ss_sm4_ctr(enc_key, iv, buf, 32, buf);
		}
		double us = (double)(ss_time_mono_us() - t0) / (double)n;
		if (us < best)
			best = us;
	}
	return best;
}

/* Microseconds per ss_code_issue() and per ss_code_open(), each the best of three runs of n calls. */
static void time_code_format(long n, double *issue_us, double *open_us)
{
	enum { CODES = 1024 };
	static char codes[CODES][SS_CODE_LEN + 1];
	static const uint8_t master[32] = {1}, secret[32] = {2};
	struct ss_keyring *kr = ss_keyring_new(master);
	struct ss_code_claims claims;
	uint32_t sum = 0;

	ss_keyring_add(kr, 1, SS_KEY_CODE, secret, SS_KEY_CURRENT);
	*issue_us = *open_us = 1e30;
	for (int run = 0; run < 3; run++) {
		int64_t t0 = ss_time_mono_us();
		for (long i = 0; i < n; i++)
			if (ss_code_issue(kr, (uint32_t)i, 0, 1795680000, codes[i % CODES]) != SS_OK)
				die("code issue");
		double us = (double)(ss_time_mono_us() - t0) / (double)n;
		if (us < *issue_us)
			*issue_us = us;
	}
	for (int run = 0; run < 3; run++) {
		int64_t t0 = ss_time_mono_us();
		for (long i = 0; i < n; i++) {
			if (ss_code_open(kr, codes[i % CODES], SS_CODE_LEN, &claims) != SS_OK)
				die("code open");
			sum += claims.person_id;
		}
		double us = (double)(ss_time_mono_us() - t0) / (double)n;
		if (us < *open_us)
			*open_us = us;
	}
	if (sum == 1) /* keep the work observable */
		printf("# %u\n", (unsigned)sum);
	ss_keyring_free(kr);
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? strtol(argv[1], NULL, 10) : 200000;
	long nsig = n / 100 > 0 ? n / 100 : 1;

	if (n <= 0 || ss_crypto_init() != SS_OK || ss_random(mac_key, sizeof(mac_key)) != SS_OK)
		die("setup");
	if (!(sm4_ctr = EVP_CIPHER_fetch(NULL, "SM4-CTR", NULL)) || !(hmac = EVP_MAC_fetch(NULL, "HMAC", NULL)))
		die("fetch");

	/* The three ways must agree before their times mean anything. */
	uint8_t plain[PLAIN_LEN] = "check", iv[SS_SM4_IV_LEN] = {7}, o1[SEALED_LEN], o2[SEALED_LEN], o3[SEALED_LEN];
	uint8_t m1[SS_SM3_LEN], m2[SS_SM3_LEN], m3[SS_SM3_LEN];
	code_kept(plain, iv, o1, m1);
	code_fresh(plain, iv, o2, m2);
	code_naive(plain, iv, o3, m3);
	if (memcmp(o1, o2, sizeof(o1)) || memcmp(o1, o3, sizeof(o1)) || memcmp(m1, m2, sizeof(m1)) ||
	    memcmp(m1, m3, sizeof(m1)))
		die("agreement check");

	printf("iterations %ld\n", n);
	printf("sm3_48_us %.3f\n", time_primitive(0, n));
	printf("hmac_sm3_48_us %.3f\n", time_primitive(1, n));
	printf("sm4_ctr_32_us %.3f\n", time_primitive(2, n));
	double kept = time_code(code_kept, n), fresh = time_code(code_fresh, n), naive = time_code(code_naive, n);
	printf("code_kept_us %.3f\n", kept);
	printf("code_fresh_us %.3f\n", fresh);
	printf("code_naive_us %.3f\n", naive);
	printf("code_fresh_over_kept %.2f\n", fresh / kept);
	double issue_us, open_us;
	time_code_format(n, &issue_us, &open_us);
	printf("code_issue_us %.3f\n", issue_us);
	printf("code_open_us %.3f\n", open_us);

	struct ss_sm2_key *key = NULL;
	uint8_t sig[SS_SM2_SIG_MAX];
	size_t siglen = 0;
	static const char msg[] = "code:3201020000000001:green:2026-11-26T08:00:00Z";
	if (ss_sm2_generate(&key) != SS_OK)
		die("sm2 generate");
	int64_t t0 = ss_time_mono_us();
	for (long i = 0; i < nsig; i++)
		if (ss_sm2_sign(key, NULL, msg, sizeof(msg) - 1, sig, &siglen) != SS_OK)
			die("sm2 sign");
	double sign_us = (double)(ss_time_mono_us() - t0) / (double)nsig;
	t0 = ss_time_mono_us();
	for (long i = 0; i < nsig; i++)
		if (ss_sm2_verify(key, NULL, msg, sizeof(msg) - 1, sig, siglen) != SS_OK)
			die("sm2 verify");
	double verify_us = (double)(ss_time_mono_us() - t0) / (double)nsig;
	printf("sm2_sign_us %.1f\n", sign_us);
	printf("sm2_sign_per_s %.0f\n", 1e6 / sign_us);
	printf("sm2_verify_us %.1f\n", verify_us);
	printf("sm2_verify_per_s %.0f\n", 1e6 / verify_us);

	ss_sm2_free(key);
	EVP_CIPHER_free(sm4_ctr);
	EVP_MAC_free(hmac);
	return 0;
}
