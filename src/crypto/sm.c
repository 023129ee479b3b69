/* sm: SM2, SM3, SM4-CTR, HMAC and the CSPRNG over OpenSSL 3's EVP (see crypto.h). */
#include "crypto/crypto.h"

#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>
#include <openssl/rand.h>

#include "base/log.h"
#include "base/mem.h"

/*
 * Each thread remembers the last key its contexts were keyed with, and a call
 * with the same key only resets the context. Re-keying is the expensive part
 * for the short inputs of the hot path: OpenSSL 3.0 copies an HMAC key and
 * re-derives both pads on every keyed EVP_MAC_init (half the cost of an
 * HMAC-SM3 of 48 bytes), and the SM4 key schedule is 40% of an SM4-CTR of 32
 * bytes. HMAC keys longer than this are simply re-keyed. The remembered keys
 * are no more secret than the keyed contexts beside them, and are wiped with
 * them when the thread exits.
 */
#define MAC_KEY_CACHE 64

/* GB/T 32918.1: ENTL is a 16-bit count of bits, so an id has at most 8191 bytes. */
#define SM2_ID_MAX 8191

struct ss_sm2_key {
	EVP_PKEY *pkey;
	bool has_private;
};

/* Algorithms, fetched once by init_once(). */
static EVP_MD *md_sm3;
static EVP_MAC *mac_hmac;
static EVP_CIPHER *cipher_sm4_ctr;
static EC_GROUP *sm2_group;
static const BIGNUM *sm2_order;

static pthread_once_t init_control = PTHREAD_ONCE_INIT;
static enum ss_err init_result = SS_INTERNAL;
static pthread_key_t tls_key;

/* An HMAC context of one thread, with the key it was last keyed with. */
struct mac {
	EVP_MAC_CTX *ctx;
	bool keyed;
	size_t keylen;
	uint8_t key[MAC_KEY_CACHE];
};

/* The hot-path contexts of one thread; freed by tls_free() when it exits. */
struct tls {
	EVP_MD_CTX *sm3;
	EVP_CIPHER_CTX *sm4;
	bool sm4_keyed;
	uint8_t sm4_key[SS_SM4_KEY_LEN];
	struct mac hmac_sm3;
	struct mac hmac_sha1;
};

static _Thread_local struct tls *tls;

/* Logs op and OpenSSL's error queue as one line, and empties the queue. */
static void log_openssl(const char *op)
{
	char text[512];
	size_t len = 0;
	const char *data;
	int flags;
	unsigned long e;

	text[0] = '\0';
	while ((e = ERR_get_error_all(NULL, NULL, NULL, &data, &flags)) != 0) {
		char one[256];

		ERR_error_string_n(e, one, sizeof(one));
		int m = snprintf(text + len, sizeof(text) - len, "%s%s%s%s", len ? "; " : "", one,
		                 (flags & ERR_TXT_STRING) && data && *data ? ": " : "",
		                 (flags & ERR_TXT_STRING) && data ? data : "");
		if (m < 0 || (size_t)m >= sizeof(text) - len) {
			len = strlen(text);
			break;
		}
		len += (size_t)m;
	}
	ERR_clear_error();
	/* The text goes between quotes in a logfmt line. */
	for (char *p = text; *p; p++)
		if (*p == '"' || *p == '\n')
			*p = '\'';
	ss_log_error("crypto_failure", "op=%s openssl=\"%s\"", op, len ? text : "no error queued");
}

/* An OpenSSL failure on a path that cannot fail by contract: the library or the environment is broken. */
static _Noreturn void fatal(const char *op)
{
	log_openssl(op);
	abort();
}

static enum ss_err internal(const char *op)
{
	log_openssl(op);
	return SS_INTERNAL;
}

static void tls_free(void *p)
{
	struct tls *t = p;

	if (!t)
		return;
	tls = NULL; /* this runs on the exiting thread: a later call there starts afresh */
	EVP_MD_CTX_free(t->sm3);
	EVP_CIPHER_CTX_free(t->sm4);
	EVP_MAC_CTX_free(t->hmac_sm3.ctx);
	EVP_MAC_CTX_free(t->hmac_sha1.ctx);
	ss_free_secret(t, sizeof(*t));
}

