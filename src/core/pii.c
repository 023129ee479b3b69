/* pii: sealing personal fields and indexing ID numbers (see pii.h). */
#include "core/pii.h"

#include <string.h>

#include "base/log.h"
#include "base/mem.h"

void ss_pii_index(const struct ss_app *app, const char *id_number, uint8_t idx[SS_INDEX_LEN])
{
	ss_keyring_blind(app->keys, "id_number", id_number, strlen(id_number), idx);
}

enum ss_err ss_pii_seal(const struct ss_app *app, const char *ad, const char *const *fields, size_t n,
                        struct ss_arena *a, struct ss_blob *out)
{
	size_t len = 0;
	for (size_t i = 0; i < n; i++)
		len += strlen(fields[i]) + 1;
	char *plain = ss_arena_alloc(a, len ? len : 1);
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		size_t fl = strlen(fields[i]) + 1;
		memcpy(plain + o, fields[i], fl);
		o += fl;
	}
	uint8_t *blob = ss_arena_alloc(a, len + SS_SEAL_OVERHEAD);
	enum ss_err err = ss_keyring_seal(app->keys, ad, plain, len, blob);
	ss_wipe(plain, len);
	if (err)
		return err;
	*out = (struct ss_blob){blob, len + SS_SEAL_OVERHEAD};
	return SS_OK;
}

enum ss_err ss_pii_open_into(const struct ss_app *app, const char *ad, struct ss_blob blob, char *plain, size_t cap,
                             const char **fields, size_t n)
{
	size_t len = 0;
	if (blob.n < SS_SEAL_OVERHEAD || blob.n - SS_SEAL_OVERHEAD + 1 > cap)
		goto corrupt;
	if (ss_keyring_open(app->keys, ad, blob.p, blob.n, (uint8_t *)plain, &len))
		goto corrupt;
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		const char *end = o < len ? memchr(plain + o, '\0', len - o) : NULL;
		if (!end)
			goto corrupt;
		fields[i] = plain + o;
		o = (size_t)(end - plain) + 1;
	}
	if (o != len)
		goto corrupt;
	return SS_OK;
corrupt:
	ss_log_error("pii_unreadable", "use=%s key_id=%u", ad, ss_keyring_sealed_key_id(blob.p, blob.n));
	return ss_fail(SS_INTERNAL, NULL, "stored personal data cannot be read");
}

enum ss_err ss_pii_open(const struct ss_app *app, const char *ad, struct ss_blob blob, struct ss_arena *a,
                        const char **fields, size_t n)
{
	size_t cap = blob.n >= SS_SEAL_OVERHEAD ? blob.n - SS_SEAL_OVERHEAD + 1 : 1;
	return ss_pii_open_into(app, ad, blob, ss_arena_alloc(a, cap), cap, fields, n);
}
