/*
 * Unit tests of src/crypto/: the known answers in test/vectors/ (run from the
 * project root), SM2 round trips and refusals, SM4-CTR lengths and counter
 * carries, concurrent use of the per-thread contexts, argon2id and TOTP.
 */
#include "crypto/crypto.h"
#include "crypto/password.h"
#include "crypto/totp.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "base/str.h"
#include "check.h"

#define HEX_MAX 256 /* bytes; the longest value in test/vectors/ is 128 */

/* One block of a vector file: `name = value` lines, comments dropped. */
struct field {
	const char *name;
	const char *value;
};
struct vec {
	int nfields;
	struct field f[16];
};
struct vecs {
	char *text; /* the file, cut in place into names and values */
	int n;
	struct vec v[32];
};

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	char *e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

/* Reads path into vs; false (and a TAP comment) if it cannot be read or parsed. */
static bool vecs_load(const char *path, struct vecs *vs)
{
	FILE *f = fopen(path, "rb");
	long size;

	memset(vs, 0, sizeof(*vs));
	if (!f) {
		printf("# cannot open %s: %s (run from the project root)\n", path, strerror(errno));
		return false;
	}
	if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
		fclose(f);
		return false;
	}
	vs->text = malloc((size_t)size + 1);
	if (!vs->text || fread(vs->text, 1, (size_t)size, f) != (size_t)size) {
		fclose(f);
		return false;
	}
	fclose(f);
	vs->text[size] = '\0';

	struct vec *cur = NULL;
	char *save = NULL;
	/* strtok_r would merge blank lines, so split by hand. */
	for (char *line = vs->text; line; line = save) {
		char *nl = strchr(line, '\n');
		save = nl ? nl + 1 : NULL;
		if (nl)
			*nl = '\0';
		char *s = trim(line);
		if (*s == '\0') {
			cur = NULL;
			continue;
		}
		if (*s == '#')
			continue;
		char *eq = strchr(s, '=');
		if (!eq) {
			printf("# %s: line without '=': %s\n", path, s);
			return false;
		}
		*eq = '\0';
		if (!cur) {
			if (vs->n == (int)(sizeof(vs->v) / sizeof(vs->v[0])))
				return false;
			cur = &vs->v[vs->n++];
		}
		if (cur->nfields == (int)(sizeof(cur->f) / sizeof(cur->f[0])))
			return false;
		cur->f[cur->nfields].name = trim(s);
		cur->f[cur->nfields].value = trim(eq + 1);
		cur->nfields++;
	}
	return true;
}

static void vecs_free(struct vecs *vs)
{
	free(vs->text);
	vs->text = NULL;
}

static const char *get(const struct vec *v, const char *name)
{
	for (int i = 0; i < v->nfields; i++)
		if (!strcmp(v->f[i].name, name))
			return v->f[i].value;
	printf("# vector lacks '%s'\n", name);
	return "";
}

/* Decodes the hex field name of v into out; returns its length, or SIZE_MAX if it is not hex. */
static size_t hex(const struct vec *v, const char *name, uint8_t out[HEX_MAX])
{
	const char *s = get(v, name);
	size_t n = strlen(s);

	if (n % 2 || n / 2 > HEX_MAX)
		return SIZE_MAX;
	return ss_hex_decode(s, n, out, n / 2) ? n / 2 : SIZE_MAX;
}

static uint64_t num(const struct vec *v, const char *name, int base)
{
	return strtoull(get(v, name), NULL, base);
}

static void test_init(void)
{
	CHECK(ss_crypto_init() == SS_OK);
	CHECK(ss_crypto_init() == SS_OK); /* idempotent */
}

static void test_random(void)
{
	uint8_t a[32], b[32], zero[32] = {0};

	CHECK(ss_random(a, sizeof(a)) == SS_OK);
	CHECK(ss_random(b, sizeof(b)) == SS_OK);
	CHECK(ss_random(b, 0) == SS_OK);
	CHECK(memcmp(a, b, sizeof(a)) != 0);
	CHECK(memcmp(a, zero, sizeof(a)) != 0);
}

static void test_sm3_vectors(void)
{
	struct vecs vs;
	uint8_t msg[HEX_MAX], want[HEX_MAX], got[SS_SM3_LEN];

	CHECK(vecs_load("test/vectors/sm3.txt", &vs));
	CHECK(vs.n == 2);
	for (int i = 0; i < vs.n; i++) {
		size_t n = hex(&vs.v[i], "msg", msg);
		CHECK(n != SIZE_MAX && hex(&vs.v[i], "digest", want) == SS_SM3_LEN);
		if (n == SIZE_MAX)
			continue;
		ss_sm3(msg, n, got);
		CHECK(memcmp(got, want, SS_SM3_LEN) == 0);
	}
	vecs_free(&vs);
}

/* E(key, block) through the CTR call: keystream block 0 is the encryption of the iv. */
static void sm4_block(const uint8_t key[16], const uint8_t in[16], uint8_t out[16])
{
	static const uint8_t zero[16];

	ss_sm4_ctr(key, in, zero, 16, out);
}