/* A keyless HMAC context over the named digest. */
static EVP_MAC_CTX *hmac_ctx_new(const char *digest)
{
	OSSL_PARAM params[] = {
	        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)digest, 0),
	        OSSL_PARAM_construct_end(),
	};
	EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(mac_hmac);

	if (ctx && !EVP_MAC_CTX_set_params(ctx, params)) {
		EVP_MAC_CTX_free(ctx);
		ctx = NULL;
	}
	return ctx;
}

/* Checks that each algorithm exists and fetches the hot-path ones, once per process. */
static void init_once(void)
{
	EVP_KEYMGMT *km = NULL;
	EVP_SIGNATURE *sig = NULL;
	EVP_MAC_CTX *probe_sm3 = NULL, *probe_sha1 = NULL;
	const char *what;

	what = "fetch SM3";
	if (!(md_sm3 = EVP_MD_fetch(NULL, "SM3", NULL)))
		goto out;
	what = "fetch HMAC";
	if (!(mac_hmac = EVP_MAC_fetch(NULL, "HMAC", NULL)))
		goto out;
	what = "fetch SM4-CTR";
	if (!(cipher_sm4_ctr = EVP_CIPHER_fetch(NULL, "SM4-CTR", NULL)))
		goto out;
	what = "HMAC over SM3 and SHA1";
	if (!(probe_sm3 = hmac_ctx_new("SM3")) || !(probe_sha1 = hmac_ctx_new("SHA1")))
		goto out;
	what = "fetch SM2";
	if (!(km = EVP_KEYMGMT_fetch(NULL, "SM2", NULL)) || !(sig = EVP_SIGNATURE_fetch(NULL, "SM2", NULL)))
		goto out;
	what = "SM2 curve";
	if (!(sm2_group = EC_GROUP_new_by_curve_name(NID_sm2)) || !(sm2_order = EC_GROUP_get0_order(sm2_group)))
		goto out;
	what = "thread key";
	if (pthread_key_create(&tls_key, tls_free) != 0)
		goto out;
	what = NULL;
	init_result = SS_OK;
out:
	if (what) {
		log_openssl(what);
		ss_log_error("crypto_unavailable",
		             "missing=\"%s\" hint=\"OpenSSL 3 with SM2, SM3 and SM4 is required\"", what);
	}
	EVP_MAC_CTX_free(probe_sm3);
	EVP_MAC_CTX_free(probe_sha1);
	EVP_KEYMGMT_free(km);
	EVP_SIGNATURE_free(sig);
}

enum ss_err ss_crypto_init(void)
{
	if (pthread_once(&init_control, init_once) != 0)
		return SS_INTERNAL;
	return init_result;
}

/* This thread's contexts, made on its first call. */
static struct tls *get_tls(void)
{
	struct tls *t = tls;

	if (t)
		return t;
	if (ss_crypto_init() != SS_OK)
		abort(); /* already logged; a hot-path caller has no error to return */
	t = ss_calloc(1, sizeof(*t));
	if (!(t->sm3 = EVP_MD_CTX_new()) || !(t->sm4 = EVP_CIPHER_CTX_new()) ||
	    !EVP_EncryptInit_ex2(t->sm4, cipher_sm4_ctr, NULL, NULL, NULL) ||
	    !(t->hmac_sm3.ctx = hmac_ctx_new("SM3")) || !(t->hmac_sha1.ctx = hmac_ctx_new("SHA1")))
		fatal("thread contexts");
	if (pthread_setspecific(tls_key, t) != 0)
		fatal("thread contexts");
	tls = t;
	return t;
}

enum ss_err ss_random(void *out, size_t n)
{
	unsigned char *p = out;

	while (n > 0) {
		int chunk = n > INT_MAX ? INT_MAX : (int)n;

		if (RAND_bytes(p, chunk) != 1)
			return internal("RAND_bytes");
		p += chunk;
		n -= (size_t)chunk;
	}
	return SS_OK;
}

void ss_sm3(const void *data, size_t n, uint8_t out[SS_SM3_LEN])
{
	struct tls *t = get_tls();
	unsigned int len = 0;

	if (!EVP_DigestInit_ex2(t->sm3, md_sm3, NULL) || !EVP_DigestUpdate(t->sm3, data, n) ||
	    !EVP_DigestFinal_ex(t->sm3, out, &len) || len != SS_SM3_LEN)
		fatal("sm3");
}

