/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * host_loop.c: epoll, timers and deferred frees for vpc-hostd.
 *
 * Hangups first: when a client closes a handle and then sends a request on
 * another, both events may arrive in the same batch.  Running every hangup
 * of the batch before any request keeps the order the client saw, so an
 * object dies on close(2) before the client's next call is answered, as it
 * would on FreeBSD where close(2) is synchronous.
 */
#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vpc_os.h"
#include "host_loop.h"
#include "host_os.h"

#define BATCH 256

static int epfd = -1;
static void (*batch_end)(void);
static volatile bool stopping;
static struct hsrc *retired;
static void **later;
static size_t nlater, later_cap;

/* Free p once the current batch of events is done. */
void
host_defer_free(void *p)
{
	if (nlater == later_cap) {
		size_t ncap = later_cap == 0 ? 16 : later_cap * 2;
		void **n = realloc(later, ncap * sizeof(*n));

		if (n == NULL)
			abort();        /* cannot keep the promise: die loudly */
		later = n;
		later_cap = ncap;
	}
	later[nlater++] = p;
}

static void
free_later(void)
{
	while (nlater > 0)
		free(later[--nlater]);
}

/* ---- Deferred frees (the epoch) ----------------------------------------- */

static struct os_defer *deferred;   /* os_storage[0] links them */
static unsigned epoch_readers;

void
os_epoch_enter(struct os_epoch *e)
{
	(void)e;
	epoch_readers++;
}

void
os_epoch_exit(struct os_epoch *e)
{
	(void)e;
	epoch_readers--;
}

void
os_epoch_assert(void)
{
	if (epoch_readers == 0) {
		fprintf(stderr, "vpc-hostd: epoch assertion failed: data path "
		    "entered outside the epoch\n");
		abort();
	}
}

void
os_epoch_defer(struct os_defer *d, void (*fn)(struct os_defer *))
{
	d->fn = fn;
	d->os_storage[0] = deferred;
	deferred = d;
}

void
hloop_reclaim(void)
{
	struct os_defer *d, *next;

	if (epoch_readers != 0)
		abort();        /* a reader outlived its iteration: a core bug */
	while ((d = deferred) != NULL) {
		deferred = NULL;
		for (; d != NULL; d = next) {
			next = d->os_storage[0];
			d->fn(d);
		}
	}
}

/* ---- Timers --------------------------------------------------------------- */

struct os_timer {
	struct os_mtx   *mtx;
	void           (*fn)(void *);
	void            *arg;
	uint64_t         when;
	bool             armed;
	struct os_timer *next;          /* all timers, armed or not */
	struct os_timer **prevp;
};

static struct os_timer *timers;

struct os_timer *
os_timer_create(struct os_mtx *m, void (*fn)(void *), void *arg)
{
	struct os_timer *t = host_fault_alloc() ? NULL : calloc(1, sizeof(*t));

	if (t == NULL)
		return (NULL);
	t->mtx = m;
	t->fn = fn;
	t->arg = arg;
	t->next = timers;
	if (timers != NULL)
		timers->prevp = &t->next;
	t->prevp = &timers;
	timers = t;
	return (t);
}

void
os_timer_arm(struct os_timer *t, uint64_t delay_ns)
{
	t->when = os_now_ns() + delay_ns;
	t->armed = true;
}

void
os_timer_stop(struct os_timer *t)
{
	t->armed = false;
}

/* Callbacks run on the loop thread, so once we are here none is running. */
void
os_timer_drain(struct os_timer *t)
{
	t->armed = false;
}

void
os_timer_destroy(struct os_timer *t)
{
	if (t == NULL)
		return;
	*t->prevp = t->next;
	if (t->next != NULL)
		t->next->prevp = t->prevp;
	free(t);
}

static int
timers_run(void)
{
	uint64_t now = os_now_ns(), next = UINT64_MAX;
	struct os_timer *t;
	bool again;

	do {
		again = false;
		for (t = timers; t != NULL; t = t->next) {
			if (!t->armed)
				continue;
			if (t->when <= now) {
				t->armed = false;
				if (t->mtx != NULL)
					os_mtx_lock(t->mtx);
				t->fn(t->arg);
				if (t->mtx != NULL)
					os_mtx_unlock(t->mtx);
				again = true;   /* the list may have changed */
				break;
			}
		}
	} while (again);
	for (t = timers; t != NULL; t = t->next)
		if (t->armed && t->when < next)
			next = t->when;
	if (next == UINT64_MAX)
		return (-1);
	now = os_now_ns();
	return (next <= now ? 0 : (int)((next - now + 999999) / 1000000));
}

void
hloop_run_timers(void)
{
	(void)timers_run();
}

/* ---- The loop ------------------------------------------------------------- */

/* ---- Accepting at the descriptor limit ------------------------------------- */

#define PAUSED_MAX 4
#define PAUSE_NS   (100 * 1000 * 1000ull)

uint64_t host_conn_refused;
static int reserve_fd = -1;
static bool at_limit;                   /* an episode is going on */
static uint64_t refused_at_start;       /* host_conn_refused when it began */
static struct os_timer *pause_timer;
static struct hsrc *paused[PAUSED_MAX];

