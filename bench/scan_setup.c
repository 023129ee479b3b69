/*
 * scan_setup: prepares a data directory and the requests for bench/scan.
 *
 *   scan_setup --data DIR --population FILE.csv --host HOST:PORT --out PREFIX
 *              [--files T] [--requests R] [--scene SCENE] [--sets K] [--session FILE]
 *
 * The data directory has been initialised and FILE.csv imported into its
 * population registry (scripts/gen-population.py, `suishen import population`).
 * scan_setup then, in the data directory itself:
 *
 *   1. registers every person of FILE.csv as a resident, in one transaction,
 *      with ss_identity_register_prehashed() (the checks and rows of a real
 *      registration, channel "app"), except that every resident shares ONE
 *      argon2id password hash: hashing 100,000 passwords would take
 *      an hour and the scan path never looks at them. These residents can log
 *      in with the password "bench-password-1" but not pass the TOTP step (their
 *      secrets are random and not printed): they exist to be scanned;
 *   2. creates one terminal (ss_terminal_create) at a checkpoint;
 *   3. writes T files PREFIX.0 .. PREFIX.<T-1>, R requests in all, each a
 *      complete signed `POST /v1/scans` whose body holds a fresh code of a
 *      random resident, issued now, and whose X-Nonce is used exactly once
 *      across all files (the server refuses a replayed nonce: a replay would
 *      measure the cheap 401 path). All requests have the same length (the
 *      code, nonce, timestamp and ids are fixed-width), so a file is a line
 *      "<length>\n" and then the raw requests back to back, which
 *      bench/scan.lua reads in chunks as it goes;
 *   4. writes PREFIX.probe: one more such request, raw, which bench/scan sends
 *      first to learn the size of a real answer;
 *   5. with --sets K, writes K such sets of files instead, PREFIX-0.* to
 *      PREFIX-<K-1>.* (one per run of bench/scan --beside), R requests each;
 *   6. with --session FILE, writes to FILE the bearer token of a session of
 *      the first resident (a session row, as a log-in makes: the residents
 *      cannot pass the TOTP step), for the code flood of bench/scan --beside.
 *
 * The codes are issued now and signed with X-Timestamp now: the server must
 * run with a code TTL longer than the run (bench/scan uses --code-ttl 3600),
 * and the requests must all be sent within SS_SIGN_WINDOW (300 s) of now.
 * Prints `key value` lines (terminal_id, residents, requests, setup seconds).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "base/csv.h"
#include "base/mem.h"
#include "base/str.h"
#include "base/time.h"
#include "core/app.h"
#include "core/identity.h"
#include "core/pii.h"
#include "core/population.h"
#include "core/sign.h"
#include "core/terminal.h"
#include "crypto/code.h"
#include "crypto/crypto.h"
#include "crypto/password.h"
#include "crypto/totp.h"
#include "rng.h"

#define BENCH_PASSWORD "bench-password-1"
#define MAX_FILES      64
#define REQUEST_MAX    1024

static void die(const char *what)
{
	fprintf(stderr, "scan_setup: %s: %s\n", what, ss_err_message());
	exit(1);
}

static void usage(void)
{
	fprintf(stderr, "usage: scan_setup --data DIR --population FILE.csv --host HOST:PORT --out PREFIX "
	                "[--files T] [--requests R] [--scene SCENE] [--sets K] [--session FILE]\n");
	exit(2);
}

struct people {
	uint32_t *ids;
	size_t n, cap;
};

/* Registers every person of the CSV file as a resident, in one transaction; collects their person ids. */
static void register_all(struct ss_app *app, const char *csv_path, struct people *out)
{
	char hash[SS_PASSWORD_HASH_MAX];
	struct ss_csv csv;
	struct ss_arena a;
	FILE *in = fopen(csv_path, "rb");

	if (!in) {
		fprintf(stderr, "scan_setup: cannot open '%s'\n", csv_path);
		exit(1);
	}
	/* one hash for all: see the comment at the top */
	if (ss_password_hash(BENCH_PASSWORD, strlen(BENCH_PASSWORD), hash))
		die("password hash");
	ss_csv_init(&csv, in, 4096);
	if (ss_csv_next(&csv)) /* the header */
		die("population header");
	if (app->store->ops->begin(app->store))
		die("begin");
	int64_t now = ss_time_now();
	for (;;) {
		enum ss_err err = ss_csv_next(&csv);
		if (err == SS_NOT_FOUND)
			break;
		if (err || csv.nfields != 6)
			die("population row");
		const char *fields[6];
		size_t lens[6];
		struct ss_person p;
		for (size_t i = 0; i < 6; i++)
			fields[i] = ss_csv_field(&csv, i, &lens[i]);
		if (ss_population_check_row(fields, lens, 6, now, &p, NULL, NULL))
			die("population row");

		if (!p.phone[0]) /* registration needs a phone; the registry has people without one */
			continue;
		/* the registration residents go through, with the shared hash */
		struct ss_registration reg = {
		        .name = p.name, .id_number = p.id.number, .phone = p.phone, .channel = "app"};
		struct ss_citizen_row person;
		char uri[SS_TOTP_URI_MAX];
		int64_t citizen_id;
		ss_arena_init(&a);
		if (ss_identity_register_prehashed(app, &reg, hash, &citizen_id, uri) ||
		    app->store->ops->citizen_by_id(app->store, citizen_id, &a, &person))
			die("register (was the population file imported?)");
		ss_arena_release(&a);

		if (person.person_id <= 0 || person.person_id > UINT32_MAX)
			die("person id out of range");
		if (out->n == out->cap) {
			out->cap = out->cap ? 2 * out->cap : 1024;
			out->ids = ss_realloc(out->ids, out->cap * sizeof(*out->ids));
		}
		out->ids[out->n++] = (uint32_t)person.person_id;
	}
	if (app->store->ops->commit(app->store))
		die("commit");
	ss_csv_release(&csv);
	fclose(in);
	if (out->n == 0) {
		fprintf(stderr, "scan_setup: the population file has no rows\n");
		exit(1);
	}
}

