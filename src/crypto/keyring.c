/* keyring: keys by id and purpose; sealing, blind indexes, wrapping (see keyring.h). */
#include "crypto/keyring.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/str.h"

#include "base/log.h"
#include "base/mem.h"
#include "crypto/crypto.h"

#define TAG_LEN 16
#define VERSION 1

struct key {
	uint32_t id;
	enum ss_key_purpose purpose;
	enum ss_key_state state;
	uint8_t secret[SS_KEY_LEN];
	uint8_t enc[16];
	uint8_t mac[32];
};

struct ss_keyring {
	pthread_rwlock_t lock;
	struct key master; /* id 0: wraps the others */
	uint8_t check[32];
	struct key *keys;
	size_t nkeys, cap;
};

static const char *const purpose_names[] = {"code", "data", "index"};
static const char *const state_names[] = {"current", "active", "retiring", "retired"};

const char *ss_key_purpose_name(enum ss_key_purpose p)
{
	return p < SS_KEY_PURPOSES ? purpose_names[p] : "unknown";
}

const char *ss_key_state_name(enum ss_key_state s)
{
	return s <= SS_KEY_RETIRED ? state_names[s] : "unknown";
}

bool ss_key_purpose_parse(const char *name, enum ss_key_purpose *out)
{
	for (int i = 0; i < SS_KEY_PURPOSES; i++)
		if (!strcmp(name, purpose_names[i]))
			return *out = (enum ss_key_purpose)i, true;
	return false;
}

bool ss_key_state_parse(const char *name, enum ss_key_state *out)
{
	for (int i = 0; i <= SS_KEY_RETIRED; i++)
		if (!strcmp(name, state_names[i]))
			return *out = (enum ss_key_state)i, true;
	return false;
}

static void derive(struct key *k)
{
	uint8_t out[32];
	ss_hmac_sm3(k->secret, SS_KEY_LEN, "suishen enc", 11, out);
	memcpy(k->enc, out, 16);
	ss_hmac_sm3(k->secret, SS_KEY_LEN, "suishen mac", 11, k->mac);
	ss_wipe(out, sizeof(out));
}

static void set_master(struct ss_keyring *kr, const uint8_t master[SS_MASTER_KEY_LEN])
{
	memcpy(kr->master.secret, master, SS_KEY_LEN);
	derive(&kr->master);
	ss_hmac_sm3(master, SS_MASTER_KEY_LEN, "suishen master key check v1", 27, kr->check);
}

struct ss_keyring *ss_keyring_new(const uint8_t master[SS_MASTER_KEY_LEN])
{
	struct ss_keyring *kr = ss_calloc(1, sizeof(*kr));
	pthread_rwlock_init(&kr->lock, NULL);
	set_master(kr, master);
	return kr;
}

void ss_keyring_free(struct ss_keyring *kr)
{
	if (!kr)
		return;
	ss_free_secret(kr->keys, kr->cap * sizeof(*kr->keys));
	pthread_rwlock_destroy(&kr->lock);
	ss_free_secret(kr, sizeof(*kr));
}

void ss_keyring_master_check(const struct ss_keyring *kr, uint8_t out[32])
{
	struct ss_keyring *w = (struct ss_keyring *)kr;
	pthread_rwlock_rdlock(&w->lock);
	memcpy(out, kr->check, 32);
	pthread_rwlock_unlock(&w->lock);
}

void ss_keyring_set_master(struct ss_keyring *kr, const uint8_t master[SS_MASTER_KEY_LEN])
{
	pthread_rwlock_wrlock(&kr->lock);
	set_master(kr, master);
	pthread_rwlock_unlock(&kr->lock);
}

/* Seals with key k: the layout of keyring.h. */
static enum ss_err seal_with(const struct key *k, const char *ad, const void *plain, size_t n, uint8_t *out)
{
	uint8_t tag[32];
	out[0] = VERSION;
	out[1] = (uint8_t)(k->id >> 24), out[2] = (uint8_t)(k->id >> 16);
	out[3] = (uint8_t)(k->id >> 8), out[4] = (uint8_t)k->id;
	enum ss_err err = ss_random(out + 5, 16);
	if (err)
		return err;
	ss_sm4_ctr(k->enc, out + 5, plain, n, out + 21);
	struct ss_iov parts[] = {{ad, strlen(ad) + 1}, {out, 21 + n}};
	ss_hmac_sm3_v(k->mac, sizeof(k->mac), parts, 2, tag);
	memcpy(out + 21 + n, tag, TAG_LEN);
	return SS_OK;
}

static enum ss_err open_with(const struct key *k, const char *ad, const uint8_t *blob, size_t n, uint8_t *out,
                             size_t *outlen)
{
	uint8_t tag[32];
	size_t len = n - SS_SEAL_OVERHEAD;
	struct ss_iov parts[] = {{ad, strlen(ad) + 1}, {blob, 21 + len}};
	ss_hmac_sm3_v(k->mac, sizeof(k->mac), parts, 2, tag);
	if (!ss_ct_equal(tag, blob + 21 + len, TAG_LEN))
		return ss_fail(SS_INVALID, NULL, "sealed data does not authenticate");
	ss_sm4_ctr(k->enc, blob + 5, blob + 21, len, out);
	*outlen = len;
	return SS_OK;
}

