/* lowprio: a few threads of nice 19 that run what they are handed (see lowprio.h). */
#include "base/lowprio.h"

#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#define LOW_NICE    19
#define THREADS_MAX 64

struct job {
	void (*fn)(void *ctx);
	void *ctx;
	bool done;
	pthread_cond_t cond;
	struct job *next;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static struct job *head, *tail;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static bool started;

static void *worker(void *arg)
{
	(void)arg;
	/*
	 * SCHED_IDLE: such a thread gives way the moment any other thread wakes
	 * (nice 19 alone lets it finish its slice first, a millisecond or more of
	 * delay for every wake-up of a scan); it holds no lock, so it can starve
	 * no one. Best effort: where neither can be set, the work runs as is.
	 */
	struct sched_param sp = {0};
	if (sched_setscheduler(0, SCHED_IDLE, &sp) != 0)
		(void)setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), LOW_NICE);
	for (;;) {
		pthread_mutex_lock(&lock);
		while (!head)
			pthread_cond_wait(&wake, &lock);
		struct job *j = head;
		head = j->next;
		if (!head)
			tail = NULL;
		pthread_mutex_unlock(&lock);
		j->fn(j->ctx);
		pthread_mutex_lock(&lock);
		j->done = true;
		pthread_cond_signal(&j->cond);
		pthread_mutex_unlock(&lock);
	}
	return NULL;
}

static void start(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	if (n < 1)
		n = 1;
	if (n > THREADS_MAX)
		n = THREADS_MAX;
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	for (long i = 0; i < n; i++) {
		pthread_t t;
		if (pthread_create(&t, &attr, worker, NULL) == 0)
			started = true;
	}
	pthread_attr_destroy(&attr);
}

void ss_lowprio_run(void (*fn)(void *ctx), void *ctx)
{
	pthread_once(&once, start);
	if (!started) { /* no thread could be made: run it here */
		fn(ctx);
		return;
	}
	struct job j = {.fn = fn, .ctx = ctx};
	pthread_cond_init(&j.cond, NULL);
	pthread_mutex_lock(&lock);
	if (tail)
		tail->next = &j;
	else
		head = &j;
	tail = &j;
	pthread_cond_signal(&wake);
	while (!j.done)
		pthread_cond_wait(&j.cond, &lock);
	pthread_mutex_unlock(&lock);
	pthread_cond_destroy(&j.cond);
}
