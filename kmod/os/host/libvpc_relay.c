/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libvpc_relay.c: the upcall relay, libvpc's part of vpc-agent on the host
 * kernel (the prototypes and message layout are in vpc.h).
 *
 * Why it exists: a lone miss has to wake whoever answers it.  Linux's vxlan
 * wakes its C netlink agent; bench/profile's C reader on vpc-hostd's upcall
 * socket answers as fast, but vpc-agent, which wakes Node, its event loop
 * and its JavaScript (cold after sleeping, and large), took 130-290 us
 * more per miss on this machine.  The relay is that C reader, inside the
 * agent's process: a thread of its own reads the upcall socket, answers at
 * once each leading L2 request whose (VNI, MAC) is in its table, and hands
 * every record on to the agent with what became of those it answered.
 *
 * What stays the agent's: the table is its resolver's mappings (the found
 * ones; it keeps them equal, vpc_relay_update); every other request (an
 * unknown MAC, an L3 miss, anything after the first one the relay cannot
 * answer) it answers as before; it counts, logs and follows each record the
 * relay answered as if it had answered it; and it pauses the relay while
 * it resolves anything itself, so a request never overtakes an earlier one
 * for the same MAC.
 *
 * The table's lock is held from the lookups until vpc_ctl returns, and
 * vpc_ctl returns once vpc-hostd has applied the answers: so when an update
 * returns, every answer given from the old value is in the kernel already,
 * where the agent's following of that change finds it (as when it answers
 * itself: its answers and its changes take turns on one thread).
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "vpc.h"
#include "libvpc_own.h"

#define EXPORT __attribute__((visibility("default")))

#define REQ      sizeof(vpc_upcall_req_t)
/* Records per message: it fits the agent's 64 KiB read buffer whole. */
#define RECS_MAX 576u
#define HDR      sizeof(vpc_relay_hdr_t)
#define RES_MAX  (((RECS_MAX * sizeof(int32_t)) + 7) & ~(size_t)7)

/* ---- The table: (VNI, MAC) -> VTEP, linear probing ------------------------ */

struct rslot {
	uint32_t vni1;                  /* VNI + 1; 0: empty */
	uint8_t  mac[6];
	uint8_t  af;
	uint8_t  _pad;
	uint8_t  addr[16];
	uint16_t port;
	uint64_t revision;
};

static struct {
	pthread_mutex_t mtx;
	struct rslot   *s;
	size_t          mask;           /* slots - 1; no slots while s is NULL */
	size_t          used;
	uint64_t        seed[2];
	bool            seeded;
	bool            paused;
	uint32_t        ttl_ms;
} tab = { .mtx = PTHREAD_MUTEX_INITIALIZER };

static uint64_t
mac48(const uint8_t m[6])
{
	return ((uint64_t)m[0] << 40 | (uint64_t)m[1] << 32 | (uint64_t)m[2] << 24 |
	    (uint64_t)m[3] << 16 | (uint64_t)m[4] << 8 | m[5]);
}

/*
 * Keyed: the MACs looked up are the ones VMs send to.  The key words are
 * xored with the secret and multiplied (as the core's vpc_ktab does).
 */
static size_t
home(uint32_t vni, const uint8_t mac[6], size_t mask)
{
	unsigned __int128 r = (unsigned __int128)(mac48(mac) ^ tab.seed[0]) *
	    ((uint64_t)vni ^ tab.seed[1]);

	return ((size_t)((uint64_t)r ^ (uint64_t)(r >> 64)) & mask);
}

static struct rslot *
find(uint32_t vni, const uint8_t mac[6])
{
	size_t i;

	if (tab.s == NULL)
		return (NULL);
	for (i = home(vni, mac, tab.mask);; i = (i + 1) & tab.mask) {
		if (tab.s[i].vni1 == 0)
			return (NULL);
		if (tab.s[i].vni1 == vni + 1 && memcmp(tab.s[i].mac, mac, 6) == 0)
			return (&tab.s[i]);
	}
}