static void test_sm4_vectors(void)
{
	struct vecs vs;
	uint8_t key[HEX_MAX], block[HEX_MAX], want[HEX_MAX];

	CHECK(vecs_load("test/vectors/sm4.txt", &vs));
	CHECK(vs.n == 2);
	for (int i = 0; i < vs.n; i++) {
		CHECK(hex(&vs.v[i], "key", key) == 16 && hex(&vs.v[i], "plaintext", block) == 16 &&
		      hex(&vs.v[i], "ciphertext", want) == 16);
		uint64_t iterations = num(&vs.v[i], "iterations", 10);
		CHECK(iterations >= 1);
		for (uint64_t j = 0; j < iterations; j++)
			sm4_block(key, block, block);
		CHECK(memcmp(block, want, 16) == 0);
	}
	vecs_free(&vs);
}

static void test_sm4_ctr_vectors(void)
{
	struct vecs vs;
	uint8_t key[HEX_MAX], iv[HEX_MAX], pt[HEX_MAX], want[HEX_MAX], got[HEX_MAX];

	CHECK(vecs_load("test/vectors/sm4_ctr.txt", &vs));
	CHECK(vs.n == 3);
	for (int i = 0; i < vs.n; i++) {
		size_t n = hex(&vs.v[i], "plaintext", pt);
		CHECK(hex(&vs.v[i], "key", key) == 16 && hex(&vs.v[i], "iv", iv) == 16);
		CHECK(n != SIZE_MAX && hex(&vs.v[i], "ciphertext", want) == n);
		if (n == SIZE_MAX)
			continue;
		ss_sm4_ctr(key, iv, pt, n, got);
		CHECK(memcmp(got, want, n) == 0);
		ss_sm4_ctr(key, iv, got, n, got); /* in place, and decryption is the same call */
		CHECK(memcmp(got, pt, n) == 0);
	}
	vecs_free(&vs);
}

static void test_hmac_sm3_vectors(void)
{
	struct vecs vs;
	uint8_t key[HEX_MAX], msg[HEX_MAX], want[HEX_MAX], got[SS_SM3_LEN];

	CHECK(vecs_load("test/vectors/hmac_sm3.txt", &vs));
	CHECK(vs.n == 5);
	/* Twice over, so each vector also follows one with another key (the per-thread key cache). */
	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < vs.n; i++) {
			size_t kn = hex(&vs.v[i], "key", key), n = hex(&vs.v[i], "msg", msg);
			CHECK(kn != SIZE_MAX && n != SIZE_MAX && hex(&vs.v[i], "mac", want) == SS_SM3_LEN);
			if (kn == SIZE_MAX || n == SIZE_MAX)
				continue;
			ss_hmac_sm3(key, kn, msg, n, got);
			CHECK(memcmp(got, want, SS_SM3_LEN) == 0);
			ss_hmac_sm3(key, kn, msg, n, got); /* same key again */
			CHECK(memcmp(got, want, SS_SM3_LEN) == 0);
			/* Every split of the message into three parts, the middle one empty. */
			size_t wrong = 0;
			for (size_t k = 0; k <= n; k++) {
				struct ss_iov parts[3] = {{msg, k}, {NULL, 0}, {msg + k, n - k}};
				memset(got, 0, sizeof(got));
				ss_hmac_sm3_v(key, kn, parts, 3, got);
				wrong += memcmp(got, want, SS_SM3_LEN) != 0;
			}
			CHECK(wrong == 0);
		}
	}
	vecs_free(&vs);
}

static void test_hmac_sha1_vectors(void)
{
	struct vecs vs;
	uint8_t key[HEX_MAX], msg[HEX_MAX], want[HEX_MAX], got[SS_SHA1_LEN];

	CHECK(vecs_load("test/vectors/hmac_sha1.txt", &vs));
	CHECK(vs.n == 3);
	for (int i = 0; i < vs.n; i++) {
		size_t kn = hex(&vs.v[i], "key", key), n = hex(&vs.v[i], "msg", msg);
		CHECK(kn != SIZE_MAX && n != SIZE_MAX && hex(&vs.v[i], "mac", want) == SS_SHA1_LEN);
		if (kn == SIZE_MAX || n == SIZE_MAX)
			continue;
		ss_hmac_sha1(key, kn, msg, n, got);
		CHECK(memcmp(got, want, SS_SHA1_LEN) == 0);
	}
	vecs_free(&vs);
}

static void test_totp_vectors(void)
{
	struct vecs vs;
	uint8_t secret[HEX_MAX];

	CHECK(vecs_load("test/vectors/totp.txt", &vs));
	CHECK(vs.n == 6);
	for (int i = 0; i < vs.n; i++) {
		char otp[16];
		int64_t t = (int64_t)num(&vs.v[i], "time", 10), step = -1;
		uint32_t want = (uint32_t)(num(&vs.v[i], "totp", 10) % 1000000);

		CHECK(hex(&vs.v[i], "secret", secret) == SS_TOTP_SECRET_LEN);
		CHECK(ss_totp_code(secret, t) == want);
		snprintf(otp, sizeof(otp), "%06" PRIu32, want);
		CHECK(ss_totp_check(secret, t, otp, -1, &step));
		CHECK(step == (int64_t)num(&vs.v[i], "step", 16));
	}
	vecs_free(&vs);
}