void ss_keyring_wrap(const struct ss_keyring *kr, enum ss_key_purpose purpose, const uint8_t secret[SS_KEY_LEN],
                     uint8_t out[SS_KEY_WRAPPED_LEN])
{
	struct ss_keyring *w = (struct ss_keyring *)kr;
	char ad[32];
	snprintf(ad, sizeof(ad), "key:%s", ss_key_purpose_name(purpose));
	pthread_rwlock_rdlock(&w->lock);
	enum ss_err err = seal_with(&kr->master, ad, secret, SS_KEY_LEN, out);
	pthread_rwlock_unlock(&w->lock);
	if (err != SS_OK) {
		ss_log_error("keyring", "msg=\"cannot wrap a key: no randomness\"");
		abort();
	}
}

enum ss_err ss_keyring_unwrap(const struct ss_keyring *kr, enum ss_key_purpose purpose, const uint8_t *wrapped,
                              size_t n, uint8_t secret[SS_KEY_LEN])
{
	char ad[32];
	size_t len;
	if (n != SS_KEY_WRAPPED_LEN || wrapped[0] != VERSION)
		return ss_fail(SS_INVALID, NULL, "wrapped key has the wrong size or version");
	snprintf(ad, sizeof(ad), "key:%s", ss_key_purpose_name(purpose));
	struct ss_keyring *w = (struct ss_keyring *)kr;
	pthread_rwlock_rdlock(&w->lock);
	enum ss_err err = open_with(&kr->master, ad, wrapped, n, secret, &len);
	pthread_rwlock_unlock(&w->lock);
	return err;
}

static struct key *find(const struct ss_keyring *kr, uint32_t id)
{
	for (size_t i = 0; i < kr->nkeys; i++)
		if (kr->keys[i].id == id)
			return &kr->keys[i];
	return NULL;
}

static struct key *current(const struct ss_keyring *kr, enum ss_key_purpose purpose)
{
	for (size_t i = 0; i < kr->nkeys; i++)
		if (kr->keys[i].purpose == purpose && kr->keys[i].state == SS_KEY_CURRENT)
			return &kr->keys[i];
	return NULL;
}

void ss_keyring_add(struct ss_keyring *kr, uint32_t key_id, enum ss_key_purpose purpose,
                    const uint8_t secret[SS_KEY_LEN], enum ss_key_state state)
{
	pthread_rwlock_wrlock(&kr->lock);
	struct key *k = find(kr, key_id);
	if (!k) {
		if (kr->nkeys == kr->cap) {
			/* grow by copying, so the old array's secrets can be wiped */
			size_t cap = kr->cap ? kr->cap * 2 : 8;
			struct key *keys = ss_calloc(cap, sizeof(*keys));
			if (kr->nkeys)
				memcpy(keys, kr->keys, kr->nkeys * sizeof(*keys));
			ss_free_secret(kr->keys, kr->cap * sizeof(*kr->keys));
			kr->keys = keys;
			kr->cap = cap;
		}
		k = &kr->keys[kr->nkeys++];
	}
	if (state == SS_KEY_CURRENT) {
		struct key *old = current(kr, purpose);
		if (old && old != k)
			old->state = SS_KEY_ACTIVE;
	} else if (state == SS_KEY_ACTIVE && k->id == key_id && k->state == SS_KEY_CURRENT) {
		/* a reload meets the demoted key before its successor: it stays current until the successor comes */
		state = SS_KEY_CURRENT;
	}
	k->id = key_id;
	k->purpose = purpose;
	k->state = state;
	memcpy(k->secret, secret, SS_KEY_LEN);
	derive(k);
	pthread_rwlock_unlock(&kr->lock);
}

void ss_keyring_remove(struct ss_keyring *kr, uint32_t key_id)
{
	pthread_rwlock_wrlock(&kr->lock);
	struct key *k = find(kr, key_id);
	if (k) {
		size_t i = (size_t)(k - kr->keys);
		memmove(k, k + 1, (kr->nkeys - i - 1) * sizeof(*k));
		kr->nkeys--;
		ss_wipe(&kr->keys[kr->nkeys], sizeof(*k));
	}
	pthread_rwlock_unlock(&kr->lock);
}

bool ss_keyring_contains(const struct ss_keyring *kr, uint32_t key_id)
{
	struct ss_keyring *w = (struct ss_keyring *)kr;
	pthread_rwlock_rdlock(&w->lock);
	bool found = find(kr, key_id) != NULL;
	pthread_rwlock_unlock(&w->lock);
	return found;
}

bool ss_keyring_has(const struct ss_keyring *kr, enum ss_key_purpose purpose)
{
	return ss_keyring_current_id(kr, purpose) != 0;
}

