/* audit: the tamper-evident audit log (see audit.h). */
#include "core/audit.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/mem.h"
#include "base/time.h"
#include "crypto/crypto.h"

#define CHAIN_DOMAIN      "suishen-audit-1"
#define CHECKPOINT_DOMAIN "suishen-audit-checkpoint-1"
#define KEY_AD            SS_AUDIT_KEY_USE
#define META_KEY          SS_AUDIT_KEY_META /* the private half, sealed */
#define META_PUB          "audit.pub"       /* the public half */
#define VERIFY_BATCH      10000

static const char *const actors[] = {[SS_ACTOR_SYSTEM] = "system",
                                     [SS_ACTOR_STAFF] = "staff",
                                     [SS_ACTOR_CITIZEN] = "citizen",
                                     [SS_ACTOR_TERMINAL] = "terminal",
                                     [SS_ACTOR_SOURCE] = "source"};

const char *ss_actor_name(enum ss_actor a)
{
	return (unsigned)a < sizeof(actors) / sizeof(actors[0]) ? actors[a] : "system";
}

bool ss_actor_parse(const char *name, enum ss_actor *out)
{
	for (size_t i = 0; i < sizeof(actors) / sizeof(actors[0]); i++) {
		if (!strcmp(name, actors[i])) {
			*out = (enum ss_actor)i;
			return true;
		}
	}
	return false;
}

static void put_u64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

/* Appends a length-prefixed text. */
static uint8_t *put_text(uint8_t *p, const char *s)
{
	size_t n = s ? strlen(s) : 0;
	put_u64(p, n);
	if (n)
		memcpy(p + 8, s, n);
	return p + 8 + n;
}

/*
 * The hash of an entry: SM3 over a domain, the hash before it and every field,
 * each of fixed width or length-prefixed, so that no two entries encode alike.
 */
static void chain(struct ss_audit_row *r)
{
	const char *texts[] = {r->actor, r->action, r->why, r->detail ? r->detail : "{}"};
	size_t n = sizeof(CHAIN_DOMAIN) + 32 + 5 * 8 + 1;
	for (size_t i = 0; i < 4; i++)
		n += 8 + (texts[i] ? strlen(texts[i]) : 0);
	uint8_t *buf = ss_malloc(n), *p = buf;
	memcpy(p, CHAIN_DOMAIN, sizeof(CHAIN_DOMAIN));
	p += sizeof(CHAIN_DOMAIN);
	memcpy(p, r->prev, 32);
	p += 32;
	put_u64(p, (uint64_t)r->seq);
	put_u64(p + 8, (uint64_t)r->at_ms);
	p = put_text(p + 16, r->actor);
	put_u64(p, (uint64_t)r->actor_id);
	p = put_text(p + 8, r->action);
	put_u64(p, (uint64_t)r->subject);
	p = put_text(p + 8, r->why);
	*p++ = r->unmasked ? 1 : 0;
	p = put_text(p, texts[3]);
	ss_sm3(buf, (size_t)(p - buf), r->hash);
	free(buf);
}

enum ss_err ss_audit_append(struct ss_store *s, struct ss_audit_row *rows, size_t n)
{
	return n ? s->ops->audit_append(s, rows, n, chain) : SS_OK;
}

enum ss_err ss_audit(struct ss_app *app, const struct ss_audit_event *e)
{
	struct ss_audit_row row = {
	        .at_ms = ss_time_now_ms(),
	        .actor = ss_actor_name(e->actor),
	        .actor_id = e->actor_id,
	        .action = e->action,
	        .subject = e->subject,
	        .why = e->why ? e->why : "",
	        .unmasked = e->unmasked,
	        .detail = e->detail ? e->detail : "{}",
	};
	enum ss_err err = ss_audit_append(app->store, &row, 1);
	if (!err)
		__atomic_add_fetch(&app->audited, 1, __ATOMIC_RELAXED);
	if (err)
		ss_log_error("audit_failed", "action=%s msg=\"%s\"", e->action, ss_err_message());
	return err;
}

/* The message a checkpoint signs. */
static void checkpoint_message(int64_t seq, const uint8_t hash[32], uint8_t msg[sizeof(CHECKPOINT_DOMAIN) + 40])
{
	memcpy(msg, CHECKPOINT_DOMAIN, sizeof(CHECKPOINT_DOMAIN));
	put_u64(msg + sizeof(CHECKPOINT_DOMAIN), (uint64_t)seq);
	memcpy(msg + sizeof(CHECKPOINT_DOMAIN) + 8, hash, 32);
}