/* Writes one signed scan request for a random resident into buf; returns its length. */
static size_t make_request(struct ss_app *app, const struct people *people, const uint8_t key[32], const char *host,
                           int64_t terminal_id, const char *nonce_prefix, uint64_t seq, char buf[REQUEST_MAX])
{
	char code[SS_CODE_LEN + 1], body[128], nonce[SS_NONCE_MAX + 1], ts[24], sig[65];
	int64_t now = ss_time_now();
	uint32_t person = people->ids[rng_next() % people->n];

	if (ss_code_issue(app->keys, person, 0, now, code))
		die("code issue");
	int blen = snprintf(body, sizeof(body), "{\"code\":\"%s\"}", code);
	snprintf(nonce, sizeof(nonce), "%s%016llx", nonce_prefix, (unsigned long long)seq);
	snprintf(ts, sizeof(ts), "%lld", (long long)now);
	ss_sign_compute(key, "POST", "/v1/scans", ts, nonce, body, (size_t)blen, sig);
	int n = snprintf(buf, REQUEST_MAX,
	                 "POST /v1/scans HTTP/1.1\r\n"
	                 "Host: %s\r\n"
	                 "Content-Type: application/json\r\n"
	                 "Content-Length: %d\r\n"
	                 "X-Terminal-Id: %lld\r\n"
	                 "X-Timestamp: %s\r\n"
	                 "X-Nonce: %s\r\n"
	                 "X-Signature: %s\r\n"
	                 "\r\n"
	                 "%s",
	                 host, blen, (long long)terminal_id, ts, nonce, sig, body);
	if (n <= 0 || n >= REQUEST_MAX)
		die("request too long");
	return (size_t)n;
}

static FILE *open_out(const char *prefix, const char *suffix)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s.%s", prefix, suffix);
	FILE *f = fopen(path, "wb");
	if (!f) {
		fprintf(stderr, "scan_setup: cannot write '%s'\n", path);
		exit(1);
	}
	setvbuf(f, NULL, _IOFBF, 1 << 20);
	return f;
}

static void close_out(FILE *f)
{
	if (fflush(f) || ferror(f) || fclose(f)) {
		fprintf(stderr, "scan_setup: write failed\n");
		exit(1);
	}
}

/* Writes PREFIX.probe and PREFIX.0 .. PREFIX.<files-1>: requests in all; the length of each. */
static size_t write_set(struct ss_app *app, const struct people *people, const uint8_t key[32], const char *host,
                        int64_t terminal_id, const char *nonce_prefix, const char *prefix, long files, long requests,
                        uint64_t *seq)
{
	char buf[REQUEST_MAX];
	size_t n;
	FILE *f = open_out(prefix, "probe");
	n = make_request(app, people, key, host, terminal_id, nonce_prefix, (*seq)++, buf);
	fwrite(buf, 1, n, f);
	close_out(f);

	/* every request has the same length (fixed-width code, nonce, timestamp, ids): the probe's */
	size_t len = n;
	for (long t = 0; t < files; t++) {
		char suffix[24];
		snprintf(suffix, sizeof(suffix), "%ld", t);
		f = open_out(prefix, suffix);
		fprintf(f, "%zu\n", len);
		long mine = requests / files + (t < requests % files ? 1 : 0);
		for (long i = 0; i < mine; i++) {
			n = make_request(app, people, key, host, terminal_id, nonce_prefix, (*seq)++, buf);
			if (n != len) {
				fprintf(stderr, "scan_setup: requests differ in length (%zu, %zu)\n", len, n);
				exit(1);
			}
			fwrite(buf, 1, n, f);
		}
		close_out(f);
	}
	return len;
}