uint32_t ss_keyring_current_id(const struct ss_keyring *kr, enum ss_key_purpose purpose)
{
	struct ss_keyring *w = (struct ss_keyring *)kr;
	pthread_rwlock_rdlock(&w->lock);
	struct key *k = current(kr, purpose);
	uint32_t id = k ? k->id : 0;
	pthread_rwlock_unlock(&w->lock);
	return id;
}

enum ss_err ss_keyring_seal(const struct ss_keyring *kr, const char *ad, const void *plain, size_t n, uint8_t *out)
{
	struct ss_keyring *w = (struct ss_keyring *)kr;
	enum ss_err err;
	pthread_rwlock_rdlock(&w->lock);
	struct key *k = current(kr, SS_KEY_DATA);
	if (k)
		err = seal_with(k, ad, plain, n, out);
	else
		err = ss_fail(SS_INTERNAL, NULL, "no current data key");
	pthread_rwlock_unlock(&w->lock);
	return err;
}

uint32_t ss_keyring_sealed_key_id(const uint8_t *blob, size_t n)
{
	if (n < SS_SEAL_OVERHEAD)
		return 0;
	return (uint32_t)blob[1] << 24 | (uint32_t)blob[2] << 16 | (uint32_t)blob[3] << 8 | blob[4];
}

enum ss_err ss_keyring_open(const struct ss_keyring *kr, const char *ad, const uint8_t *blob, size_t n, uint8_t *out,
                            size_t *outlen)
{
	struct ss_keyring *w = (struct ss_keyring *)kr;
	enum ss_err err;
	if (n < SS_SEAL_OVERHEAD || blob[0] != VERSION)
		return ss_fail(SS_INVALID, NULL, "sealed data is malformed");
	pthread_rwlock_rdlock(&w->lock);
	struct key *k = find(kr, ss_keyring_sealed_key_id(blob, n));
	if (k && k->purpose == SS_KEY_DATA)
		err = open_with(k, ad, blob, n, out, outlen);
	else
		err = ss_fail(SS_INVALID, NULL, "sealed with a key that is not in the key ring");
	pthread_rwlock_unlock(&w->lock);
	return err;
}

enum ss_err ss_keyring_reseal(const struct ss_keyring *kr, const char *ad, const uint8_t *blob, size_t n, uint8_t *out)
{
	struct ss_keyring *w = (struct ss_keyring *)kr;
	if (n < SS_SEAL_OVERHEAD || blob[0] != VERSION)
		return ss_fail(SS_INVALID, NULL, "sealed data is malformed");
	size_t len = 0;
	/* the clear text, then the new blob: out changes only once the whole of it is made */
	uint8_t *plain = ss_malloc(2 * n), *sealed = plain + n;
	enum ss_err err;
	/* one read lock for both halves: the current key cannot change between them */
	pthread_rwlock_rdlock(&w->lock);
	struct key *from = find(kr, ss_keyring_sealed_key_id(blob, n)), *to = current(kr, SS_KEY_DATA);
	if (!from || from->purpose != SS_KEY_DATA)
		err = ss_fail(SS_INVALID, NULL, "sealed with a key that is not in the key ring");
	else if (!to)
		err = ss_fail(SS_INTERNAL, NULL, "no current data key");
	else if (!(err = open_with(from, ad, blob, n, plain, &len)))
		err = seal_with(to, ad, plain, len, sealed);
	pthread_rwlock_unlock(&w->lock);
	if (!err)
		memcpy(out, sealed, n);
	ss_free_secret(plain, 2 * n);
	return err;
}

void ss_keyring_blind(const struct ss_keyring *kr, const char *domain, const void *data, size_t n,
                      uint8_t out[SS_BLIND_LEN])
{
	struct ss_keyring *w = (struct ss_keyring *)kr;
	pthread_rwlock_rdlock(&w->lock);
	struct key *k = current(kr, SS_KEY_INDEX);
	if (!k) {
		pthread_rwlock_unlock(&w->lock);
		ss_log_error("keyring", "msg=\"no index key: the data directory is not initialised\"");
		abort();
	}
	struct ss_iov parts[] = {{domain, strlen(domain) + 1}, {data, n}};
	ss_hmac_sm3_v(k->mac, sizeof(k->mac), parts, 2, out);
	pthread_rwlock_unlock(&w->lock);
}

bool ss_keyring_get(const struct ss_keyring *kr, uint32_t key_id, enum ss_key_purpose purpose, uint8_t enc[16],
                    uint8_t mac[32])
{
	struct ss_keyring *w = (struct ss_keyring *)kr;
	pthread_rwlock_rdlock(&w->lock);
	struct key *k = find(kr, key_id);
	bool ok = k && k->purpose == purpose;
	if (ok) {
		memcpy(enc, k->enc, 16);
		memcpy(mac, k->mac, 32);
	}
	pthread_rwlock_unlock(&w->lock);
	return ok;
}
