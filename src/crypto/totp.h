/*
 * totp: time-based one-time passwords (RFC 6238 over RFC 4226): HMAC-SHA1,
 * 6 digits, 30-second steps, as every authenticator app expects by default.
 * Thread-safe; no allocation.
 */
#ifndef SS_CRYPTO_TOTP_H
#define SS_CRYPTO_TOTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SS_TOTP_SECRET_LEN 20
#define SS_TOTP_STEP       30
#define SS_TOTP_DIGITS     6

/* The 6-digit code (0..999999) for the 30-second step that contains unix time t. */
uint32_t ss_totp_code(const uint8_t secret[SS_TOTP_SECRET_LEN], int64_t t);

/*
 * Checks a 6-character decimal otp against the steps t-30s, t and t+30s (clock
 * drift). On a match writes the matching step number (t / 30) to step (which
 * may be NULL) and returns true; when two steps of the window give the same
 * code, the later step is reported. A step at or below last_used_step (the
 * last step already used) is refused, so a code can be used only once; pass -1
 * to accept any.
 */
bool ss_totp_check(const uint8_t secret[SS_TOTP_SECRET_LEN], int64_t t, const char *otp, int64_t last_used_step,
                   int64_t *step);

#endif