/* Computes the HMAC of parts in m's context, keyed with key. */
static void mac_run(struct mac *m, const uint8_t *key, size_t keylen, const struct ss_iov *parts, size_t count,
                    uint8_t *out, size_t outlen, const char *op)
{
	static const uint8_t empty[1];
	size_t len = 0;
	int ok;

	if (!key)
		key = empty; /* NULL would ask OpenSSL to keep the old key */
	if (m->keyed && m->keylen == keylen && CRYPTO_memcmp(m->key, key, keylen) == 0) {
		ok = EVP_MAC_init(m->ctx, NULL, 0, NULL);
	} else {
		m->keyed = false;
		ok = EVP_MAC_init(m->ctx, key, keylen, NULL);
		if (ok && keylen <= sizeof(m->key)) {
			memcpy(m->key, key, keylen);
			m->keylen = keylen;
			m->keyed = true;
		}
	}
	for (size_t i = 0; ok && i < count; i++)
		if (parts[i].n > 0)
			ok = EVP_MAC_update(m->ctx, parts[i].p, parts[i].n);
	if (!ok || !EVP_MAC_final(m->ctx, out, &len, outlen) || len != outlen)
		fatal(op);
}

void ss_hmac_sm3(const uint8_t *key, size_t keylen, const void *data, size_t n, uint8_t out[SS_SM3_LEN])
{
	struct ss_iov part = {data, n};

	mac_run(&get_tls()->hmac_sm3, key, keylen, &part, 1, out, SS_SM3_LEN, "hmac-sm3");
}

void ss_hmac_sm3_v(const uint8_t *key, size_t keylen, const struct ss_iov *parts, size_t count, uint8_t out[SS_SM3_LEN])
{
	mac_run(&get_tls()->hmac_sm3, key, keylen, parts, count, out, SS_SM3_LEN, "hmac-sm3");
}

void ss_hmac_sha1(const uint8_t *key, size_t keylen, const void *data, size_t n, uint8_t out[SS_SHA1_LEN])
{
	struct ss_iov part = {data, n};

	mac_run(&get_tls()->hmac_sha1, key, keylen, &part, 1, out, SS_SHA1_LEN, "hmac-sha1");
}

void ss_sm4_ctr(const uint8_t key[SS_SM4_KEY_LEN], const uint8_t iv[SS_SM4_IV_LEN], const void *in, size_t n, void *out)
{
	struct tls *t = get_tls();
	const unsigned char *src = in;
	unsigned char *dst = out;

	/*
	 * A NULL cipher keeps the provider context, so this allocates nothing; a
	 * new iv alone also restarts the stream at the start of its first block.
	 */
	bool same = t->sm4_keyed && CRYPTO_memcmp(t->sm4_key, key, SS_SM4_KEY_LEN) == 0;
	if (!EVP_EncryptInit_ex2(t->sm4, NULL, same ? NULL : key, iv, NULL))
		fatal("sm4-ctr");
	if (!same) {
		memcpy(t->sm4_key, key, SS_SM4_KEY_LEN);
		t->sm4_keyed = true;
	}
	while (n > 0) {
		int chunk = n > INT_MAX / 2 ? INT_MAX / 2 : (int)n, len = 0;

		if (!EVP_EncryptUpdate(t->sm4, dst, &len, src, chunk) || len != chunk)
			fatal("sm4-ctr");
		src += chunk;
		dst += chunk;
		n -= (size_t)chunk;
	}
}

/* Wraps a new EVP_PKEY. */
static struct ss_sm2_key *key_new(EVP_PKEY *pkey, bool has_private)
{
	struct ss_sm2_key *k = ss_malloc(sizeof(*k));

	k->pkey = pkey;
	k->has_private = has_private;
	return k;
}

enum ss_err ss_sm2_generate(struct ss_sm2_key **out)
{
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pkey = NULL;
	enum ss_err err = ss_crypto_init();

	if (err != SS_OK)
		return err;
	if (!(ctx = EVP_PKEY_CTX_new_from_name(NULL, "SM2", NULL)) || EVP_PKEY_keygen_init(ctx) <= 0 ||
	    EVP_PKEY_CTX_set_group_name(ctx, "SM2") <= 0 || EVP_PKEY_generate(ctx, &pkey) <= 0) {
		err = internal("sm2 generate");
		goto out;
	}
	*out = key_new(pkey, true);
out:
	EVP_PKEY_CTX_free(ctx);
	return err;
}