/* The audit key: the pair (made, sealed and kept on first use when create) or, without create, the public half. */
static enum ss_err audit_key(struct ss_app *app, bool create, struct ss_sm2_key **out)
{
	struct ss_store *s = app->store;
	struct ss_arena a;
	struct ss_blob blob;
	uint8_t priv[SS_SM2_PRIV_LEN + SS_SEAL_OVERHEAD], pub[SS_SM2_PUB_LEN];
	size_t n = 0;
	enum ss_err err;

	*out = NULL;
	ss_arena_init(&a);
	if (!create) {
		err = s->ops->meta_get(s, META_PUB, &a, &blob);
		if (!err && blob.n != SS_SM2_PUB_LEN)
			err = ss_fail(SS_INTERNAL, NULL, "the audit key's public half is damaged");
		if (!err)
			err = ss_sm2_from_public(blob.p, out);
		goto out;
	}
	err = s->ops->meta_get(s, META_KEY, &a, &blob);
	if (!err) {
		if (blob.n != sizeof(priv) || ss_keyring_open(app->keys, KEY_AD, blob.p, blob.n, priv, &n) ||
		    n != SS_SM2_PRIV_LEN) {
			err = ss_fail(SS_INTERNAL, NULL, "the audit key cannot be opened");
			goto out;
		}
		err = ss_sm2_from_private(priv, out);
		goto out;
	}
	if (err != SS_NOT_FOUND)
		goto out;
	/* first use: make one, keep the private half sealed and the public half beside it, together */
	if ((err = ss_sm2_generate(out)) || (err = ss_sm2_private_bytes(*out, priv)) ||
	    (err = ss_sm2_public_bytes(*out, pub)))
		goto out;
	uint8_t sealed[SS_SM2_PRIV_LEN + SS_SEAL_OVERHEAD];
	if ((err = ss_keyring_seal(app->keys, KEY_AD, priv, SS_SM2_PRIV_LEN, sealed)))
		goto out;
	if ((err = s->ops->begin(s)))
		goto out;
	if ((err = s->ops->meta_set(s, META_KEY, (struct ss_blob){sealed, sizeof(sealed)})) ||
	    (err = s->ops->meta_set(s, META_PUB, (struct ss_blob){pub, sizeof(pub)}))) {
		s->ops->rollback(s);
		goto out;
	}
	if (!(err = s->ops->commit(s)))
		ss_log_info("audit_key_created", "algorithm=sm2");
out:
	if (err) {
		ss_sm2_free(*out);
		*out = NULL;
	}
	ss_wipe(priv, sizeof(priv));
	ss_arena_release(&a);
	return err;
}

struct last_checkpoint {
	int64_t seq;
};

static enum ss_err note_checkpoint(void *ctx, int64_t seq, const uint8_t *hash, struct ss_blob sig, int64_t at_ms)
{
	struct last_checkpoint *l = ctx;
	l->seq = seq;
	return SS_OK;
}

enum ss_err ss_audit_checkpoint(struct ss_app *app, bool *made)
{
	struct ss_store *s = app->store;
	struct last_checkpoint last = {0};
	struct ss_sm2_key *key = NULL;
	struct ss_arena a;
	int64_t seq;
	uint8_t hash[32], msg[sizeof(CHECKPOINT_DOMAIN) + 40], sig[SS_SM2_SIG_MAX];
	size_t siglen = 0;
	enum ss_err err;

	if (made)
		*made = false;
	ss_arena_init(&a);
	if ((err = s->ops->audit_last(s, &seq, hash)) ||
	    (err = s->ops->audit_checkpoint_each(s, &a, note_checkpoint, &last)))
		goto out;
	if (seq == 0 || last.seq >= seq)
		goto out; /* nothing new to sign */
	if ((err = audit_key(app, true, &key)))
		goto out;
	checkpoint_message(seq, hash, msg);
	if ((err = ss_sm2_sign(key, NULL, msg, sizeof(msg), sig, &siglen)) ||
	    (err = s->ops->audit_checkpoint_put(s, seq, hash, (struct ss_blob){sig, siglen}, ss_time_now_ms())))
		goto out;
	if (made)
		*made = true;
out:
	ss_sm2_free(key);
	ss_arena_release(&a);
	return err;
}

