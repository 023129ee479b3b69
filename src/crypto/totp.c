/* totp: RFC 6238 time-based one-time passwords over HMAC-SHA1 (see totp.h). */
#include "crypto/totp.h"

#include "base/mem.h"
#include "crypto/crypto.h"

/* floor(t / SS_TOTP_STEP), which C's division is not for negative t. */
static int64_t step_of(int64_t t)
{
	int64_t q = t / SS_TOTP_STEP;

	return (t % SS_TOTP_STEP < 0) ? q - 1 : q;
}

/* RFC 4226 5.3: HOTP of the 8-byte big-endian counter, dynamically truncated to 6 digits. */
static uint32_t hotp(const uint8_t secret[SS_TOTP_SECRET_LEN], int64_t counter)
{
	uint8_t msg[8], mac[SS_SHA1_LEN];
	uint64_t c = (uint64_t)counter;
	uint32_t bin;

	for (int i = 7; i >= 0; i--, c >>= 8)
		msg[i] = (uint8_t)c;
	ss_hmac_sha1(secret, SS_TOTP_SECRET_LEN, msg, sizeof(msg), mac);
	unsigned off = mac[SS_SHA1_LEN - 1] & 0x0f;
	bin = (uint32_t)(mac[off] & 0x7f) << 24 | (uint32_t)mac[off + 1] << 16 | (uint32_t)mac[off + 2] << 8 |
	      (uint32_t)mac[off + 3];
	ss_wipe(mac, sizeof(mac));
	return bin % 1000000;
}

uint32_t ss_totp_code(const uint8_t secret[SS_TOTP_SECRET_LEN], int64_t t)
{
	return hotp(secret, step_of(t));
}

bool ss_totp_check(const uint8_t secret[SS_TOTP_SECRET_LEN], int64_t t, const char *otp, int64_t last_used_step,
                   int64_t *step)
{
	uint32_t want = 0;
	int64_t now = step_of(t), found = -1;
	bool ok = false;

	if (!otp)
		return false;
	for (int i = 0; i < SS_TOTP_DIGITS; i++) {
		if (otp[i] < '0' || otp[i] > '9')
			return false;
		want = want * 10 + (uint32_t)(otp[i] - '0');
	}
	if (otp[SS_TOTP_DIGITS] != '\0')
		return false;
	/*
	 * Every step of the window is computed, so the time taken does not tell
	 * which one matched. If two steps give the same code, the later one is
	 * reported: recording the earlier would let the same six digits be
	 * accepted again for the later step.
	 */
	for (int64_t s = now - 1; s <= now + 1; s++) {
		bool match = hotp(secret, s) == want;

		if (match && s > last_used_step) {
			ok = true;
			found = s;
		}
	}
	if (ok && step)
		*step = found;
	return ok;
}
