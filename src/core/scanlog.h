/*
 * scanlog: the one writer of the scan log. Every scan, whatever its result,
 * is recorded before it is answered: handlers queue the record and are called
 * back once it is committed. The writer thread takes everything queued, writes
 * it in one transaction (synchronous=FULL: on disk when it commits) and then
 * calls back each record's owner, so the cost of a commit is shared by every
 * scan that arrived meanwhile (group commit) and a scan costs no fsync of its
 * own.
 *
 * Scan ids are given at queueing (counting on from the largest in the store),
 * so an answer can carry its id. The queue is bounded: past SS_SCANLOG_MAX
 * waiting records, new ones are refused with SS_BUSY. Thread-safe.
 */
#ifndef SS_CORE_SCANLOG_H
#define SS_CORE_SCANLOG_H

#include <stddef.h>

#include "base/err.h"
#include "store/store.h"

#define SS_SCANLOG_MAX   65536 /* records waiting for a commit, at most */
#define SS_SCANLOG_BATCH 8192  /* records in one transaction, at most */

/*
 * Writes n scans (their ids given) in one transaction, with an audit entry for
 * each that showed its holder's particulars unmasked (core/audit.h), as the
 * writer thread does: for a command that writes scans itself (the demo).
 */
enum ss_err ss_scanlog_write(struct ss_store *s, const struct ss_scan_row *rows, size_t n) SS_MUST;

/* Called from the writer thread once the record is on disk (SS_OK) or could not be written. */
typedef void (*ss_scan_done_fn)(void *ctx, enum ss_err err);

struct ss_scanlog;

/* Starts the writer over store s. */
enum ss_err ss_scanlog_start(struct ss_store *s, struct ss_scanlog **out) SS_MUST;

/* Writes what is queued, calls every owner back, and stops the writer. NULL is a no-op. */
void ss_scanlog_stop(struct ss_scanlog *log);

/* Queues a copy of rec, first giving it its scan_id; done(ctx, err) follows from the writer thread. */
enum ss_err ss_scanlog_append(struct ss_scanlog *log, struct ss_scan_row *rec, ss_scan_done_fn done, void *ctx) SS_MUST;

/* Queues rec and waits until it is written. */
enum ss_err ss_scanlog_append_wait(struct ss_scanlog *log, struct ss_scan_row *rec) SS_MUST;

#endif