/*
 * A key of the SM2 curve from params (EVP_PKEY_KEYPAIR or EVP_PKEY_PUBLIC_KEY
 * selection); priv may be NULL.
 */
static enum ss_err key_from_parts(const BIGNUM *priv, const uint8_t pub[SS_SM2_PUB_LEN], struct ss_sm2_key **out)
{
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pkey = NULL;
	enum ss_err err = SS_OK;

	if (!(bld = OSSL_PARAM_BLD_new()) ||
	    !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "SM2", 0) ||
	    !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub, SS_SM2_PUB_LEN) ||
	    (priv && !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, priv)) ||
	    !(params = OSSL_PARAM_BLD_to_param(bld)) || !(ctx = EVP_PKEY_CTX_new_from_name(NULL, "SM2", NULL)) ||
	    EVP_PKEY_fromdata_init(ctx) <= 0 ||
	    EVP_PKEY_fromdata(ctx, &pkey, priv ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, params) <= 0) {
		err = internal("sm2 key from data");
		goto out;
	}
	*out = key_new(pkey, priv != NULL);
out:
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params); /* clears the secure part that holds priv */
	OSSL_PARAM_BLD_free(bld);
	return err;
}

enum ss_err ss_sm2_from_private(const uint8_t priv[SS_SM2_PRIV_LEN], struct ss_sm2_key **out)
{
	BIGNUM *d = NULL, *max = NULL;
	EC_POINT *q = NULL;
	uint8_t pub[SS_SM2_PUB_LEN];
	enum ss_err err = ss_crypto_init();

	if (err != SS_OK)
		return err;
	if (!(d = BN_secure_new()) || !(max = BN_dup(sm2_order)) || !(q = EC_POINT_new(sm2_group))) {
		err = internal("sm2 from private");
		goto out;
	}
	BN_set_flags(d, BN_FLG_CONSTTIME);
	if (!BN_bin2bn(priv, SS_SM2_PRIV_LEN, d) || !BN_sub_word(max, 2)) {
		err = internal("sm2 from private");
		goto out;
	}
	/* GB/T 32918.1 6.1: d in [1, n-2], as signing inverts 1 + d mod n. */
	if (BN_is_zero(d) || BN_cmp(d, max) > 0) {
		err = ss_fail(SS_INVALID, NULL, "sm2 private key out of range");
		goto out;
	}
	if (!EC_POINT_mul(sm2_group, q, d, NULL, NULL, NULL) ||
	    EC_POINT_point2oct(sm2_group, q, POINT_CONVERSION_UNCOMPRESSED, pub, sizeof(pub), NULL) != sizeof(pub)) {
		err = internal("sm2 public from private");
		goto out;
	}
	err = key_from_parts(d, pub, out);
out:
	EC_POINT_free(q);
	BN_free(max);
	BN_clear_free(d);
	return err;
}

enum ss_err ss_sm2_from_public(const uint8_t pub[SS_SM2_PUB_LEN], struct ss_sm2_key **out)
{
	EC_POINT *q = NULL;
	enum ss_err err = ss_crypto_init();

	if (err != SS_OK)
		return err;
	if (pub[0] != POINT_CONVERSION_UNCOMPRESSED)
		return ss_fail(SS_INVALID, NULL, "sm2 public key is not an uncompressed point");
	if (!(q = EC_POINT_new(sm2_group)))
		return internal("sm2 from public");
	/* oct2point refuses coordinates out of the field and points off the curve. */
	if (!EC_POINT_oct2point(sm2_group, q, pub, SS_SM2_PUB_LEN, NULL) ||
	    EC_POINT_is_on_curve(sm2_group, q, NULL) != 1 || EC_POINT_is_at_infinity(sm2_group, q)) {
		ERR_clear_error();
		err = ss_fail(SS_INVALID, NULL, "sm2 public key is not on the curve");
		goto out;
	}
	err = key_from_parts(NULL, pub, out);
out:
	EC_POINT_free(q);
	return err;
}

enum ss_err ss_sm2_private_bytes(const struct ss_sm2_key *key, uint8_t out[SS_SM2_PRIV_LEN])
{
	BIGNUM *d = NULL;
	enum ss_err err = SS_OK;

