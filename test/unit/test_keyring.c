/* Unit tests of the key ring (src/crypto/keyring.c): wrapping, sealing, rotation, blind indexes. */
#include <string.h>

#include "check.h"
#include "crypto/crypto.h"
#include "crypto/keyring.h"

static const uint8_t master[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};

static struct ss_keyring *ring(void)
{
	uint8_t data[32] = {42}, index[32] = {7};
	struct ss_keyring *kr = ss_keyring_new(master);
	ss_keyring_add(kr, 1, SS_KEY_DATA, data, SS_KEY_CURRENT);
	ss_keyring_add(kr, 2, SS_KEY_INDEX, index, SS_KEY_CURRENT);
	return kr;
}

static void test_wrap_round_trip(void)
{
	struct ss_keyring *kr = ss_keyring_new(master);
	uint8_t secret[32], wrapped[SS_KEY_WRAPPED_LEN], back[32];
	memset(secret, 0xab, sizeof(secret));
	ss_keyring_wrap(kr, SS_KEY_CODE, secret, wrapped);
	CHECK(memmem(wrapped, sizeof(wrapped), secret, 8) == NULL);
	CHECK(ss_keyring_unwrap(kr, SS_KEY_CODE, wrapped, sizeof(wrapped), back) == SS_OK);
	CHECK(memcmp(back, secret, 32) == 0);
	/* the purpose is bound in */
	CHECK(ss_keyring_unwrap(kr, SS_KEY_DATA, wrapped, sizeof(wrapped), back) == SS_INVALID);
	/* a flipped bit anywhere is refused */
	for (size_t i = 0; i < sizeof(wrapped); i++) {
		wrapped[i] ^= 1;
		CHECK(ss_keyring_unwrap(kr, SS_KEY_CODE, wrapped, sizeof(wrapped), back) == SS_INVALID);
		wrapped[i] ^= 1;
	}
	ss_keyring_free(kr);
}

static void test_wrong_master(void)
{
	uint8_t other[32] = {9};
	struct ss_keyring *a = ss_keyring_new(master), *b = ss_keyring_new(other);
	uint8_t secret[32] = {5}, wrapped[SS_KEY_WRAPPED_LEN], back[32], ca[32], cb[32];
	ss_keyring_wrap(a, SS_KEY_DATA, secret, wrapped);
	CHECK(ss_keyring_unwrap(b, SS_KEY_DATA, wrapped, sizeof(wrapped), back) == SS_INVALID);
	ss_keyring_master_check(a, ca);
	ss_keyring_master_check(b, cb);
	CHECK(memcmp(ca, cb, 32) != 0);
	ss_keyring_free(a);
	ss_keyring_free(b);
}

static void test_seal_open(void)
{
	struct ss_keyring *kr = ring();
	const char msg[] = "张三\0"
	                   "310101199001011234";
	uint8_t blob[sizeof(msg) + SS_SEAL_OVERHEAD], out[sizeof(msg)];
	size_t n;
	CHECK(ss_keyring_seal(kr, "citizen", msg, sizeof(msg), blob) == SS_OK);
	CHECK(memmem(blob, sizeof(blob), "310101", 6) == NULL);
	CHECK(ss_keyring_sealed_key_id(blob, sizeof(blob)) == 1);
	CHECK(ss_keyring_open(kr, "citizen", blob, sizeof(blob), out, &n) == SS_OK);
	CHECK(n == sizeof(msg) && memcmp(out, msg, n) == 0);
	/* another use does not open it */
	CHECK(ss_keyring_open(kr, "person", blob, sizeof(blob), out, &n) == SS_INVALID);
	/* tampering anywhere is caught */
	for (size_t i = 0; i < sizeof(blob); i++) {
		blob[i] ^= 0x80;
		CHECK(ss_keyring_open(kr, "citizen", blob, sizeof(blob), out, &n) == SS_INVALID);
		blob[i] ^= 0x80;
	}
	/* too short */
	CHECK(ss_keyring_open(kr, "citizen", blob, SS_SEAL_OVERHEAD - 1, out, &n) == SS_INVALID);
	ss_keyring_free(kr);
}

static void test_two_seals_differ(void)
{
	struct ss_keyring *kr = ring();
	uint8_t a[4 + SS_SEAL_OVERHEAD], b[4 + SS_SEAL_OVERHEAD];
	CHECK(ss_keyring_seal(kr, "x", "abcd", 4, a) == SS_OK);
	CHECK(ss_keyring_seal(kr, "x", "abcd", 4, b) == SS_OK);
	CHECK(memcmp(a, b, sizeof(a)) != 0);
	ss_keyring_free(kr);
}

static void test_rotation_keeps_old(void)
{
	struct ss_keyring *kr = ring();
	uint8_t blob[3 + SS_SEAL_OVERHEAD], out[3], next[32] = {99};
	size_t n;
	CHECK(ss_keyring_seal(kr, "x", "old", 3, blob) == SS_OK);
	ss_keyring_add(kr, 3, SS_KEY_DATA, next, SS_KEY_CURRENT);
	CHECK(ss_keyring_current_id(kr, SS_KEY_DATA) == 3);
	CHECK(ss_keyring_open(kr, "x", blob, sizeof(blob), out, &n) == SS_OK && memcmp(out, "old", 3) == 0);
	uint8_t blob2[3 + SS_SEAL_OVERHEAD];
	CHECK(ss_keyring_seal(kr, "x", "new", 3, blob2) == SS_OK);
	CHECK(ss_keyring_sealed_key_id(blob2, sizeof(blob2)) == 3);
	ss_keyring_remove(kr, 1);
	CHECK(ss_keyring_open(kr, "x", blob, sizeof(blob), out, &n) == SS_INVALID);
	ss_keyring_free(kr);
}