/* DER INTEGER of an unsigned big-endian number. */
static size_t der_int(uint8_t *out, const uint8_t *v, size_t n)
{
	while (n > 1 && v[0] == 0) {
		v++;
		n--;
	}
	size_t pad = (v[0] & 0x80) ? 1 : 0;
	out[0] = 0x02;
	out[1] = (uint8_t)(n + pad);
	out[2] = 0;
	memcpy(out + 2 + pad, v, n);
	return 2 + pad + n;
}

/* DER SEQUENCE { r, s } of two 32-byte numbers, as SM2 signatures are carried. */
static size_t der_sig(uint8_t out[SS_SM2_SIG_MAX], const uint8_t r[32], const uint8_t s[32])
{
	uint8_t body[80];
	size_t m = der_int(body, r, 32);

	m += der_int(body + m, s, 32);
	out[0] = 0x30;
	out[1] = (uint8_t)m;
	memcpy(out + 2, body, m);
	return m + 2;
}

static void test_sm2_vector(void)
{
	struct vecs vs;
	uint8_t a[HEX_MAX], b[HEX_MAX], gx[HEX_MAX], gy[HEX_MAX], id[HEX_MAX], msg[HEX_MAX], priv[HEX_MAX];
	uint8_t pub[HEX_MAX], za[HEX_MAX], e[HEX_MAX], r[HEX_MAX], s[HEX_MAX];
	uint8_t got[SS_SM3_LEN], sig[SS_SM2_SIG_MAX], bytes[SS_SM2_PUB_LEN];
	struct ss_sm2_key *k = NULL, *kp = NULL;

	CHECK(vecs_load("test/vectors/sm2.txt", &vs));
	CHECK(vs.n == 1);
	if (vs.n != 1)
		goto out;
	const struct vec *v = &vs.v[0];
	size_t idn = hex(v, "id", id), n = hex(v, "msg", msg);
	CHECK(hex(v, "a", a) == 32 && hex(v, "b", b) == 32 && hex(v, "gx", gx) == 32 && hex(v, "gy", gy) == 32);
	CHECK(idn != SIZE_MAX && idn < 64 && n != SIZE_MAX);
	CHECK(hex(v, "priv", priv) == SS_SM2_PRIV_LEN && hex(v, "pub", pub) == SS_SM2_PUB_LEN);
	CHECK(hex(v, "za", za) == 32 && hex(v, "e", e) == 32 && hex(v, "r", r) == 32 && hex(v, "s", s) == 32);

	/* Z_A and e as GB/T 32918.2 5.5 and 6.1 define them, with our SM3. */
	uint8_t entl[2] = {(uint8_t)(idn * 8 >> 8), (uint8_t)(idn * 8)};
	struct ss_iov zparts[] = {{entl, 2}, {id, idn}, {a, 32}, {b, 32}, {gx, 32}, {gy, 32}, {pub + 1, 64}};
	uint8_t zbuf[2 + 64 + 6 * 32], *p = zbuf;
	for (size_t i = 0; i < sizeof(zparts) / sizeof(zparts[0]); i++) {
		memcpy(p, zparts[i].p, zparts[i].n);
		p += zparts[i].n;
	}
	ss_sm3(zbuf, (size_t)(p - zbuf), got);
	CHECK(memcmp(got, za, 32) == 0);
	uint8_t zm[32 + 64];
	memcpy(zm, za, 32);
	memcpy(zm + 32, msg, n);
	ss_sm3(zm, 32 + n, got);
	CHECK(memcmp(got, e, 32) == 0);

	/* The standard's public key is the standard's private key times G. */
	CHECK(ss_sm2_from_private(priv, &kp) == SS_OK);
	CHECK(kp && ss_sm2_public_bytes(kp, bytes) == SS_OK && memcmp(bytes, pub, SS_SM2_PUB_LEN) == 0);

	/* The standard's signature verifies under the standard's id, explicit or default. */
	char idstr[64];
	memcpy(idstr, id, idn);
	idstr[idn] = '\0';
	CHECK(!strcmp(idstr, SS_SM2_DEFAULT_ID));
	size_t siglen = der_sig(sig, r, s);
	CHECK(siglen == 72);
	CHECK(ss_sm2_from_public(pub, &k) == SS_OK);
	CHECK(k && ss_sm2_verify(k, idstr, msg, n, sig, siglen) == SS_OK);
	CHECK(k && ss_sm2_verify(k, NULL, msg, n, sig, siglen) == SS_OK);
	CHECK(kp && ss_sm2_verify(kp, NULL, msg, n, sig, siglen) == SS_OK);
	/* ... and not under GB/T 32918.2's example id, nor for another message. */
	CHECK(k && ss_sm2_verify(k, "ALICE123@YAHOO.COM", msg, n, sig, siglen) == SS_INVALID);
	CHECK(k && ss_sm2_verify(k, NULL, msg, n - 1, sig, siglen) == SS_INVALID);
out:
	ss_sm2_free(k);
	ss_sm2_free(kp);
	vecs_free(&vs);
}