static void
reserve_take(void)
{
	if (reserve_fd < 0)
		reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

/* Listeners paused for want of a reserve listen again. */
static void
unpause(void *arg)
{
	int i;

	(void)arg;
	reserve_take();
	for (i = 0; i < PAUSED_MAX; i++) {
		if (paused[i] != NULL && !paused[i]->retired)
			(void)hloop_mod(paused[i], EPOLLIN);
		paused[i] = NULL;
	}
}

static void
pause_listener(struct hsrc *l)
{
	int i, free_slot = -1;

	for (i = 0; i < PAUSED_MAX; i++) {
		if (paused[i] == l)
			return;
		if (paused[i] == NULL && free_slot < 0)
			free_slot = i;
	}
	if (free_slot < 0 || pause_timer == NULL)
		return;         /* cannot happen: two listeners */
	paused[free_slot] = l;
	(void)hloop_mod(l, 0);
	os_timer_arm(pause_timer, PAUSE_NS);
}

int
hloop_accept(struct hsrc *l, void (*refuse)(int fd))
{
	int fd, e;

	fd = accept4(l->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd >= 0) {
		if (at_limit) {
			at_limit = false;
			os_log(VPC_LOG_INFO, "descriptors available again: %llu "
			    "connection(s) refused at the limit (%llu in all)",
			    (unsigned long long)(host_conn_refused - refused_at_start),
			    (unsigned long long)host_conn_refused);
		}
		reserve_take();
		return (fd);
	}
	e = errno;
	if (e != EMFILE && e != ENFILE)
		return (-1);    /* EAGAIN: nothing (more) to take */
	if (!at_limit) {
		at_limit = true;
		refused_at_start = host_conn_refused;
		os_log(VPC_LOG_WARN, "out of descriptors (%s): refusing new "
		    "connections until some are closed", strerror(e));
	}
	if (reserve_fd < 0) {
		pause_listener(l);
		return (-1);
	}
	close(reserve_fd);
	reserve_fd = -1;
	fd = accept4(l->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	e = fd < 0 ? errno : 0;
	if (fd >= 0) {
		refuse(fd);
		close(fd);
		host_conn_refused++;
	}
	reserve_take();
	if (fd < 0 && e != EAGAIN && e != EWOULDBLOCK)
		pause_listener(l);      /* someone else took the reserve's place */
	return (-1);
}

uint64_t
os_conn_refused(void)
{
	return (host_conn_refused);
}

static void
accept_init(void)
{
	reserve_take();
	if (pause_timer == NULL)
		pause_timer = os_timer_create(NULL, unpause, NULL);
}

static void
accept_fini(void)
{
	if (reserve_fd >= 0)
		close(reserve_fd);
	reserve_fd = -1;
	os_timer_destroy(pause_timer);
	pause_timer = NULL;
	memset(paused, 0, sizeof(paused));
	at_limit = false;
}

int
hloop_init(void)
{
	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd < 0)
		return (-1);
	accept_init();
	return (0);
}

void
hloop_fini(void)
{
	struct hsrc *s;

	while ((s = retired) != NULL) {
		retired = s->retired_next;
		s->free_fn(s);
	}
	free_later();
	free(later);
	later = NULL;
	later_cap = 0;
	hloop_reclaim();
	accept_fini();
	if (epfd >= 0)
		close(epfd);
	epfd = -1;
}

int
host_loop_fd(void)
{
	return (epfd);
}

int
hloop_add(struct hsrc *src, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = src };

	return (epoll_ctl(epfd, EPOLL_CTL_ADD, src->fd, &ev));
}

int
hloop_mod(struct hsrc *src, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = src };

	return (epoll_ctl(epfd, EPOLL_CTL_MOD, src->fd, &ev));
}

void
hloop_retire(struct hsrc *src)
{
	if (src->retired)
		return;
	src->retired = true;
	if (src->fd >= 0) {
		if (!src->sole_ref)
			(void)epoll_ctl(epfd, EPOLL_CTL_DEL, src->fd, NULL);
		close(src->fd);
		src->fd = -1;
	}
	src->retired_next = retired;
	retired = src;
}

void
hloop_stop(void)
{
	stopping = true;
}

static void
dispatch(struct epoll_event *evs, int n)
{
	const uint32_t hup = EPOLLHUP | EPOLLRDHUP | EPOLLERR;
	struct hsrc *s;
	int i;

	for (i = 0; i < n; i++) {
		s = evs[i].data.ptr;
		if (s->hup_first && (evs[i].events & hup) != 0 && !s->retired) {
			s->fn(s, evs[i].events);
			evs[i].events = 0;
		}
	}
	for (i = 0; i < n; i++) {
		s = evs[i].data.ptr;
		if (evs[i].events != 0 && !s->retired)
			s->fn(s, evs[i].events);
	}
	while ((s = retired) != NULL) {
		retired = s->retired_next;
		s->free_fn(s);
	}
	free_later();
}

void
hloop_set_batch_end(void (*fn)(void))
{
	batch_end = fn;
}

void
hloop_batch_end_now(void)
{
	if (batch_end != NULL)
		batch_end();
}

int
hloop_run(void)
{
	struct epoll_event evs[BATCH];
	int n, timeout;

	while (!stopping) {
		host_clock_refresh();   /* the coarse clock of this wakeup */
		timeout = timers_run();
		if (batch_end != NULL)
			batch_end();
		hloop_reclaim();
		if (stopping)
			break;
		n = epoll_wait(epfd, evs, BATCH, timeout);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			host_clock_forget();
			return (-1);
		}
		host_clock_refresh();
		dispatch(evs, n);
		if (batch_end != NULL)
			batch_end();
		hloop_reclaim();
	}
	host_clock_forget();
	return (0);
}