/* Store e into table s (room known to be there); true if its key is new. */
static bool
place(struct rslot *s, size_t mask, const struct rslot *e)
{
	size_t i;
	bool fresh;

	for (i = home(e->vni1 - 1, e->mac, mask);; i = (i + 1) & mask) {
		if (s[i].vni1 == 0 || (s[i].vni1 == e->vni1 &&
		    memcmp(s[i].mac, e->mac, 6) == 0)) {
			fresh = s[i].vni1 == 0;
			s[i] = *e;
			return (fresh);
		}
	}
}

/* Remove slot i, moving later entries of its run back (no tombstones). */
static void
unplace(size_t i)
{
	size_t j = i, k;

	for (;;) {
		j = (j + 1) & tab.mask;
		if (tab.s[j].vni1 == 0)
			break;
		k = home(tab.s[j].vni1 - 1, tab.s[j].mac, tab.mask);
		/* It stays where it is if its home lies cyclically in (i, j]. */
		if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
			continue;
		tab.s[i] = tab.s[j];
		i = j;
	}
	tab.s[i].vni1 = 0;
}

/* A table of 2^n slots holding `want` entries at a load of at most 1/2. */
static size_t
slots_for(size_t want)
{
	size_t n = 64;

	while (n < 2 * want)
		n *= 2;
	return (n);
}

/*
 * n zeroed slots.  A large table is mapped on its own, in huge pages where
 * the kernel has them: a 200,000-mapping load touched 5,000 small pages
 * one fault at a time, and lookups then miss the TLB less.
 */
#define TAB_MMAP_MIN (2u << 20)

static struct rslot *
slots_alloc(size_t n)
{
	size_t bytes = n * sizeof(struct rslot);
	void *p;

	if (bytes < TAB_MMAP_MIN)
		return (calloc(n, sizeof(struct rslot)));
	p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
	    -1, 0);
	if (p == MAP_FAILED)
		return (NULL);
	(void)madvise(p, bytes, MADV_HUGEPAGE);
	return (p);
}

static void
slots_free(struct rslot *s, size_t n)
{
	if (s == NULL)
		return;
	if (n * sizeof(struct rslot) < TAB_MMAP_MIN)
		free(s);
	else
		munmap(s, n * sizeof(struct rslot));
}

/* Move the table to n slots; false (nothing changed) without the memory. */
static bool
regrow(size_t n, bool keep)
{
	struct rslot *s = slots_alloc(n);
	size_t i;

	if (s == NULL)
		return (false);
	if (keep && tab.s != NULL)
		for (i = 0; i <= tab.mask; i++)
			if (tab.s[i].vni1 != 0)
				(void)place(s, n - 1, &tab.s[i]);
	slots_free(tab.s, tab.s != NULL ? tab.mask + 1 : 0);
	tab.s = s;
	tab.mask = n - 1;
	if (!keep)
		tab.used = 0;
	return (true);
}

/* The hash's secret, drawn once (tab.mtx held). */
static void
seed_once(void)
{
	if (tab.seeded)
		return;
	if (getrandom(tab.seed, sizeof(tab.seed), 0) != sizeof(tab.seed))
		tab.seed[0] = (uint64_t)(uintptr_t)&tab ^ (uint64_t)time(NULL);
	tab.seed[0] |= 1ull << 63;      /* never a zero product */
	tab.seed[1] |= 1ull << 63;
	tab.seeded = true;
}

static bool
entry_ok(const vpc_relay_entry_t *e)
{
	static const uint8_t zero[2];

	if (e->vni > 0xffffff || memcmp(e->_pad0, zero, sizeof(zero)) != 0)
		return (false);
	if (e->op == VPC_RELAY_DEL)
		return (true);
	return (e->op == VPC_RELAY_PUT &&
	    (e->af == VPC_AF_INET || e->af == VPC_AF_INET6));
}