static void test_sm2_round_trip(void)
{
	static const char msg[] = "code:3201020000000001:green:2026-11-26T08:00:00Z";
	struct ss_sm2_key *k = NULL, *kpub = NULL, *kpriv = NULL;
	uint8_t sig[SS_SM2_SIG_MAX + 1], bad[SS_SM2_SIG_MAX + 1], priv[SS_SM2_PRIV_LEN], priv2[SS_SM2_PRIV_LEN];
	uint8_t pub[SS_SM2_PUB_LEN], pub2[SS_SM2_PUB_LEN];
	size_t siglen = 0, n = sizeof(msg) - 1;

	CHECK(ss_sm2_generate(&k) == SS_OK);
	if (!k)
		return;
	CHECK(ss_sm2_sign(k, NULL, msg, n, sig, &siglen) == SS_OK);
	CHECK(siglen >= 8 && siglen <= SS_SM2_SIG_MAX && sig[0] == 0x30);
	CHECK(ss_sm2_verify(k, NULL, msg, n, sig, siglen) == SS_OK);
	CHECK(ss_sm2_verify(k, SS_SM2_DEFAULT_ID, msg, n, sig, siglen) == SS_OK);

	/* The id is part of what is signed. */
	CHECK(ss_sm2_verify(k, "terminal-7", msg, n, sig, siglen) == SS_INVALID);
	CHECK(ss_sm2_verify(k, "", msg, n, sig, siglen) == SS_INVALID);
	size_t siglen2 = 0;
	CHECK(ss_sm2_sign(k, "terminal-7", msg, n, bad, &siglen2) == SS_OK);
	CHECK(ss_sm2_verify(k, "terminal-7", msg, n, bad, siglen2) == SS_OK);
	CHECK(ss_sm2_verify(k, NULL, msg, n, bad, siglen2) == SS_INVALID);

	/* Any flipped bit of the signature or the message fails. */
	for (size_t i = 0; i < siglen * 8; i += 7) {
		memcpy(bad, sig, siglen);
		bad[i / 8] ^= (uint8_t)(1u << (i % 8));
		CHECK(ss_sm2_verify(k, NULL, msg, n, bad, siglen) == SS_INVALID);
	}
	char m2[sizeof(msg)];
	memcpy(m2, msg, sizeof(msg));
	m2[5] ^= 1;
	CHECK(ss_sm2_verify(k, NULL, m2, n, sig, siglen) == SS_INVALID);

	/* Malformed signatures are refused, not crashed on. */
	memcpy(bad, sig, siglen);
	bad[siglen] = 0;
	CHECK(ss_sm2_verify(k, NULL, msg, n, bad, siglen + 1) == SS_INVALID); /* trailing byte */
	CHECK(ss_sm2_verify(k, NULL, msg, n, sig, siglen - 1) == SS_INVALID);
	CHECK(ss_sm2_verify(k, NULL, msg, n, sig, 0) == SS_INVALID);
	memset(bad, 0xff, sizeof(bad));
	CHECK(ss_sm2_verify(k, NULL, msg, n, bad, SS_SM2_SIG_MAX) == SS_INVALID);

	/* Private and public bytes round-trip. */
	CHECK(ss_sm2_private_bytes(k, priv) == SS_OK);
	CHECK(ss_sm2_public_bytes(k, pub) == SS_OK);
	CHECK(pub[0] == 0x04);
	CHECK(ss_sm2_from_private(priv, &kpriv) == SS_OK);
	CHECK(kpriv && ss_sm2_public_bytes(kpriv, pub2) == SS_OK && !memcmp(pub, pub2, sizeof(pub)));
	CHECK(kpriv && ss_sm2_private_bytes(kpriv, priv2) == SS_OK && !memcmp(priv, priv2, sizeof(priv)));
	CHECK(kpriv && ss_sm2_verify(kpriv, NULL, msg, n, sig, siglen) == SS_OK);
	CHECK(ss_sm2_from_public(pub, &kpub) == SS_OK);
	CHECK(kpub && ss_sm2_public_bytes(kpub, pub2) == SS_OK && !memcmp(pub, pub2, sizeof(pub)));
	CHECK(kpub && ss_sm2_verify(kpub, NULL, msg, n, sig, siglen) == SS_OK);

	/* A public key alone cannot sign or give a private scalar. */
	CHECK(kpub && ss_sm2_private_bytes(kpub, priv2) == SS_INVALID);
	CHECK(kpub && ss_sm2_sign(kpub, NULL, msg, n, bad, &siglen2) == SS_INVALID);

	/* A key made from bytes signs, and its signatures verify under the original. */
	CHECK(kpriv && ss_sm2_sign(kpriv, NULL, msg, n, bad, &siglen2) == SS_OK);
	CHECK(ss_sm2_verify(k, NULL, msg, n, bad, siglen2) == SS_OK);

	/* An id past GB/T 32918's 16-bit ENTL is refused. */
	static char longid[8193];
	memset(longid, 'a', sizeof(longid) - 1);
	CHECK(ss_sm2_verify(k, longid, msg, n, sig, siglen) == SS_INVALID);
	CHECK(ss_sm2_sign(k, longid, msg, n, bad, &siglen2) == SS_INVALID);

	ss_wipe(priv, sizeof(priv));
	ss_wipe(priv2, sizeof(priv2));
	ss_sm2_free(k);
	ss_sm2_free(kpub);
	ss_sm2_free(kpriv);
	ss_sm2_free(NULL);
}

