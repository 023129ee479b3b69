/* code: issuing and opening residents' dynamic codes (the layout is in code.h). */
#include "crypto/code.h"

#include <string.h>

#include "base/mem.h"
#include "base/str.h"
#include "crypto/crypto.h"

#define KEY_ID_LEN 2
#define NONCE_LEN  10
#define PLAIN_LEN  12 /* person_id | issued_at | presenter_id */
#define TAG_LEN    10
#define FP_LEN     8 /* the fingerprint: the HMAC's bytes after the tag, which no code carries */
#define RAW_LEN    (KEY_ID_LEN + NONCE_LEN + PLAIN_LEN + TAG_LEN)
#define MACED_LEN  (KEY_ID_LEN + NONCE_LEN + PLAIN_LEN)
#define TEXT_LEN   (SS_CODE_LEN - 1) /* base32 characters after the version character */

_Static_assert(TEXT_LEN == (RAW_LEN * 8 + 4) / 5, "SS_CODE_LEN does not match the layout");
_Static_assert(TAG_LEN + FP_LEN <= SS_SM3_LEN, "the fingerprint does not fit the HMAC");

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* IV = nonce || 6 zero bytes: the CTR counter starts at zero for every nonce. */
static void make_iv(const uint8_t *nonce, uint8_t iv[SS_SM4_IV_LEN])
{
	memset(iv, 0, SS_SM4_IV_LEN);
	memcpy(iv, nonce, NONCE_LEN);
}

/* HMAC-SM3 over version || key id || nonce || ciphertext (raw's first MACED_LEN bytes). */
static void compute_tag(const uint8_t mac[32], const uint8_t *raw, uint8_t out[SS_SM3_LEN])
{
	static const char version = SS_CODE_VERSION;
	struct ss_iov parts[] = {{&version, 1}, {raw, MACED_LEN}};
	ss_hmac_sm3_v(mac, 32, parts, 2, out);
}

enum ss_err ss_code_issue(const struct ss_keyring *kr, uint32_t person_id, uint32_t presenter_id, int64_t issued_at,
                          char out[SS_CODE_LEN + 1])
{
	uint8_t enc[SS_SM4_KEY_LEN], mac[32], iv[SS_SM4_IV_LEN], raw[RAW_LEN], plain[PLAIN_LEN], tag[SS_SM3_LEN];
	uint32_t key_id = ss_keyring_current_id(kr, SS_KEY_CODE);
	enum ss_err err;

	if (issued_at < 0 || issued_at > (int64_t)UINT32_MAX)
		return ss_fail(SS_INVALID, NULL, "issue time does not fit a code");
	if (key_id == 0)
		return ss_fail(SS_INTERNAL, NULL, "no current code key");
	if (key_id > 0xffff)
		return ss_fail(SS_INTERNAL, NULL, "code key id %u does not fit 16 bits", (unsigned)key_id);
	/* the key may have been removed since current_id() answered: that is not a crash either */
	if (!ss_keyring_get(kr, key_id, SS_KEY_CODE, enc, mac))
		return ss_fail(SS_INTERNAL, NULL, "no current code key");

	raw[0] = (uint8_t)(key_id >> 8), raw[1] = (uint8_t)key_id;
	err = ss_random(raw + KEY_ID_LEN, NONCE_LEN);
	if (err)
		goto out;
	put32(plain, person_id);
	put32(plain + 4, (uint32_t)issued_at);
	put32(plain + 8, presenter_id);
	make_iv(raw + KEY_ID_LEN, iv);
	ss_sm4_ctr(enc, iv, plain, PLAIN_LEN, raw + KEY_ID_LEN + NONCE_LEN);
	compute_tag(mac, raw, tag);
	memcpy(raw + MACED_LEN, tag, TAG_LEN);

	out[0] = SS_CODE_VERSION;
	ss_base32_encode(raw, RAW_LEN, out + 1);
out:
	ss_wipe(enc, sizeof(enc));
	ss_wipe(mac, sizeof(mac));
	ss_wipe(plain, sizeof(plain));
	ss_wipe(tag, sizeof(tag));
	return err;
}

