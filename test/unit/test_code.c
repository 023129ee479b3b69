/* Unit tests of residents' codes (src/crypto/code.c): format, round trips, tampering, key rotation. */
#include <ctype.h>
#include <string.h>

#include "check.h"
#include "crypto/code.h"
#include "crypto/crypto.h"
#include "crypto/keyring.h"

#define NOW INT64_C(1795680000) /* 2026-11-26T08:00:00Z */

static const uint8_t master[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
static const char base32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
static const char qr_alnum[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";

/* A ring with code key 1 current (and a data key 3, which must not open codes). */
static struct ss_keyring *ring(void)
{
	uint8_t code[32] = {11}, data[32] = {12};
	struct ss_keyring *kr = ss_keyring_new(master);
	ss_keyring_add(kr, 1, SS_KEY_CODE, code, SS_KEY_CURRENT);
	ss_keyring_add(kr, 3, SS_KEY_DATA, data, SS_KEY_CURRENT);
	return kr;
}

static enum ss_err open_str(const struct ss_keyring *kr, const char *code, struct ss_code_claims *c)
{
	return ss_code_open(kr, code, strlen(code), c);
}

static void test_round_trip(void)
{
	struct ss_keyring *kr = ring();
	char code[SS_CODE_LEN + 1];
	struct ss_code_claims c;
	CHECK(ss_code_issue(kr, 4242, 0, NOW, code) == SS_OK);
	CHECK(open_str(kr, code, &c) == SS_OK);
	CHECK(c.key_id == 1);
	CHECK(c.person_id == 4242);
	CHECK(c.presenter_id == 0);
	CHECK(c.issued_at == NOW);
	ss_keyring_free(kr);
}

static void test_extremes_round_trip(void)
{
	struct ss_keyring *kr = ring();
	char code[SS_CODE_LEN + 1];
	struct ss_code_claims c;
	CHECK(ss_code_issue(kr, UINT32_MAX, UINT32_MAX, UINT32_MAX, code) == SS_OK);
	CHECK(open_str(kr, code, &c) == SS_OK);
	CHECK(c.person_id == UINT32_MAX && c.presenter_id == UINT32_MAX && c.issued_at == (int64_t)UINT32_MAX);
	CHECK(ss_code_issue(kr, 0, 0, 0, code) == SS_OK);
	CHECK(open_str(kr, code, &c) == SS_OK);
	CHECK(c.person_id == 0 && c.presenter_id == 0 && c.issued_at == 0);
	/* times a uint32 cannot carry are refused, not wrapped */
	CHECK(ss_code_issue(kr, 1, 0, -1, code) == SS_INVALID);
	CHECK(ss_code_issue(kr, 1, 0, (int64_t)UINT32_MAX + 1, code) == SS_INVALID);
	ss_keyring_free(kr);
}

static void test_format(void)
{
	struct ss_keyring *kr = ring();
	char code[SS_CODE_LEN + 1];
	for (int i = 0; i < 200; i++) {
		CHECK(ss_code_issue(kr, (uint32_t)i, 0, NOW, code) == SS_OK);
		CHECK(strlen(code) == 56);
		CHECK(code[0] == SS_CODE_VERSION);
		for (size_t k = 0; k < strlen(code); k++)
			CHECK(strchr(qr_alnum, code[k]) != NULL);
		for (size_t k = 1; k < strlen(code); k++)
			CHECK(strchr(base32, code[k]) != NULL);
	}
	ss_keyring_free(kr);
}

/* Codes of one holder and second differ, and so do their fingerprints (what tells one from another in a scan row). */
static void test_same_second_differ(void)
{
	struct ss_keyring *kr = ring();
	enum { N = 64 };
	char codes[N][SS_CODE_LEN + 1];
	uint64_t fp[N];
	struct ss_code_claims c;
	for (int i = 0; i < N; i++) {
		CHECK(ss_code_issue(kr, 7, 0, NOW, codes[i]) == SS_OK);
		CHECK(open_str(kr, codes[i], &c) == SS_OK && c.issued_at == NOW);
		fp[i] = c.fingerprint;
		CHECK(fp[i] != 0);
		CHECK(open_str(kr, codes[i], &c) == SS_OK && c.fingerprint == fp[i]); /* a code keeps its own */
	}
	for (int i = 0; i < N; i++)
		for (int j = i + 1; j < N; j++)
			CHECK(strcmp(codes[i], codes[j]) != 0 && fp[i] != fp[j]);
	ss_keyring_free(kr);
}

static void test_every_substitution_refused(void)
{
	struct ss_keyring *kr = ring();
	char code[SS_CODE_LEN + 1], bad[SS_CODE_LEN + 1];
	struct ss_code_claims c;
	int refused = 0, tried = 0;
	CHECK(ss_code_issue(kr, 99, 5, NOW, code) == SS_OK);
	for (size_t i = 1; i < SS_CODE_LEN; i++) {
		for (const char *b = base32; *b; b++) {
			if (*b == code[i])
				continue;
			memcpy(bad, code, sizeof(bad));
			bad[i] = *b;
			tried++;
			c.person_id = 1;
			if (open_str(kr, bad, &c) == SS_INVALID && c.person_id == 0)
				refused++;
		}
	}
	CHECK(tried == 55 * 31);
	CHECK(refused == tried);
	/* the version character, replaced by every other byte */
	for (int v = 1; v < 256; v++) {
		if (v == SS_CODE_VERSION)
			continue;
		memcpy(bad, code, sizeof(bad));
		bad[0] = (char)v;
		CHECK(ss_code_open(kr, bad, SS_CODE_LEN, &c) == SS_INVALID);
	}
	/* and the original still opens */
	CHECK(open_str(kr, code, &c) == SS_OK && c.person_id == 99 && c.presenter_id == 5);
	ss_keyring_free(kr);
}

static void test_non_alphabet_refused(void)
{
	struct ss_keyring *kr = ring();
	char code[SS_CODE_LEN + 1], bad[SS_CODE_LEN + 1];
	struct ss_code_claims c;
	CHECK(ss_code_issue(kr, 99, 0, NOW, code) == SS_OK);
	/* every byte that is not a base32 character, in every position after the version */
	for (size_t i = 1; i < SS_CODE_LEN; i++) {
		for (int v = 0; v < 256; v++) {
			if (v && strchr(base32, v))
				continue;
			memcpy(bad, code, sizeof(bad));
			bad[i] = (char)v;
			CHECK(ss_code_open(kr, bad, SS_CODE_LEN, &c) == SS_INVALID);
		}
	}
	ss_keyring_free(kr);
}

static void test_truncated_and_extended(void)
{
	struct ss_keyring *kr = ring();
	char code[SS_CODE_LEN + 1], longer[SS_CODE_LEN + 3];
	struct ss_code_claims c;
	CHECK(ss_code_issue(kr, 99, 0, NOW, code) == SS_OK);
	for (size_t n = 0; n < SS_CODE_LEN; n++)
		CHECK(ss_code_open(kr, code, n, &c) == SS_INVALID);
	/* the suffix, too: dropping the version character */
	CHECK(ss_code_open(kr, code + 1, SS_CODE_LEN - 1, &c) == SS_INVALID);
	CHECK(ss_code_open(kr, NULL, 0, &c) == SS_INVALID);
	for (const char *b = base32; *b; b++) {
		memcpy(longer, code, SS_CODE_LEN);
		longer[SS_CODE_LEN] = *b;
		longer[SS_CODE_LEN + 1] = 'A';
		CHECK(ss_code_open(kr, longer, SS_CODE_LEN + 1, &c) == SS_INVALID);
		CHECK(ss_code_open(kr, longer, SS_CODE_LEN + 2, &c) == SS_INVALID);
	}
	/* white space and a NUL counted in n are the caller's to trim */
	const char *tails[] = {" ", "\n", "\r\n", "\0"};
	for (size_t i = 0; i < sizeof(tails) / sizeof(tails[0]); i++) {
		size_t t = strlen(tails[i]) ? strlen(tails[i]) : 1;
		memcpy(longer, code, SS_CODE_LEN);
		memcpy(longer + SS_CODE_LEN, tails[i], t);
		CHECK(ss_code_open(kr, longer, SS_CODE_LEN + t, &c) == SS_INVALID);
	}
	longer[0] = ' ';
	memcpy(longer + 1, code, SS_CODE_LEN);
	CHECK(ss_code_open(kr, longer, SS_CODE_LEN + 1, &c) == SS_INVALID);
	ss_keyring_free(kr);
}

static void test_lowercase_refused(void)
{
	struct ss_keyring *kr = ring();
	char code[SS_CODE_LEN + 1], low[SS_CODE_LEN + 1];
	struct ss_code_claims c;
	int letters = 0;
	CHECK(ss_code_issue(kr, 99, 0, NOW, code) == SS_OK);
	for (size_t i = 0; i <= SS_CODE_LEN; i++)
		low[i] = (char)tolower((unsigned char)code[i]);
	CHECK(open_str(kr, low, &c) == SS_INVALID);
	for (size_t i = 1; i < SS_CODE_LEN; i++) {
		if (!isupper((unsigned char)code[i]))
			continue;
		letters++;
		memcpy(low, code, sizeof(low));
		low[i] = (char)tolower((unsigned char)low[i]);
		CHECK(open_str(kr, low, &c) == SS_INVALID);
	}
	CHECK(letters > 0);
	ss_keyring_free(kr);
}

static void test_removed_key(void)
{
	struct ss_keyring *kr = ring();
	char code[SS_CODE_LEN + 1];
	struct ss_code_claims c;
	CHECK(ss_code_issue(kr, 99, 0, NOW, code) == SS_OK);
	CHECK(open_str(kr, code, &c) == SS_OK);
	ss_keyring_remove(kr, 1);
	CHECK(open_str(kr, code, &c) == SS_INVALID);
	/* with no code key left, nothing can be issued */
	CHECK(ss_code_issue(kr, 99, 0, NOW, code) == SS_INTERNAL);
	ss_keyring_free(kr);
}

static void test_rotation(void)
{
	struct ss_keyring *kr = ring();
	uint8_t second[32] = {13};
	char old[SS_CODE_LEN + 1], fresh[SS_CODE_LEN + 1];
	struct ss_code_claims c;
	CHECK(ss_code_issue(kr, 99, 0, NOW, old) == SS_OK);
	ss_keyring_add(kr, 2, SS_KEY_CODE, second, SS_KEY_CURRENT);
	CHECK(open_str(kr, old, &c) == SS_OK && c.key_id == 1 && c.person_id == 99);
	CHECK(ss_code_issue(kr, 100, 0, NOW, fresh) == SS_OK);
	CHECK(open_str(kr, fresh, &c) == SS_OK && c.key_id == 2 && c.person_id == 100);
	/* the key id is in clear: 0x0002 is the first 15 bits of "AAB" */
	CHECK(strncmp(fresh, "1AAB", 4) == 0);
	ss_keyring_remove(kr, 1);
	CHECK(open_str(kr, old, &c) == SS_INVALID);
	CHECK(open_str(kr, fresh, &c) == SS_OK);
	ss_keyring_free(kr);
}

static void test_other_keys_refused(void)
{
	struct ss_keyring *kr = ring();
	char code[SS_CODE_LEN + 1];
	struct ss_code_claims c;
	CHECK(ss_code_issue(kr, 99, 0, NOW, code) == SS_OK);

	/* the same key id with another secret */
	uint8_t other_secret[32] = {14};
	struct ss_keyring *other = ss_keyring_new(master);
	ss_keyring_add(other, 1, SS_KEY_CODE, other_secret, SS_KEY_CURRENT);
	CHECK(open_str(other, code, &c) == SS_INVALID);
	ss_keyring_free(other);

	/* the same secret under id 1 but with the purpose "data" */
	uint8_t code_secret[32] = {11};
	other = ss_keyring_new(master);
	ss_keyring_add(other, 1, SS_KEY_DATA, code_secret, SS_KEY_CURRENT);
	CHECK(open_str(other, code, &c) == SS_INVALID);
	ss_keyring_free(other);

	/* a code key whose id does not fit the code's 16 bits cannot issue */
	other = ss_keyring_new(master);
	ss_keyring_add(other, 0x10000, SS_KEY_CODE, code_secret, SS_KEY_CURRENT);
	CHECK(ss_code_issue(other, 99, 0, NOW, code) == SS_INTERNAL);
	ss_keyring_free(other);
	ss_keyring_free(kr);
}

static void test_presenter_round_trip(void)
{
	struct ss_keyring *kr = ring();
	char code[SS_CODE_LEN + 1];
	struct ss_code_claims c;
	CHECK(ss_code_issue(kr, 501, 77, NOW + 30, code) == SS_OK);
	CHECK(open_str(kr, code, &c) == SS_OK);
	CHECK(c.person_id == 501 && c.presenter_id == 77 && c.issued_at == NOW + 30);
	ss_keyring_free(kr);
}

int main(void)
{
	if (ss_crypto_init() != SS_OK)
		return 1;
	RUN(test_round_trip);
	RUN(test_extremes_round_trip);
	RUN(test_format);
	RUN(test_same_second_differ);
	RUN(test_every_substitution_refused);
	RUN(test_non_alphabet_refused);
	RUN(test_truncated_and_extended);
	RUN(test_lowercase_refused);
	RUN(test_removed_key);
	RUN(test_rotation);
	RUN(test_other_keys_refused);
	RUN(test_presenter_round_trip);
	return check_done();
}