EXPORT int
vpc_relay_update(const vpc_relay_entry_t *e, size_t n)
{
	struct rslot s, *p;
	size_t i, puts = 0;

	for (i = 0; i < n; i++) {
		if (!entry_ok(&e[i])) {
			errno = EINVAL;
			return (-1);
		}
		puts += e[i].op == VPC_RELAY_PUT;
	}
	pthread_mutex_lock(&tab.mtx);
	seed_once();
	/* Room for every put first, so that an error means nothing changed. */
	if ((tab.s == NULL || 2 * (tab.used + puts) > tab.mask + 1) &&
	    !regrow(slots_for(tab.used + puts), true)) {
		pthread_mutex_unlock(&tab.mtx);
		errno = ENOMEM;
		return (-1);
	}
	for (i = 0; i < n; i++) {
		p = find(e[i].vni, e[i].mac);
		if (e[i].op == VPC_RELAY_DEL) {
			if (p != NULL) {
				unplace((size_t)(p - tab.s));
				tab.used--;
			}
			continue;
		}
		memset(&s, 0, sizeof(s));
		s.vni1 = e[i].vni + 1;
		memcpy(s.mac, e[i].mac, 6);
		s.af = e[i].af;
		memcpy(s.addr, e[i].addr, 16);
		s.port = e[i].udp_port;
		s.revision = e[i].revision;
		if (p != NULL)
			*p = s;
		else if (place(tab.s, tab.mask, &s))
			tab.used++;
	}
	pthread_mutex_unlock(&tab.mtx);
	return (0);
}

/*
 * The whole table from a directory's own records, with no entry packed per
 * mapping: a 200,000-mapping load held the agent's event loop 200-285 ms
 * through vpc_relay_update, this takes 21-29 ms (with the slots prefetched
 * a few records ahead and the table in huge pages; 89 ms with neither).
 * Everything is checked before the table is touched.
 */
EXPORT int
vpc_relay_load(const uint32_t *words, size_t n, size_t stride,
    const uint8_t *vteps, size_t nvteps, const double *revs, uint64_t revision)
{
	const uint32_t *w;
	struct rslot s;
	size_t i, live = 0;

	if ((n > 0 && (words == NULL || stride < 4)) ||
	    (nvteps > 0 && vteps == NULL)) {
		errno = EINVAL;
		return (-1);
	}
	for (i = 0; i < nvteps; i++)
		if (vteps[i * 17] != VPC_AF_INET && vteps[i * 17] != VPC_AF_INET6) {
			errno = EINVAL;
			return (-1);
		}
	for (i = 0, w = words; i < n; i++, w += stride) {
		if (w[0] == 0)
			continue;
		if (w[0] - 1 > 0xffffff || w[3] >= nvteps ||
		    (revs != NULL && !(revs[i] >= 0 && revs[i] < 18446744073709551616.0))) {
			errno = EINVAL;
			return (-1);
		}
		live++;
	}
	pthread_mutex_lock(&tab.mtx);
	seed_once();
	if (!regrow(slots_for(live), false)) {
		pthread_mutex_unlock(&tab.mtx);
		errno = ENOMEM;
		return (-1);
	}
	for (i = 0, w = words; i < n; i++, w += stride) {
		/* The slots a few records on, fetched while this one is placed. */
		if (i + 8 < n && w[8 * stride] != 0) {
			uint8_t m[6] = { (uint8_t)(w[8 * stride + 1] >> 24),
			    (uint8_t)(w[8 * stride + 1] >> 16),
			    (uint8_t)(w[8 * stride + 1] >> 8), (uint8_t)w[8 * stride + 1],
			    (uint8_t)(w[8 * stride + 2] >> 24),
			    (uint8_t)(w[8 * stride + 2] >> 16) };

			__builtin_prefetch(&tab.s[home(w[8 * stride] - 1, m, tab.mask)], 1);
		}
		if (w[0] == 0)
			continue;
		memset(&s, 0, sizeof(s));
		s.vni1 = w[0];
		s.mac[0] = (uint8_t)(w[1] >> 24);
		s.mac[1] = (uint8_t)(w[1] >> 16);
		s.mac[2] = (uint8_t)(w[1] >> 8);
		s.mac[3] = (uint8_t)w[1];
		s.mac[4] = (uint8_t)(w[2] >> 24);
		s.mac[5] = (uint8_t)(w[2] >> 16);
		s.port = (uint16_t)(w[2] & 0xffff);
		s.af = vteps[w[3] * 17];
		memcpy(s.addr, &vteps[w[3] * 17 + 1], 16);
		s.revision = revs != NULL ? (uint64_t)revs[i] : revision;
		if (place(tab.s, tab.mask, &s))
			tab.used++;
	}
	pthread_mutex_unlock(&tab.mtx);
	return (0);
}