/* The order n of sm2p256v1 (GB/T 32918.5), minus delta, big-endian. */
static void order_minus(uint8_t out[32], unsigned delta)
{
	static const uint8_t n[32] = {0xff, 0xff, 0xff, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	                              0xff, 0xff, 0xff, 0xff, 0xff, 0x72, 0x03, 0xdf, 0x6b, 0x21, 0xc6,
	                              0x05, 0x2b, 0x53, 0xbb, 0xf4, 0x09, 0x39, 0xd5, 0x41, 0x23};
	memcpy(out, n, 32);
	out[31] = (uint8_t)(out[31] - delta); /* 0x23 does not borrow for delta < 0x24 */
}

static void test_sm2_key_bounds(void)
{
	uint8_t d[32], pub[SS_SM2_PUB_LEN], sig[SS_SM2_SIG_MAX];
	struct ss_sm2_key *k = NULL;
	size_t siglen;

	/* Out of [1, n-2]: 0, n-1, n, 2^256-1. */
	memset(d, 0, 32);
	CHECK(ss_sm2_from_private(d, &k) == SS_INVALID);
	order_minus(d, 1);
	CHECK(ss_sm2_from_private(d, &k) == SS_INVALID);
	order_minus(d, 0);
	CHECK(ss_sm2_from_private(d, &k) == SS_INVALID);
	memset(d, 0xff, 32);
	CHECK(ss_sm2_from_private(d, &k) == SS_INVALID);

	/* The ends of the range are keys that sign; d = 1 gives G itself. */
	memset(d, 0, 32);
	d[31] = 1;
	CHECK(ss_sm2_from_private(d, &k) == SS_OK);
	CHECK(k && ss_sm2_public_bytes(k, pub) == SS_OK);
	CHECK(pub[1] == 0x32 && pub[2] == 0xc4 && pub[33] == 0xbc && pub[34] == 0x37); /* Gx, Gy */
	CHECK(k && ss_sm2_sign(k, NULL, "x", 1, sig, &siglen) == SS_OK &&
	      ss_sm2_verify(k, NULL, "x", 1, sig, siglen) == SS_OK);
	ss_sm2_free(k);
	k = NULL;
	order_minus(d, 2);
	CHECK(ss_sm2_from_private(d, &k) == SS_OK);
	CHECK(k && ss_sm2_sign(k, NULL, "x", 1, sig, &siglen) == SS_OK &&
	      ss_sm2_verify(k, NULL, "x", 1, sig, siglen) == SS_OK);
	ss_sm2_free(k);
	k = NULL;

	/* public_bytes refuses no valid key: every generated key's point reloads. */
	for (int i = 0; i < 16; i++) {
		struct ss_sm2_key *g = NULL, *h = NULL;
		uint8_t again[SS_SM2_PUB_LEN];
		CHECK(ss_sm2_generate(&g) == SS_OK);
		CHECK(g && ss_sm2_public_bytes(g, pub) == SS_OK);
		CHECK(ss_sm2_from_public(pub, &h) == SS_OK);
		CHECK(h && ss_sm2_public_bytes(h, again) == SS_OK && !memcmp(pub, again, sizeof(pub)));
		ss_sm2_free(g);
		ss_sm2_free(h);
	}

	/* Points that are not on the curve, or not uncompressed, are refused. */
	uint8_t p2[SS_SM2_PUB_LEN];
	memcpy(p2, pub, sizeof(p2));
	p2[64] ^= 1;
	CHECK(ss_sm2_from_public(p2, &k) == SS_INVALID);
	memcpy(p2, pub, sizeof(p2));
	p2[0] = 0x02;
	CHECK(ss_sm2_from_public(p2, &k) == SS_INVALID);
	memset(p2, 0xff, sizeof(p2));
	p2[0] = 0x04;
	CHECK(ss_sm2_from_public(p2, &k) == SS_INVALID);
	memset(p2, 0, sizeof(p2));
	p2[0] = 0x04;
	CHECK(ss_sm2_from_public(p2, &k) == SS_INVALID);
	CHECK(k == NULL);
}

static void test_sm4_ctr_lengths(void)
{
	static const size_t lens[] = {0, 1, 2, 3, 5, 7, 15, 16, 17, 31, 33, 63, 65, 127, 129, 1001};
	uint8_t key[16], iv[16], x[1001], y[1001], z[1001], whole[1001];

	CHECK(ss_random(key, sizeof(key)) == SS_OK && ss_random(iv, sizeof(iv)) == SS_OK);
	CHECK(ss_random(x, sizeof(x)) == SS_OK);
	ss_sm4_ctr(key, iv, x, sizeof(x), whole);
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		size_t n = lens[i];
		ss_sm4_ctr(key, iv, x, n, y);
		CHECK(memcmp(y, whole, n) == 0); /* a prefix of the same stream */
		ss_sm4_ctr(key, iv, y, n, z);
		CHECK(memcmp(z, x, n) == 0);
		memcpy(z, x, n);
		ss_sm4_ctr(key, iv, z, n, z); /* in place */
		CHECK(memcmp(z, y, n) == 0);
		if (n >= 16)
			CHECK(memcmp(y, x, n) != 0);
	}
}