/*
 * The 5-bit value of a base32 character, and 0xff in *bad if c is not one;
 * without branches or table lookups that depend on c.
 */
static uint8_t b32_value(uint8_t c, uint8_t *bad)
{
	/* 0xff if lo <= c <= hi, else 0: the sign bit of (c - lo) | (hi - c) says whether c is outside */
#define IN_RANGE(lo, hi) ((uint8_t)(((unsigned)(((int)(c) - (lo)) | ((hi) - (int)(c))) >> 31) - 1u))
	uint8_t letter = IN_RANGE('A', 'Z'), digit = IN_RANGE('2', '7');
#undef IN_RANGE
	*bad |= (uint8_t) ~(letter | digit);
	return (uint8_t)((letter & (uint8_t)(c - 'A')) | (digit & (uint8_t)(c - '2' + 26)));
}

/*
 * Decodes TEXT_LEN base32 characters into RAW_LEN bytes; returns non-zero if
 * any character is outside the alphabet or the unused low bits of the last
 * character are not zero (so each code has exactly one spelling).
 */
static uint8_t b32_decode(const uint8_t *text, uint8_t raw[RAW_LEN])
{
	uint8_t bad = 0;
	uint32_t acc = 0;
	int bits = 0;
	size_t o = 0;

	for (size_t i = 0; i < TEXT_LEN; i++) {
		acc = (acc << 5) | b32_value(text[i], &bad);
		bits += 5;
		if (bits >= 8) {
			raw[o++] = (uint8_t)(acc >> (bits - 8));
			bits -= 8;
		}
	}
	bad |= (uint8_t)(acc & ((1u << bits) - 1));
	return bad;
}

enum ss_err ss_code_open(const struct ss_keyring *kr, const char *code, size_t n, struct ss_code_claims *out)
{
	/* all-zero keys stand in for an unknown key so the work done is the same; the result is refused anyway */
	uint8_t enc[SS_SM4_KEY_LEN] = {0}, mac[32] = {0}, iv[SS_SM4_IV_LEN], raw[RAW_LEN], plain[PLAIN_LEN];
	uint8_t text[SS_CODE_LEN] = {0}, tag[SS_SM3_LEN];
	uint32_t key_id;
	uint8_t bad;

	/*
	 * Whatever is wrong, the same steps run on SS_CODE_LEN bytes: a copy of
	 * at most that many (never reading past n), the decode, the decryption
	 * and the tag. Only the verdict at the end branches.
	 */
	if (n > 0)
		memcpy(text, code, n < SS_CODE_LEN ? n : SS_CODE_LEN);
	bad = (uint8_t)(n != SS_CODE_LEN);
	bad |= (uint8_t)(text[0] != SS_CODE_VERSION);
	bad |= b32_decode(text + 1, raw);
	key_id = (uint32_t)raw[0] << 8 | raw[1];
	bool found = ss_keyring_get(kr, key_id, SS_KEY_CODE, enc, mac);
	bad |= (uint8_t)!found;
	make_iv(raw + KEY_ID_LEN, iv);
	ss_sm4_ctr(enc, iv, raw + KEY_ID_LEN + NONCE_LEN, PLAIN_LEN, plain);
	compute_tag(mac, raw, tag);
	bad |= (uint8_t)!ss_ct_equal(tag, raw + MACED_LEN, TAG_LEN);

	enum ss_err err = SS_OK;
	if (bad) {
		memset(out, 0, sizeof(*out));
		err = ss_fail(SS_INVALID, NULL, "code is not authentic");
	} else {
		out->key_id = key_id;
		out->person_id = get32(plain);
		out->issued_at = get32(plain + 4);
		out->presenter_id = get32(plain + 8);
		out->fingerprint = (uint64_t)get32(tag + TAG_LEN) << 32 | get32(tag + TAG_LEN + 4) | 1;
	}
	ss_wipe(enc, sizeof(enc));
	ss_wipe(mac, sizeof(mac));
	ss_wipe(plain, sizeof(plain));
	ss_wipe(tag, sizeof(tag));
	return err;
}