EXPORT void
vpc_relay_pause(int paused)
{
	pthread_mutex_lock(&tab.mtx);
	tab.paused = paused != 0;
	pthread_mutex_unlock(&tab.mtx);
}

/* ---- The thread ------------------------------------------------------------ */

struct relay {
	int      up;                    /* vpc-hostd's upcall socket */
	int      out;                   /* our end of the agent's socketpair */
	size_t   have;                  /* bytes of a partial record in in[] */
	uint8_t  in[RECS_MAX * REQ];
	uint8_t  msg[HDR + RES_MAX + RECS_MAX * REQ];
	vpc_upcall_ans_t ans[RECS_MAX];
};

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec);
}

/*
 * Answer the leading L2 requests of recs[0..n) the table has; their results
 * go to res.  Returns how many were answered (and applied: see the top).
 */
static uint32_t
answer_leading(struct relay *r, const uint8_t *recs, uint32_t n, int32_t *res,
    uint64_t *at)
{
	vpc_upcall_req_t q;
	struct rslot *s;
	uint32_t k = 0, i, c;
	size_t vallen;

	pthread_mutex_lock(&tab.mtx);
	for (; !tab.paused && k < n; k++) {
		memcpy(&q, recs + (size_t)k * REQ, REQ);
		if (q.kind != VPC_UPCALL_L2MISS || (s = find(q.vni, q.dstmac)) == NULL)
			break;
		memset(&r->ans[k], 0, sizeof(r->ans[k]));
		r->ans[k].req_id = q.req_id;
		r->ans[k].generation = q.generation;
		r->ans[k].status = VPC_UPCALL_FOUND;
		r->ans[k].ttl_ms = tab.ttl_ms;
		r->ans[k].af = s->af;
		r->ans[k].udp_port = s->port;
		memcpy(r->ans[k].addr, s->addr, 16);
		r->ans[k].revision = s->revision;
	}
	for (i = 0; i < k; i += c) {
		c = k - i < VPC_UPCALL_BATCH_MAX ? k - i : VPC_UPCALL_BATCH_MAX;
		vallen = c * sizeof(int32_t);
		/* Not delivered (the daemon went away): the agent answers the rest. */
		if (libvpc_ctl_own(VPC_HANDLE_NONE, VPC_OP_SYS_UPCALL_ANSWER,
		    c * sizeof(vpc_upcall_ans_t), &r->ans[i], &vallen, &res[i]) != 0) {
			k = i;
			break;
		}
	}
	*at = now_ns();
	pthread_mutex_unlock(&tab.mtx);
	return (k);
}