/* Calls with different keys in turn each use their own key (the per-thread key cache). */
static void test_sm4_ctr_key_switch(void)
{
	static const uint8_t std_key[16] = {0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
	                                    0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10};
	static const uint8_t std_ct[16] = {0x68, 0x1e, 0xdf, 0x34, 0xd2, 0x06, 0x96, 0x5e,
	                                   0x86, 0xb3, 0xe9, 0x4f, 0x53, 0x6e, 0x42, 0x46}; /* GB/T 32907 A.1 */
	uint8_t other[16], a[16], b[16], c[16];

	CHECK(ss_random(other, sizeof(other)) == SS_OK);
	for (int i = 0; i < 3; i++) {
		sm4_block(std_key, std_key, a);
		sm4_block(other, std_key, b);
		sm4_block(std_key, std_key, c);
		CHECK(memcmp(a, std_ct, 16) == 0);
		CHECK(memcmp(c, std_ct, 16) == 0);
		CHECK(memcmp(b, std_ct, 16) != 0);
	}
}

/* The counter is one 128-bit big-endian number: it carries across all 16 bytes. */
static void test_sm4_ctr_carry(void)
{
	static const uint8_t zero[32];
	uint8_t key[16], iv[16], next[16], out[32], b0[16], b1[16];

	CHECK(ss_random(key, sizeof(key)) == SS_OK);
	for (int width = 8; width <= 16; width += 8) {
		/* iv = 00..00 ff..ff (width bytes of ff); the next block is 00..01 00..00. */
		memset(iv, 0, 16);
		memset(iv + 16 - width, 0xff, (size_t)width);
		memset(next, 0, 16);
		if (width < 16)
			next[15 - width] = 1;
		ss_sm4_ctr(key, iv, zero, 32, out);
		sm4_block(key, iv, b0);
		sm4_block(key, next, b1);
		CHECK(memcmp(out, b0, 16) == 0);
		CHECK(memcmp(out + 16, b1, 16) == 0);
	}
}

/* Each thread hashes, MACs and encrypts the same inputs many times over and compares. */
struct job {
	uint8_t sm3[4][SS_SM3_LEN];
	uint8_t mac[4][SS_SM3_LEN];
	uint8_t sha1[4][SS_SHA1_LEN];
	uint8_t ctr[4][48];
	int wrong;
};

static const uint8_t job_key_a[16] = "0123456789abcdef", job_key_b[32] = "another key of thirty-two bytes";

static void job_run(int i, uint8_t sm3[SS_SM3_LEN], uint8_t mac[SS_SM3_LEN], uint8_t sha1[SS_SHA1_LEN], uint8_t ctr[48])
{
	uint8_t msg[48];

	for (int j = 0; j < 48; j++)
		msg[j] = (uint8_t)(i * 48 + j);
	ss_sm3(msg, (size_t)(10 + i), sm3);
	/* Alternate keys so the per-thread key cache is both hit and missed. */
	ss_hmac_sm3(i % 2 ? job_key_a : job_key_b, i % 2 ? 16 : 32, msg, 48, mac);
	ss_hmac_sha1(job_key_b, 20, msg, (size_t)(20 + i), sha1);
	ss_sm4_ctr(i % 2 ? job_key_a : job_key_b + 16, job_key_b, msg, (size_t)(33 + i), ctr);
}

static void *job_thread(void *arg)
{
	struct job *j = arg;

	for (int round = 0; round < 500; round++) {
		for (int i = 0; i < 4; i++) {
			uint8_t sm3[SS_SM3_LEN], mac[SS_SM3_LEN], sha1[SS_SHA1_LEN], ctr[48] = {0};
			job_run(i, sm3, mac, sha1, ctr);
			if (memcmp(sm3, j->sm3[i], sizeof(sm3)) || memcmp(mac, j->mac[i], sizeof(mac)) ||
			    memcmp(sha1, j->sha1[i], sizeof(sha1)) || memcmp(ctr, j->ctr[i], sizeof(ctr)))
				j->wrong++;
		}
	}
	return NULL;
}

static void test_threads(void)
{
	struct job want = {0}, jobs[4];
	pthread_t th[4];

	for (int i = 0; i < 4; i++)
		job_run(i, want.sm3[i], want.mac[i], want.sha1[i], want.ctr[i]);
	for (int t = 0; t < 4; t++) {
		jobs[t] = want;
		CHECK(pthread_create(&th[t], NULL, job_thread, &jobs[t]) == 0);
	}
	for (int t = 0; t < 4; t++) {
		CHECK(pthread_join(th[t], NULL) == 0);
		CHECK(jobs[t].wrong == 0);
	}
}