/* A session of the resident whose person id is person, as a log-in makes it; its token into path. */
static void write_session(struct ss_app *app, uint32_t person, const char *path)
{
	struct ss_session_row s = {.channel = "app", .created_at = ss_time_now()};
	struct ss_citizen_row c;
	struct ss_arena a;
	uint8_t idx[SS_INDEX_LEN];
	char token[65];
	ss_arena_init(&a);
	/* the citizen of that person: found by the ID number's blind index, as log-in finds it */
	struct ss_person_row pr;
	if (app->store->ops->person_by_id(app->store, person, &a, &pr))
		die("person");
	memcpy(idx, pr.idx, sizeof(idx));
	if (app->store->ops->citizen_by_idx(app->store, idx, &a, &c))
		die("citizen");
	s.citizen_id = c.citizen_id;
	s.expires_at = s.created_at + 86400;
	if (ss_app_new_token(token, s.token_hash) || app->store->ops->session_insert(app->store, &s))
		die("session");
	FILE *f = fopen(path, "wb");
	if (!f || fprintf(f, "%s\n", token) < 0 || fclose(f)) {
		fprintf(stderr, "scan_setup: cannot write '%s'\n", path);
		exit(1);
	}
	ss_wipe(token, sizeof(token));
	ss_arena_release(&a);
}

int main(int argc, char **argv)
{
	const char *data = NULL, *population = NULL, *host = NULL, *prefix = NULL, *scene = "checkpoint";
	const char *session = NULL;
	long files = 2, requests = 1000000, sets = 0;

	for (int i = 1; i < argc; i++) {
		if (i + 1 >= argc)
			usage();
		const char *opt = argv[i], *val = argv[++i];
		if (!strcmp(opt, "--data"))
			data = val;
		else if (!strcmp(opt, "--population"))
			population = val;
		else if (!strcmp(opt, "--host"))
			host = val;
		else if (!strcmp(opt, "--out"))
			prefix = val;
		else if (!strcmp(opt, "--scene"))
			scene = val;
		else if (!strcmp(opt, "--files"))
			files = strtol(val, NULL, 10);
		else if (!strcmp(opt, "--requests"))
			requests = strtol(val, NULL, 10);
		else if (!strcmp(opt, "--sets"))
			sets = strtol(val, NULL, 10);
		else if (!strcmp(opt, "--session"))
			session = val;
		else
			usage();
	}
	if (!data || !population || !host || !prefix || files < 1 || files > MAX_FILES || requests < files ||
	    sets < 0 || sets > 8)
		usage();

	int64_t t0 = ss_time_mono_us();
	struct ss_app *app;
	if (ss_app_open(data, false, &app))
		die("open data directory");

	struct people people = {0};
	register_all(app, population, &people);
	int64_t t1 = ss_time_mono_us();

	int64_t terminal_id;
	char secret[65];
	uint8_t key[32];
	if (ss_terminal_create(app, "bench", "bench gate 1", scene, "310101", 0, &terminal_id, secret))
		die("terminal create");
	if (!ss_hex_decode(secret, 64, key, sizeof(key)))
		die("terminal secret");
	ss_wipe(secret, sizeof(secret));

	/* a nonce prefix of this run, so that nonces differ across runs too; 16 + 16 hex characters in all */
	uint8_t rnd[8];
	char nonce_prefix[17];
	if (ss_random(rnd, sizeof(rnd)) || ss_random(&rng_state, sizeof(rng_state)))
		die("random");
	rng_state |= 1;
	ss_hex_encode(rnd, sizeof(rnd), nonce_prefix);

	uint64_t seq = 0;
	size_t len = 0;
	if (sets == 0) {
		len = write_set(app, &people, key, host, terminal_id, nonce_prefix, prefix, files, requests, &seq);
	} else {
		for (long k = 0; k < sets; k++) {
			char p[4096];
			snprintf(p, sizeof(p), "%s-%ld", prefix, k);
			len = write_set(app, &people, key, host, terminal_id, nonce_prefix, p, files, requests, &seq);
		}
	}
	if (session)
		write_session(app, people.ids[0], session);
	int64_t t2 = ss_time_mono_us();
	ss_wipe(key, sizeof(key));

	printf("residents %zu\n", people.n);
	printf("terminal_id %lld\n", (long long)terminal_id);
	printf("requests %ld\n", requests);
	printf("request_bytes %zu\n", len);
	printf("register_seconds %.2f\n", (double)(t1 - t0) / 1e6);
	printf("sign_seconds %.2f\n", (double)(t2 - t1) / 1e6);
	free(people.ids);
	ss_app_close(app);
	return 0;
}
