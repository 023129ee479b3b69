/*
 * lowprio: running a computation on a thread of the lowest priority.
 *
 * Some work anyone may ask for at will and that holds nothing while it runs
 * (an argon2id hash: tens of milliseconds and 19 MiB each, for every log-in
 * attempt) should take only what more urgent threads leave, without the
 * thread that asked for it running at that priority itself: that thread may
 * hold the store, and a starved holder would keep everyone else waiting.
 * Linux keeps a nice value per thread, so the work goes to a few threads of
 * nice 19, one per CPU, started on first use and kept for the process's life.
 * Any thread may call; the caller waits, without using a processor.
 */
#ifndef SS_BASE_LOWPRIO_H
#define SS_BASE_LOWPRIO_H

/* Runs fn(ctx) on a low-priority thread and returns once it has run. */
void ss_lowprio_run(void (*fn)(void *ctx), void *ctx);

#endif