/* One key shared by threads that sign and verify at once; each checks the others' signatures too. */
struct sm2_job {
	const struct ss_sm2_key *key;
	uint8_t sig[SS_SM2_SIG_MAX];
	size_t siglen;
	int wrong;
};

static void *sm2_thread(void *arg)
{
	struct sm2_job *j = arg;
	uint8_t sig[SS_SM2_SIG_MAX];
	size_t siglen = 0;

	for (int i = 0; i < 20; i++) {
		char msg[32];
		int n = snprintf(msg, sizeof(msg), "message %d", i);
		if (ss_sm2_sign(j->key, NULL, msg, (size_t)n, sig, &siglen) != SS_OK ||
		    ss_sm2_verify(j->key, NULL, msg, (size_t)n, sig, siglen) != SS_OK ||
		    ss_sm2_verify(j->key, NULL, "shared", 6, j->sig, j->siglen) != SS_OK ||
		    ss_sm2_verify(j->key, "other id", msg, (size_t)n, sig, siglen) != SS_INVALID)
			j->wrong++;
	}
	return NULL;
}

static void test_sm2_threads(void)
{
	struct ss_sm2_key *k = NULL;
	struct sm2_job jobs[4];
	pthread_t th[4];

	CHECK(ss_sm2_generate(&k) == SS_OK);
	if (!k)
		return;
	for (int t = 0; t < 4; t++) {
		jobs[t] = (struct sm2_job){.key = k};
		CHECK(ss_sm2_sign(k, NULL, "shared", 6, jobs[t].sig, &jobs[t].siglen) == SS_OK);
	}
	for (int t = 0; t < 4; t++)
		CHECK(pthread_create(&th[t], NULL, sm2_thread, &jobs[t]) == 0);
	for (int t = 0; t < 4; t++) {
		CHECK(pthread_join(th[t], NULL) == 0);
		CHECK(jobs[t].wrong == 0);
	}
	ss_sm2_free(k);
}

static void test_password(void)
{
	static const char pw[] = "correct horse battery staple";
	char h[SS_PASSWORD_HASH_MAX], h2[SS_PASSWORD_HASH_MAX], bad[SS_PASSWORD_HASH_MAX * 2];
	size_t n = sizeof(pw) - 1;

	CHECK(ss_password_hash(pw, n, h) == SS_OK);
	CHECK(strncmp(h, "$argon2id$v=19$m=19456,t=2,p=1$", 31) == 0);
	CHECK(strlen(h) < SS_PASSWORD_HASH_MAX);
	CHECK(ss_password_verify(h, pw, n));
	CHECK(!ss_password_verify(h, pw, n - 1));
	CHECK(!ss_password_verify(h, "correct horse battery stapler", n + 1));
	CHECK(!ss_password_verify(h, "", 0));

	/* A fresh salt each time. */
	CHECK(ss_password_hash(pw, n, h2) == SS_OK);
	CHECK(strcmp(h, h2) != 0);
	CHECK(ss_password_verify(h2, pw, n));

	/* The length counts, not a NUL. */
	CHECK(ss_password_hash("a\0b", 3, h2) == SS_OK);
	CHECK(ss_password_verify(h2, "a\0b", 3));
	CHECK(!ss_password_verify(h2, "a\0c", 3));
	CHECK(!ss_password_verify(h2, "a", 1));

	/* The empty password is a password like another. */
	CHECK(ss_password_hash("", 0, h2) == SS_OK);
	CHECK(ss_password_verify(h2, "", 0));
	CHECK(ss_password_verify(h2, NULL, 0));
	CHECK(!ss_password_verify(h2, "x", 1));

	/* Malformed hashes are false, quickly where their costs are absurd. */
	CHECK(!ss_password_verify(NULL, pw, n));
	CHECK(!ss_password_verify("", pw, n));
	CHECK(!ss_password_verify("$", pw, n));
	CHECK(!ss_password_verify("$argon2id$", pw, n));
	CHECK(!ss_password_verify("not a hash at all", pw, n));
	CHECK(!ss_password_verify(h, NULL, 5));
	size_t len = strlen(h);
	const size_t cuts[] = {1, 9, 20, 31, 40, len - 44, len - 43, len - 1};
	for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		memcpy(bad, h, cuts[i]);
		bad[cuts[i]] = '\0';
		CHECK(!ss_password_verify(bad, pw, n));
	}
	snprintf(bad, sizeof(bad), "%s", h);
	bad[len - 3] = bad[len - 3] == 'A' ? 'B' : 'A'; /* a changed hash */
	CHECK(!ss_password_verify(bad, pw, n));
	snprintf(bad, sizeof(bad), "$argon2i%s", h + 9); /* another variant */
	CHECK(!ss_password_verify(bad, pw, n));
	snprintf(bad, sizeof(bad), "$argon2id$v=19$m=4294967295,t=2,p=1%s", h + 30);
	CHECK(!ss_password_verify(bad, pw, n));
	snprintf(bad, sizeof(bad), "$argon2id$v=19$m=19456,t=4000000000,p=1%s", h + 30);
	CHECK(!ss_password_verify(bad, pw, n));
	snprintf(bad, sizeof(bad), "$argon2id$v=19$m=19456,t=2,p=0%s", h + 30);
	CHECK(!ss_password_verify(bad, pw, n));
	snprintf(bad, sizeof(bad), "$argon2id$v=19$m=19456,t=2,p=99999999999999999999%s", h + 30);
	CHECK(!ss_password_verify(bad, pw, n));
	snprintf(bad, sizeof(bad), "$argon2id$v=19$m=19456,t=2,p=1$$");
	CHECK(!ss_password_verify(bad, pw, n));
	memset(bad, 'A', sizeof(bad) - 1);
	bad[sizeof(bad) - 1] = '\0';
	CHECK(!ss_password_verify(bad, pw, n));
	snprintf(bad, sizeof(bad), "%s%s", h, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"); /* too long */
	CHECK(!ss_password_verify(bad, pw, n));
}