/* A re-seal moves a blob to the current key whole: same size, same clear text, same use, in place if asked. */
static void test_reseal(void)
{
	struct ss_keyring *kr = ring();
	uint8_t blob[5 + SS_SEAL_OVERHEAD], copy[sizeof(blob)], out[5], next[32] = {99};
	size_t n;
	CHECK(ss_keyring_seal(kr, "person", "hello", 5, blob) == SS_OK);
	memcpy(copy, blob, sizeof(blob));
	ss_keyring_add(kr, 3, SS_KEY_DATA, next, SS_KEY_CURRENT);
	CHECK(ss_keyring_reseal(kr, "person", blob, sizeof(blob), blob) == SS_OK);
	CHECK(ss_keyring_sealed_key_id(blob, sizeof(blob)) == 3);
	ss_keyring_remove(kr, 1);
	CHECK(ss_keyring_open(kr, "person", blob, sizeof(blob), out, &n) == SS_OK && n == 5 &&
	      !memcmp(out, "hello", 5));
	CHECK(ss_keyring_open(kr, "citizen", blob, sizeof(blob), out, &n) == SS_INVALID);
	/* what does not open (a key not in the ring, another use, an altered byte) is left as it was */
	uint8_t before[sizeof(copy)];
	memcpy(before, copy, sizeof(copy));
	CHECK(ss_keyring_reseal(kr, "person", copy, sizeof(copy), copy) == SS_INVALID);
	CHECK(memcmp(before, copy, sizeof(copy)) == 0);
	CHECK(ss_keyring_reseal(kr, "citizen", blob, sizeof(blob), copy) == SS_INVALID);
	blob[sizeof(blob) - 1] ^= 1;
	CHECK(ss_keyring_reseal(kr, "person", blob, sizeof(blob), copy) == SS_INVALID);
	ss_keyring_free(kr);
}

/* After ss_keyring_set_master the ring wraps under the new key, opens only what it wraps, and says so by its check. */
static void test_set_master(void)
{
	uint8_t other[32] = {9}, secret[32] = {5}, wrapped[SS_KEY_WRAPPED_LEN], back[32], c1[32], c2[32];
	struct ss_keyring *kr = ss_keyring_new(master), *fresh = ss_keyring_new(other);
	ss_keyring_wrap(kr, SS_KEY_CODE, secret, wrapped);
	ss_keyring_master_check(kr, c1);
	ss_keyring_set_master(kr, other);
	ss_keyring_master_check(kr, c2);
	CHECK(memcmp(c1, c2, 32) != 0);
	ss_keyring_master_check(fresh, c1);
	CHECK(memcmp(c1, c2, 32) == 0);
	CHECK(ss_keyring_unwrap(kr, SS_KEY_CODE, wrapped, sizeof(wrapped), back) == SS_INVALID);
	ss_keyring_wrap(kr, SS_KEY_CODE, secret, wrapped);
	CHECK(ss_keyring_unwrap(fresh, SS_KEY_CODE, wrapped, sizeof(wrapped), back) == SS_OK &&
	      !memcmp(back, secret, 32));
	ss_keyring_free(kr);
	ss_keyring_free(fresh);
}

static void test_reload_never_leaves_no_current(void)
{
	/* a reload after a rotation meets the old key, now active, before the new current one */
	struct ss_keyring *kr = ring();
	uint8_t same[32] = {42}, next[32] = {77};
	ss_keyring_add(kr, 1, SS_KEY_DATA, same, SS_KEY_ACTIVE);
	CHECK(ss_keyring_current_id(kr, SS_KEY_DATA) == 1);
	ss_keyring_add(kr, 5, SS_KEY_DATA, next, SS_KEY_CURRENT);
	CHECK(ss_keyring_current_id(kr, SS_KEY_DATA) == 5);
	ss_keyring_free(kr);
}

static void test_blind_index(void)
{
	struct ss_keyring *kr = ring();
	uint8_t a[32], b[32], c[32];
	ss_keyring_blind(kr, "id_number", "310101199001011234", 18, a);
	ss_keyring_blind(kr, "id_number", "310101199001011234", 18, b);
	ss_keyring_blind(kr, "id_number", "310101199001011235", 18, c);
	CHECK(memcmp(a, b, 32) == 0);
	CHECK(memcmp(a, c, 32) != 0);
	ss_keyring_blind(kr, "phone", "310101199001011234", 18, c);
	CHECK(memcmp(a, c, 32) != 0);
	ss_keyring_free(kr);
}

static void test_names(void)
{
	enum ss_key_purpose p;
	enum ss_key_state s;
	CHECK(ss_key_purpose_parse("code", &p) && p == SS_KEY_CODE);
	CHECK(!ss_key_purpose_parse("codes", &p));
	CHECK(ss_key_state_parse("retired", &s) && s == SS_KEY_RETIRED);
	CHECK(ss_key_state_parse("retiring", &s) && s == SS_KEY_RETIRING);
	CHECK_STR(ss_key_state_name(SS_KEY_RETIRING), "retiring");
	CHECK_STR(ss_key_purpose_name(SS_KEY_INDEX), "index");
}

int main(void)
{
	if (ss_crypto_init() != SS_OK)
		return 1;
	RUN(test_wrap_round_trip);
	RUN(test_wrong_master);
	RUN(test_seal_open);
	RUN(test_two_seals_differ);
	RUN(test_rotation_keeps_old);
	RUN(test_reseal);
	RUN(test_set_master);
	RUN(test_reload_never_leaves_no_current);
	RUN(test_blind_index);
	RUN(test_names);
	return check_done();
}