	if (!key->has_private)
		return ss_fail(SS_INVALID, NULL, "sm2 key has no private part");
	if (!EVP_PKEY_get_bn_param(key->pkey, OSSL_PKEY_PARAM_PRIV_KEY, &d) ||
	    BN_bn2binpad(d, out, SS_SM2_PRIV_LEN) != SS_SM2_PRIV_LEN)
		err = internal("sm2 private bytes");
	BN_clear_free(d);
	return err;
}

enum ss_err ss_sm2_public_bytes(const struct ss_sm2_key *key, uint8_t out[SS_SM2_PUB_LEN])
{
	size_t len = 0;

	if (!EVP_PKEY_get_octet_string_param(key->pkey, OSSL_PKEY_PARAM_PUB_KEY, out, SS_SM2_PUB_LEN, &len) ||
	    len != SS_SM2_PUB_LEN || out[0] != POINT_CONVERSION_UNCOMPRESSED)
		return internal("sm2 public bytes");
	return SS_OK;
}

/* Starts a sign (sign true) or verify operation with SM3 and id in a new md. */
static enum ss_err sig_start(const struct ss_sm2_key *key, const char *id, bool sign, EVP_MD_CTX **md)
{
	EVP_PKEY_CTX *pctx = NULL; /* owned by *md */
	size_t idlen;
	int ok;

	if (!id)
		id = SS_SM2_DEFAULT_ID;
	idlen = strlen(id);
	if (idlen > SM2_ID_MAX)
		return ss_fail(SS_INVALID, NULL, "sm2 user id longer than %d bytes", SM2_ID_MAX);
	if (!(*md = EVP_MD_CTX_new()))
		return internal("sm2 md");
	if (sign)
		ok = EVP_DigestSignInit_ex(*md, &pctx, "SM3", NULL, NULL, key->pkey, NULL) > 0;
	else
		ok = EVP_DigestVerifyInit_ex(*md, &pctx, "SM3", NULL, NULL, key->pkey, NULL) > 0;
	/* The id enters Z_A, which is computed on the first update: set it before. */
	if (!ok || EVP_PKEY_CTX_set1_id(pctx, id, idlen) <= 0) {
		EVP_MD_CTX_free(*md);
		*md = NULL;
		return internal(sign ? "sm2 sign init" : "sm2 verify init");
	}
	return SS_OK;
}

enum ss_err ss_sm2_sign(const struct ss_sm2_key *key, const char *id, const void *msg, size_t n, uint8_t *sig,
                        size_t *siglen)
{
	EVP_MD_CTX *md = NULL;
	size_t len = SS_SM2_SIG_MAX;
	enum ss_err err;

	if (!key->has_private)
		return ss_fail(SS_INVALID, NULL, "sm2 key has no private part");
	if ((err = sig_start(key, id, true, &md)) != SS_OK)
		return err;
	if (EVP_DigestSign(md, sig, &len, msg, n) <= 0) {
		err = internal("sm2 sign");
		goto out;
	}
	*siglen = len;
out:
	EVP_MD_CTX_free(md);
	return err;
}

enum ss_err ss_sm2_verify(const struct ss_sm2_key *key, const char *id, const void *msg, size_t n, const uint8_t *sig,
                          size_t siglen)
{
	EVP_MD_CTX *md = NULL;
	enum ss_err err;

	if (siglen == 0 || siglen > SS_SM2_SIG_MAX)
		return ss_fail(SS_INVALID, NULL, "sm2 signature has a bad length");
	if ((err = sig_start(key, id, false, &md)) != SS_OK)
		return err;
	/*
	 * 0 is a wrong signature and a negative result a malformed one; both are
	 * the input's fault, so neither is logged as an OpenSSL failure.
	 */
	if (EVP_DigestVerify(md, sig, siglen, msg, n) != 1) {
		ERR_clear_error();
		err = ss_fail(SS_INVALID, NULL, "sm2 signature does not verify");
	}
	EVP_MD_CTX_free(md);
	return err;
}

void ss_sm2_free(struct ss_sm2_key *key)
{
	if (!key)
		return;
	EVP_PKEY_free(key->pkey); /* EC keys clear their scalar (BN_clear_free) */
	free(key);
}
