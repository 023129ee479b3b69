/*
 * fuzz_code: libFuzzer target for ss_code_open() over arbitrary bytes, with a
 * fixed key ring (code key 1 current, code key 2 still active, data key 3).
 * Whatever opens must be exactly a code (SS_CODE_LEN characters, the version
 * character, then base32) made with a code key of the ring, and its claims
 * issued again must open to the same claims; whatever is refused must leave
 * zeroed claims. The corpus holds a valid code under key 1 of this ring.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "crypto/code.h"
#include "crypto/crypto.h"
#include "crypto/keyring.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct ss_keyring *ring(void)
{
	static struct ss_keyring *kr;
	if (!kr) {
		static const uint8_t master[32] = {1, 2, 3}, one[32] = {1}, two[32] = {2}, three[32] = {3};
		if (ss_crypto_init() != SS_OK)
			abort();
		kr = ss_keyring_new(master);
		ss_keyring_add(kr, 2, SS_KEY_CODE, two, SS_KEY_CURRENT);
		ss_keyring_add(kr, 1, SS_KEY_CODE, one, SS_KEY_CURRENT); /* demotes key 2 to active */
		ss_keyring_add(kr, 3, SS_KEY_DATA, three, SS_KEY_CURRENT);
	}
	return kr;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char base32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
	struct ss_keyring *kr = ring();
	struct ss_code_claims c, again;
	char code[SS_CODE_LEN + 1];

	memset(&c, 0xa5, sizeof(c));
	/* libFuzzer's buffer has exactly size bytes, so ASan catches any read past it */
	if (ss_code_open(kr, (const char *)data, size, &c) != SS_OK) {
		static const struct ss_code_claims zero;
		if (memcmp(&c, &zero, sizeof(c)) != 0)
			abort();
		return 0;
	}
	if (size != SS_CODE_LEN || data[0] != SS_CODE_VERSION)
		abort();
	for (size_t i = 1; i < size; i++)
		if (!data[i] || !strchr(base32, data[i]))
			abort();
	if (c.key_id != 1 && c.key_id != 2)
		abort();
	if (c.issued_at < 0 || c.issued_at > (int64_t)UINT32_MAX)
		abort();
	if (ss_code_issue(kr, c.person_id, c.presenter_id, c.issued_at, code) != SS_OK)
		abort();
	if (ss_code_open(kr, code, strlen(code), &again) != SS_OK || again.key_id != 1 ||
	    again.person_id != c.person_id || again.presenter_id != c.presenter_id || again.issued_at != c.issued_at)
		abort();
	/* another code of the same claims has another fingerprint; the same code keeps its own */
	if (!c.fingerprint || again.fingerprint == c.fingerprint)
		abort();
	if (ss_code_open(kr, (const char *)data, size, &again) != SS_OK || again.fingerprint != c.fingerprint)
		abort();
	return 0;
}