/* A checkpoint, as verify checks it. */
struct checkpoint {
	int64_t seq;
	uint8_t hash[32];
	bool signature_ok;
};

struct verify {
	struct ss_audit_report *out;
	struct checkpoint *cp;
	size_t ncp, cap, next_cp; /* the next checkpoint to meet in the walk */
	const struct ss_sm2_key *key;
	int64_t seq;      /* the last entry checked */
	uint8_t hash[32]; /* its hash, as recomputed */
};

static enum ss_err take_checkpoint(void *ctx, int64_t seq, const uint8_t *hash, struct ss_blob sig, int64_t at_ms)
{
	struct verify *v = ctx;
	uint8_t msg[sizeof(CHECKPOINT_DOMAIN) + 40];
	if (v->ncp == v->cap) {
		v->cap = v->cap ? 2 * v->cap : 64;
		v->cp = ss_realloc(v->cp, v->cap * sizeof(*v->cp));
	}
	struct checkpoint *c = &v->cp[v->ncp++];
	c->seq = seq;
	memcpy(c->hash, hash, 32);
	checkpoint_message(seq, hash, msg);
	c->signature_ok = v->key && ss_sm2_verify(v->key, NULL, msg, sizeof(msg), sig.p, sig.n) == SS_OK;
	return SS_OK;
}

__attribute__((format(printf, 3, 4))) static enum ss_err bad(struct verify *v, int64_t seq, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(v->out->reason, sizeof(v->out->reason), fmt, ap);
	va_end(ap);
	v->out->first_bad = seq;
	return ss_fail(SS_CONFLICT, NULL, "%s", v->out->reason);
}

static enum ss_err check_entry(void *ctx, const struct ss_audit_row *row)
{
	struct verify *v = ctx;
	struct ss_audit_row r = *row;
	int64_t expected = v->seq + 1;
	if (row->seq != expected)
		return bad(v, expected, "entry %lld is missing (the next one kept is %lld)", (long long)expected,
		           (long long)row->seq);
	if (memcmp(row->prev, v->hash, 32) != 0)
		return bad(v, row->seq, "entry %lld does not follow the entry before it", (long long)row->seq);
	chain(&r);
	if (memcmp(r.hash, row->hash, 32) != 0)
		return bad(v, row->seq, "entry %lld has been changed since it was written", (long long)row->seq);
	v->seq = row->seq;
	memcpy(v->hash, r.hash, 32);
	v->out->entries++;
	while (v->next_cp < v->ncp && v->cp[v->next_cp].seq == row->seq) {
		const struct checkpoint *c = &v->cp[v->next_cp++];
		if (!c->signature_ok)
			return bad(v, row->seq, "the checkpoint at entry %lld is not signed by the audit key",
			           (long long)row->seq);
		if (memcmp(c->hash, r.hash, 32) != 0)
			return bad(v, row->seq, "the chain at entry %lld differs from its signed checkpoint",
			           (long long)row->seq);
		v->out->checkpoints++;
	}
	return SS_OK;
}

enum ss_err ss_audit_verify(struct ss_app *app, struct ss_audit_report *out)
{
	struct ss_store *s = app->store;
	struct verify v = {.out = out};
	struct ss_sm2_key *key = NULL;
	struct ss_arena a;
	enum ss_err err;

	memset(out, 0, sizeof(*out));
	ss_arena_init(&a);
	err = audit_key(app, false, &key);
	if (err == SS_NOT_FOUND)
		err = SS_OK; /* no checkpoint was ever made: any there are cannot be genuine */
	if (err)
		goto out;
	v.key = key;
	if ((err = s->ops->audit_checkpoint_each(s, &a, take_checkpoint, &v)))
		goto out;
	for (;;) {
		int64_t before = out->entries;
		ss_arena_release(&a);
		ss_arena_init(&a);
		if ((err = s->ops->audit_each(s, v.seq, VERIFY_BATCH, &a, check_entry, &v)))
			goto out;
		if (out->entries - before < VERIFY_BATCH)
			break;
	}
	/* a checkpoint beyond the last entry: entries were removed from the end */
	if (v.next_cp < v.ncp)
		err = bad(&v, v.seq + 1, "entries from %lld on have been removed (a checkpoint signed entry %lld)",
		          (long long)(v.seq + 1), (long long)v.cp[v.ncp - 1].seq);
out:
	free(v.cp);
	ss_sm2_free(key);
	ss_arena_release(&a);
	return err;
}
