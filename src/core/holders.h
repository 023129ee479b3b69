/*
 * holders: what the scan path needs to know about everyone who can hold a
 * code, kept in memory so that a scan reads no database row: a compact array
 * indexed by person id with the current colour (1 byte, with a "holds a code"
 * bit), the time it was set (4 bytes), and the holder's particulars as sealed
 * in the store (opened only when a scene needs them, so no name lies in memory
 * in clear).
 *
 * The table follows the store: it is loaded at start (ss_holders_load) and
 * every change the server makes to colours or residents is applied to the
 * store first, then here; a new holder takes the colour the store gives them
 * (another process may have coloured them since the table last followed the
 * store). Thread-safe: many readers, one writer at a time.
 */
#ifndef SS_CORE_HOLDERS_H
#define SS_CORE_HOLDERS_H

#include <stdbool.h>
#include <stdint.h>

#include "base/arena.h"
#include "base/err.h"
#include "crypto/keyring.h"
#include "store/store.h"

enum ss_color { SS_GREEN = 0, SS_YELLOW = 1, SS_RED = 2 };

/* "green", "yellow", "red"; and back (false if unknown). */
const char *ss_color_name(int color);
bool ss_color_parse(const char *name, int *color);

struct ss_holders;

struct ss_holders *ss_holders_new(void);
void ss_holders_free(struct ss_holders *h);

/* Fills the table from the store: every registered resident, then every colour that is not green. */
enum ss_err ss_holders_load(struct ss_holders *h, struct ss_store *s) SS_MUST;

/*
 * Makes person_id a holder with these sealed particulars, in the colour the
 * store s holds for them (green since since if it holds none): so a person
 * coloured by another process (`suishen import records`) before they register
 * scans in that colour at once. If the table's colour for them changes while
 * the store is read, that one is newer and stays. A failed read adds no
 * holder (a scan answers unknown rather than a guess).
 */
enum ss_err ss_holders_add(struct ss_holders *h, struct ss_store *s, int64_t person_id, struct ss_blob sealed,
                           int64_t since) SS_MUST;

/* Sets a person's colour (holder or not: a colour can precede registration). */
void ss_holders_set_color(struct ss_holders *h, int64_t person_id, int color, int64_t since);

/* The colour and since of a holder; false if person_id holds no code. */
bool ss_holders_get(const struct ss_holders *h, int64_t person_id, int *color, int64_t *since);

/*
 * Copies a holder's sealed particulars into buf (cap bytes) and their length
 * into *n; false if person_id holds no code or they do not fit. No allocation:
 * the scan path calls it.
 */
bool ss_holders_sealed(const struct ss_holders *h, int64_t person_id, uint8_t *buf, size_t cap, size_t *n);

/* How many people hold a code. */
int64_t ss_holders_count(const struct ss_holders *h);

/*
 * Re-seals in memory, under kr's current data key, the particulars (sealed for
 * ad) of every holder that name key_id, so that key_id can leave the key ring
 * when it retires (core/reseal.h); the store's copies are re-sealed apart.
 * The table is locked a slice at a time, so scans go on meanwhile. Returns
 * how many were re-sealed; one that does not open stays as it was.
 */
int64_t ss_holders_reseal(struct ss_holders *h, const struct ss_keyring *kr, const char *ad, uint32_t key_id);

#endif
