/*
 * password: password hashing with argon2id (libargon2's only includer).
 *
 * Hashes are PHC strings ("$argon2id$v=19$m=...,t=...,p=...$salt$hash") that
 * carry their own parameters, so parameters can be raised later without
 * breaking stored hashes. Thread-safe. Each call costs tens of milliseconds
 * and about 19 MiB of memory by design, and runs on a thread of the lowest
 * priority (base/lowprio.h) while the caller waits: anyone can ask for one.
 */
#ifndef SS_CRYPTO_PASSWORD_H
#define SS_CRYPTO_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"

#define SS_PASSWORD_HASH_MAX 128

/* Hashes a password with a fresh random salt into out (NUL-terminated PHC string). */
enum ss_err ss_password_hash(const char *password, size_t n, char out[SS_PASSWORD_HASH_MAX]) SS_MUST;

/*
 * True if password matches the PHC string hash; false for a wrong password or a
 * malformed hash. Without running argon2 it refuses anything but
 * "$argon2id$v=19$", strings of SS_PASSWORD_HASH_MAX characters or more, and
 * parameters above 1 GiB of memory, 64 passes or 16 lanes, so a tampered
 * stored hash cannot make one log-in exhaust the machine.
 */
bool ss_password_verify(const char *hash, const char *password, size_t n);

#endif