static void test_totp_rules(void)
{
	static const uint8_t secret[SS_TOTP_SECRET_LEN] = "12345678901234567890";
	const int64_t t = 1111111111, now = t / 30;
	char otp[16], prev[16], next[16], far_prev[16], far_next[16];
	int64_t step = 0;

	snprintf(otp, sizeof(otp), "%06" PRIu32, ss_totp_code(secret, t));
	snprintf(prev, sizeof(prev), "%06" PRIu32, ss_totp_code(secret, t - 30));
	snprintf(next, sizeof(next), "%06" PRIu32, ss_totp_code(secret, t + 30));
	snprintf(far_prev, sizeof(far_prev), "%06" PRIu32, ss_totp_code(secret, t - 60));
	snprintf(far_next, sizeof(far_next), "%06" PRIu32, ss_totp_code(secret, t + 60));
	CHECK_STR(otp, "050471"); /* RFC 6238 Appendix B */
	/* The five codes differ, so each check below can only match the step it is meant to. */
	const char *all[] = {otp, prev, next, far_prev, far_next};
	for (int i = 0; i < 5; i++)
		for (int j = i + 1; j < 5; j++)
			CHECK(strcmp(all[i], all[j]) != 0);

	/* The same step everywhere within it. */
	CHECK(ss_totp_code(secret, now * 30) == ss_totp_code(secret, now * 30 + 29));
	CHECK(ss_totp_code(secret, now * 30) != ss_totp_code(secret, now * 30 + 30));

	/* The drift window is one step either side. */
	CHECK(ss_totp_check(secret, t, otp, -1, &step) && step == now);
	CHECK(ss_totp_check(secret, t, prev, -1, &step) && step == now - 1);
	CHECK(ss_totp_check(secret, t, next, -1, &step) && step == now + 1);
	CHECK(!ss_totp_check(secret, t, far_prev, -1, &step));
	CHECK(!ss_totp_check(secret, t, far_next, -1, &step));

	/* A step at or below not_after_step is refused: a code works once. */
	CHECK(!ss_totp_check(secret, t, otp, now, &step));
	CHECK(!ss_totp_check(secret, t, otp, now + 1, &step));
	CHECK(ss_totp_check(secret, t, otp, now - 1, &step) && step == now);
	CHECK(!ss_totp_check(secret, t, prev, now - 1, &step));
	CHECK(ss_totp_check(secret, t, next, now, &step) && step == now + 1);
	/* After the next step's code is used, the current one is refused too. */
	CHECK(!ss_totp_check(secret, t, otp, now + 1, &step));

	/* Exactly six ASCII digits. */
	const char *malformed[] = {"",
	                           "05047",
	                           "0504711",
	                           "05047a",
	                           " 50471",
	                           "050471 ",
	                           "+50471",
	                           "-50471",
	                           "05 471",
	                           "050471\n",
	                           "\xd9\xa0\xd9\xa5\xd9\xa0\xd9\xa4\xd9\xa7\xd9\xa1" /* Arabic-Indic 050471 */};
	for (size_t i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++)
		CHECK(!ss_totp_check(secret, t, malformed[i], -1, &step));
	CHECK(!ss_totp_check(secret, t, NULL, -1, &step));
	/* A wrong secret gives other codes. */
	uint8_t other[SS_TOTP_SECRET_LEN];
	memcpy(other, secret, sizeof(other));
	other[0] ^= 1;
	CHECK(!ss_totp_check(other, t, otp, -1, &step));
}

int main(void)
{
	RUN(test_init);
	RUN(test_random);
	RUN(test_sm3_vectors);
	RUN(test_sm4_vectors);
	RUN(test_sm4_ctr_vectors);
	RUN(test_hmac_sm3_vectors);
	RUN(test_hmac_sha1_vectors);
	RUN(test_totp_vectors);
	RUN(test_sm2_vector);
	RUN(test_sm2_round_trip);
	RUN(test_sm2_key_bounds);
	RUN(test_sm4_ctr_lengths);
	RUN(test_sm4_ctr_key_switch);
	RUN(test_sm4_ctr_carry);
	RUN(test_threads);
	RUN(test_sm2_threads);
	RUN(test_password);
	RUN(test_totp_rules);
	return check_done();
}
