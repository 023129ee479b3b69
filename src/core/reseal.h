/*
 * reseal: moving what old data keys sealed to the current one, so that they
 * can retire (`suishen keys reseal`), while the server runs.
 *
 * Old keys are the data keys that are neither current nor retired. Every
 * sealed column of the store (store.h, SS_STORE_SEALED) and every sealed
 * value in meta is read in batches, in id order; each blob that names an old
 * key is opened and sealed again under the current key outside any
 * transaction, and a batch is written back in one short transaction, each
 * blob only if its row still holds what was read (a row that changed
 * meanwhile was written by someone else, under a key of their own). A running
 * server is held up by one batch at most, and reads either key meanwhile:
 * both are in its key ring.
 *
 * Then, once the current key has been current long enough for every running
 * server to have loaded it (SS_RESEAL_SETTLE), the old keys become retiring:
 * the store refuses any new blob that names one (a process whose key ring is
 * behind gets SS_BUSY and catches up), a second walk re-seals what was written
 * under them before that, and they retire, with their audit entries. A
 * running process drops a retired key at its next reload of the key ring,
 * after re-sealing the copies it holds in memory (core/app.h); nothing it
 * reads needs the key after that.
 *
 * Interrupted (kill -9, a full disk), a run leaves every row readable under
 * one key or the other; running again walks everything again, re-sealing only
 * what is left. One run at a time per data directory is the operator's part:
 * two would only do the work twice.
 */
#ifndef SS_CORE_RESEAL_H
#define SS_CORE_RESEAL_H

#include <stdbool.h>
#include <stdint.h>

#include "base/err.h"
#include "core/app.h"

#define SS_RESEAL_BATCH     500   /* rows per transaction, by default */
#define SS_RESEAL_BATCH_MAX 10000 /* and at most */
/* seconds a data key must have been current before old ones are fenced: a server reloads keys every 10 s */
#define SS_RESEAL_SETTLE  11
#define SS_RESEAL_MAX_OLD 16 /* old data keys retired by one run (a further run retires the rest) */

/* The two walks: the first re-seals, the second re-seals what was written under an old key meanwhile. */
enum ss_reseal_pass { SS_RESEAL_PASS_RESEAL = 1, SS_RESEAL_PASS_CHECK = 2 };

/* What a run is told, and whom it tells how it goes (the callbacks may be NULL). */
struct ss_reseal_report {
	int batch;      /* rows per transaction (0: SS_RESEAL_BATCH) */
	int64_t settle; /* seconds, as SS_RESEAL_SETTLE (0 where no other process runs, as in unit tests) */
	/* after each batch: the column ("population.sealed"), its rows read and re-sealed so far, whether it is done */
	void (*progress)(void *ctx, enum ss_reseal_pass pass, const char *column, int64_t rows, int64_t resealed,
	                 bool done);
	/* before waiting for running servers to load the current key: how many seconds */
	void (*waiting)(void *ctx, uint32_t key_id, int64_t seconds);
	void *ctx;
};

struct ss_reseal_result {
	uint32_t current;                    /* the data key everything is sealed under now */
	uint32_t retired[SS_RESEAL_MAX_OLD]; /* the data keys retired */
	int nretired;                        /* 0: there was nothing to re-seal */
	int64_t rows;                        /* blobs read by the first walk */
	int64_t resealed;                    /* blobs re-sealed by both */
};

/*
 * Re-seals everything under the current data key and retires the old ones
 * (see above). SS_INVALID naming the row if a blob does not open (it cannot
 * be re-sealed, and its key does not retire); SS_BUSY if the store stays
 * locked; run again to go on.
 */
enum ss_err ss_reseal_run(struct ss_app *app, const struct ss_reseal_report *rep, struct ss_reseal_result *out) SS_MUST;

#endif