static bool
send_all(int fd, const uint8_t *p, size_t len)
{
	ssize_t w;

	while (len > 0) {
		w = send(fd, p, len, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return (false);
		p += w;
		len -= (size_t)w;
	}
	return (true);
}

/* Pass the hello on as it came; false once either side is gone. */
static bool
relay_hello(struct relay *r)
{
	uint8_t h[sizeof(vpc_upcall_hello_t)];
	size_t got = 0;
	ssize_t n;

	while (got < sizeof(h)) {
		n = read(r->up, h + got, sizeof(h) - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return (false);
		got += (size_t)n;
	}
	return (send_all(r->out, h, sizeof(h)));
}

/* One read of the upcall socket, answered and passed on; false at the end. */
static bool
relay_once(struct relay *r)
{
	vpc_relay_hdr_t h;
	uint32_t nrec, answered;
	size_t whole, res_bytes;
	uint64_t at = 0;
	ssize_t n;

	n = read(r->up, r->in + r->have, sizeof(r->in) - r->have);
	if (n < 0)
		return (errno == EINTR || errno == EAGAIN);
	if (n == 0)
		return (false);
	r->have += (size_t)n;
	nrec = (uint32_t)(r->have / REQ);
	whole = (size_t)nrec * REQ;
	if (nrec == 0)
		return (true);
	answered = answer_leading(r, r->in, nrec, (int32_t *)(void *)(r->msg + HDR), &at);
	res_bytes = ((size_t)answered * sizeof(int32_t) + 7) & ~(size_t)7;
	memset(r->msg + HDR + (size_t)answered * sizeof(int32_t), 0,
	    res_bytes - (size_t)answered * sizeof(int32_t));
	memcpy(r->msg + HDR + res_bytes, r->in, whole);
	memset(&h, 0, sizeof(h));
	h.magic = VPC_RELAY_MAGIC;
	h.bytes = (uint32_t)(HDR + res_bytes + whole);
	h.records = nrec;
	h.answered = answered;
	h.at_ns = at;
	memcpy(r->msg, &h, HDR);
	memmove(r->in, r->in + whole, r->have - whole);
	r->have -= whole;
	return (send_all(r->out, r->msg, h.bytes));
}

static void *
relay_main(void *arg)
{
	struct relay *r = arg;
	struct pollfd pf[2];

	if (relay_hello(r)) {
		for (;;) {
			pf[0].fd = r->up;
			pf[0].events = POLLIN;
			pf[1].fd = r->out;
			pf[1].events = 0;       /* only its hang-up: the agent closed */
			pf[0].revents = pf[1].revents = 0;
			if (poll(pf, 2, -1) < 0) {
				if (errno == EINTR)
					continue;
				break;
			}
			if ((pf[1].revents & (POLLHUP | POLLERR | POLLNVAL)) != 0)
				break;
			if (pf[0].revents != 0 && !relay_once(r))
				break;
		}
	}
	/* The daemon requeues what was not answered for the next reader. */
	close(r->up);
	close(r->out);
	free(r);
	return (NULL);
}

EXPORT int
vpc_relay_start(const char *path, uint32_t ttl_ms)
{
	struct sockaddr_un sun;
	struct relay *r;
	pthread_attr_t attr;
	pthread_t t;
	sigset_t all, old;
	int sv[2], up, error;

	if (path == NULL || strlen(path) >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return (-1);
	}
	if ((r = malloc(sizeof(*r))) == NULL)
		return (-1);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strcpy(sun.sun_path, path);
	up = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (up < 0 || connect(up, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		error = errno;
		if (up >= 0)
			close(up);
		free(r);
		errno = error;
		return (-1);
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		error = errno;
		close(up);
		free(r);
		errno = error;
		return (-1);
	}
	r->up = up;
	r->out = sv[1];
	r->have = 0;
	pthread_mutex_lock(&tab.mtx);
	tab.ttl_ms = ttl_ms;
	pthread_mutex_unlock(&tab.mtx);
	/* Signals are the process's main thread's business, not ours. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	error = pthread_create(&t, &attr, relay_main, r);
	pthread_attr_destroy(&attr);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (error != 0) {
		close(up);
		close(sv[0]);
		close(sv[1]);
		free(r);
		errno = error;
		return (-1);
	}
	return (sv[0]);
}
