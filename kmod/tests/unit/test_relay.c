/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_relay: libvpc's upcall relay (os/host/libvpc_relay.c) between a fake
 * vpc-hostd (a Unix socket this program listens on and writes records to)
 * and the agent's end it returns, with its vpc_ctl (libvpc_ctl_own, the
 * unprobed one: libvpc_own.h) replaced by a recorder: the
 * table's updates (a bad entry changes nothing, deletes keep every other
 * entry findable), which requests it answers (the leading known L2 ones,
 * none while paused), the answers' contents, batches of 256 per vpc_ctl, a
 * failed vpc_ctl leaving the rest to the agent, a whole table loaded from a
 * directory's records (vpc_relay_load), the messages' framing,
 * records split across reads, and either side's going away.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "vpc.h"
#include "libvpc_own.h"

static int failures, passed;

#define CHECK(c) do {                                                   \
	if (!(c)) {                                                     \
		fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #c); \
		failures++;                                             \
	} else                                                          \
		passed++;                                               \
} while (0)

/* ---- libvpc_ctl_own, recorded ---------------------------------------------- */

static pthread_mutex_t rec_mtx = PTHREAD_MUTEX_INITIALIZER;
static vpc_upcall_ans_t answers[4096];
static unsigned nanswers, ncalls, fail_call;    /* fail_call: 1-based, 0 none */
static int32_t refuse_with;                     /* the result of every answer */

int
libvpc_ctl_own(vpc_handle_t h, vpc_op_t op, size_t keylen, const void *key,
    size_t *vallen, void *buf)
{
	size_t n = keylen / sizeof(vpc_upcall_ans_t), i;
	int rc = 0;

	pthread_mutex_lock(&rec_mtx);
	ncalls++;
	if (h != VPC_HANDLE_NONE || op != VPC_OP_SYS_UPCALL_ANSWER ||
	    keylen % sizeof(vpc_upcall_ans_t) != 0 || n == 0 ||
	    n > VPC_UPCALL_BATCH_MAX || *vallen != n * sizeof(int32_t)) {
		errno = EINVAL;
		rc = -1;
	} else if (fail_call != 0 && ncalls == fail_call) {
		errno = EPIPE;
		rc = -1;
	} else {
		for (i = 0; i < n && nanswers < 4096; i++)
			memcpy(&answers[nanswers++], (const char *)key +
			    i * sizeof(vpc_upcall_ans_t), sizeof(vpc_upcall_ans_t));
		for (i = 0; i < n; i++)
			((int32_t *)buf)[i] = refuse_with;
	}
	pthread_mutex_unlock(&rec_mtx);
	return (rc);
}

static void
recorder_reset(void)
{
	pthread_mutex_lock(&rec_mtx);
	nanswers = ncalls = fail_call = 0;
	refuse_with = 0;
	pthread_mutex_unlock(&rec_mtx);
}

/* ---- The fake daemon and the agent's end ---------------------------------- */

static char sock_path[108];
static int listener;

struct pair {
	int daemon;                     /* what vpc-hostd writes records to */
	int agent;                      /* what vpc_relay_start returned */
};

static struct pair
attach(void)
{
	vpc_upcall_hello_t hello = { .magic = VPC_UPCALL_MAGIC,
	    .version = VPC_ABI_VERSION, .req_size = sizeof(vpc_upcall_req_t) };
	vpc_upcall_hello_t got;
	struct pair p;

	p.agent = vpc_relay_start(sock_path, 60000);
	CHECK(p.agent >= 0);
	p.daemon = accept(listener, NULL, NULL);
	CHECK(p.daemon >= 0);
	CHECK(write(p.daemon, &hello, sizeof(hello)) == (ssize_t)sizeof(hello));
	/* The hello is passed on as it came. */
	CHECK(read(p.agent, &got, sizeof(got)) == (ssize_t)sizeof(got));
	CHECK(memcmp(&got, &hello, sizeof(got)) == 0);
	return (p);
}

static void
detach(struct pair *p)
{
	char c;

	close(p->daemon);
	/* The relay closes the agent's side once the daemon's is gone. */
	CHECK(read(p->agent, &c, 1) == 0);
	close(p->agent);
}

static void
mac_of(unsigned i, uint8_t mac[6])
{
	mac[0] = 0x02;
	mac[1] = 0x00;
	mac[2] = (uint8_t)(i >> 24);
	mac[3] = (uint8_t)(i >> 16);
	mac[4] = (uint8_t)(i >> 8);
	mac[5] = (uint8_t)i;
}

static vpc_upcall_req_t
l2_req(unsigned id, uint32_t vni, unsigned mac)
{
	vpc_upcall_req_t q;

	memset(&q, 0, sizeof(q));
	q.magic = VPC_UPCALL_MAGIC;
	q.size = sizeof(q);
	q.kind = VPC_UPCALL_L2MISS;
	q.req_id = id;
	q.generation = 1000 + id;
	q.vni = vni;
	mac_of(mac, q.dstmac);
	return (q);
}

/* An empty table (a load of no records). */
static bool
reset_table(void)
{
	return (vpc_relay_load(NULL, 0, 4, NULL, 0, NULL, 0) == 0);
}

static vpc_relay_entry_t
put(uint32_t vni, unsigned mac, uint8_t last, uint16_t port, uint64_t revision)
{
	vpc_relay_entry_t e;

	memset(&e, 0, sizeof(e));
	e.vni = vni;
	mac_of(mac, e.mac);
	e.op = VPC_RELAY_PUT;
	e.af = VPC_AF_INET;
	e.addr[0] = 198;
	e.addr[1] = 51;
	e.addr[2] = 100;
	e.addr[3] = last;
	e.udp_port = port;
	e.revision = revision;
	return (e);
}

static vpc_relay_entry_t
del(uint32_t vni, unsigned mac)
{
	vpc_relay_entry_t e;

	memset(&e, 0, sizeof(e));
	e.vni = vni;
	mac_of(mac, e.mac);
	e.op = VPC_RELAY_DEL;
	return (e);
}

/* Read one message whole; returns its header, results and records. */
static uint8_t msgbuf[1 << 17];

static vpc_relay_hdr_t
read_msg(int fd, const int32_t **res, const vpc_upcall_req_t **recs)
{
	vpc_relay_hdr_t h;
	size_t got = 0;
	ssize_t n;

	memset(&h, 0, sizeof(h));
	while (got < sizeof(h) || got < h.bytes) {
		n = read(fd, msgbuf + got, got < sizeof(h) ? sizeof(h) - got :
		    h.bytes - got);
		if (n <= 0) {
			CHECK(n > 0);
			memset(&h, 0, sizeof(h));
			return (h);
		}
		got += (size_t)n;
		if (got == sizeof(h)) {
			memcpy(&h, msgbuf, sizeof(h));
			if (h.bytes > sizeof(msgbuf) || h.bytes < sizeof(h)) {
				CHECK(h.bytes <= sizeof(msgbuf));
				memset(&h, 0, sizeof(h));
				return (h);
			}
		}
	}
	CHECK(h.magic == VPC_RELAY_MAGIC);
	CHECK(h.answered <= h.records);
	CHECK(h.bytes == sizeof(h) + ((h.answered * 4 + 7) & ~7u) +
	    h.records * sizeof(vpc_upcall_req_t));
	*res = (const int32_t *)(const void *)(msgbuf + sizeof(h));
	*recs = (const vpc_upcall_req_t *)(const void *)(msgbuf + sizeof(h) +
	    ((h.answered * 4 + 7) & ~7u));
	return (h);
}

/*
 * Send n records in one write; how many the relay answered, over however
 * many reads they arrived in (each read's own leading run).
 */
static uint32_t
roundtrip(struct pair *p, const vpc_upcall_req_t *q, unsigned n)
{
	const int32_t *res;
	const vpc_upcall_req_t *recs;
	vpc_relay_hdr_t h;
	uint32_t records = 0, answered = 0;

	CHECK(write(p->daemon, q, n * sizeof(*q)) == (ssize_t)(n * sizeof(*q)));
	while (records < n) {
		h = read_msg(p->agent, &res, &recs);
		if (h.records == 0)
			break;
		CHECK(records + h.records <= n);
		CHECK(memcmp(recs, q + records, h.records * sizeof(*q)) == 0);
		answered += h.answered;
		records += h.records;
	}
	CHECK(records == n);
	return (answered);
}

/* ---- The tests --------------------------------------------------------------- */

static void
test_answers_and_contents(void)
{
	vpc_relay_entry_t e[2] = { put(7, 1, 11, 0, 42), put(7, 2, 12, 4790, 43) };
	vpc_upcall_req_t q[2] = { l2_req(1, 7, 1), l2_req(2, 7, 2) };
	struct pair p;

	recorder_reset();
	CHECK(reset_table() && vpc_relay_update(e, 2) == 0);
	p = attach();
	CHECK(roundtrip(&p, q, 2) == 2);
	CHECK(nanswers == 2 && ncalls == 1);
	CHECK(answers[0].req_id == 1 && answers[0].generation == 1001);
	CHECK(answers[0].status == VPC_UPCALL_FOUND && answers[0].ttl_ms == 60000);
	CHECK(answers[0].af == VPC_AF_INET && answers[0].addr[3] == 11);
	CHECK(answers[0].udp_port == 0 && answers[0].revision == 42);
	CHECK(answers[1].udp_port == 4790 && answers[1].revision == 43 &&
	    answers[1].addr[3] == 12);
	/* The same MAC in another VNI is another key. */
	q[0] = l2_req(3, 8, 1);
	CHECK(roundtrip(&p, q, 1) == 0);
	detach(&p);
}

static void
test_leading_run_only(void)
{
	vpc_relay_entry_t e[2] = { put(7, 1, 11, 0, 1), put(7, 2, 12, 0, 1) };
	vpc_upcall_req_t q[4] = { l2_req(1, 7, 1), l2_req(2, 7, 2),
	    l2_req(3, 7, 1), l2_req(4, 7, 2) };
	struct pair p;

	recorder_reset();
	CHECK(reset_table() && vpc_relay_update(e, 2) == 0);
	p = attach();
	q[2].kind = VPC_UPCALL_L3MISS;  /* the agent's, and what follows it */
	CHECK(roundtrip(&p, q, 4) == 2);
	q[0] = l2_req(5, 7, 99);        /* unknown first: nothing answered */
	CHECK(roundtrip(&p, q, 2) == 0);
	CHECK(nanswers == 2);
	/* Paused, nothing; resumed, answered again. */
	vpc_relay_pause(1);
	q[0] = l2_req(6, 7, 1);
	CHECK(roundtrip(&p, q, 1) == 0);
	vpc_relay_pause(0);
	CHECK(roundtrip(&p, q, 1) == 1);
	/* What the kernel said of each answer comes back with it. */
	refuse_with = VPC_ESTALE;
	{
		const int32_t *res;
		const vpc_upcall_req_t *recs;
		vpc_relay_hdr_t h;

		CHECK(write(p.daemon, q, sizeof(q[0])) == (ssize_t)sizeof(q[0]));
		h = read_msg(p.agent, &res, &recs);
		CHECK(h.answered == 1 && res[0] == VPC_ESTALE);
	}
	detach(&p);
}

static void
test_bad_update_changes_nothing(void)
{
	vpc_relay_entry_t good = put(9, 5, 20, 0, 1), bad[3];
	vpc_upcall_req_t q = l2_req(1, 9, 5), q2 = l2_req(2, 9, 6);
	struct pair p;
	unsigned i;

	recorder_reset();
	CHECK(reset_table() && vpc_relay_update(&good, 1) == 0);
	for (i = 0; i < 4; i++) {
		bad[0] = put(9, 6, 21, 0, 1);   /* fine by itself */
		bad[1] = del(9, 5);             /* fine by itself */
		bad[2] = put(9, 7, 22, 0, 1);
		if (i == 0)
			bad[2].op = 3;
		else if (i == 1)
			bad[2].af = 0;
		else if (i == 2)
			bad[2].vni = 0x1000000;
		else
			bad[2]._pad0[1] = 1;
		errno = 0;
		CHECK(vpc_relay_update(bad, 3) == -1 && errno == EINVAL);
	}
	p = attach();
	CHECK(roundtrip(&p, &q, 1) == 1);       /* still there */
	CHECK(roundtrip(&p, &q2, 1) == 0);      /* never added */
	detach(&p);
}

/* Many entries, every other one deleted: the rest all still found (the
 * deletion moves entries back along their runs). */
static void
test_many_and_deletes(void)
{
	enum { N = 3000 };
	static vpc_relay_entry_t e[N];
	vpc_upcall_req_t q;
	struct pair p;
	unsigned i, found = 0, wrong = 0;

	recorder_reset();
	for (i = 0; i < N; i++)
		e[i] = put(3, i, (uint8_t)i, 0, i);
	CHECK(reset_table() && vpc_relay_update(NULL, 0) == 0);
	for (i = 0; i < N; i += 100)                    /* grows as it goes */
		CHECK(vpc_relay_update(&e[i], 100) == 0);
	for (i = 0; i < N; i += 2)
		e[i] = del(3, i);
	CHECK(vpc_relay_update(e, N) == 0);  /* odd ones put again: same */
	p = attach();
	for (i = 0; i < N; i++) {
		unsigned before = nanswers;

		q = l2_req(i + 1, 3, i);
		if (roundtrip(&p, &q, 1) == 1) {
			found++;
			if (i % 2 == 0 || answers[before].revision != i)
				wrong++;
		}
	}
	CHECK(found == N / 2);
	CHECK(wrong == 0);
	detach(&p);
}

static void
test_batches_of_256_and_failure(void)
{
	static vpc_relay_entry_t e[600];
	static vpc_upcall_req_t q[600];
	struct pair p;
	unsigned i;

	recorder_reset();
	for (i = 0; i < 600; i++) {
		e[i] = put(4, i, 1, 0, 1);
		q[i] = l2_req(i + 1, 4, i);
	}
	CHECK(reset_table() && vpc_relay_update(e, 600) == 0);
	p = attach();
	/* 576 records a read at most: 256 + 256 + 64, then 24 more. */
	CHECK(roundtrip(&p, q, 600) == 600);
	CHECK(nanswers == 600);
	CHECK(ncalls >= 3);
	/* The second vpc_ctl fails: the first 256 were answered, the rest are the agent's. */
	recorder_reset();
	pthread_mutex_lock(&rec_mtx);
	fail_call = 2;
	pthread_mutex_unlock(&rec_mtx);
	{
		const int32_t *res;
		const vpc_upcall_req_t *recs;
		vpc_relay_hdr_t h;

		/* 31 KB in one write: one read. */
		CHECK(write(p.daemon, q, 300 * sizeof(q[0])) == (ssize_t)(300 * sizeof(q[0])));
		h = read_msg(p.agent, &res, &recs);
		CHECK(h.records == 300 && h.answered == 256);
		CHECK(nanswers == 256);
	}
	detach(&p);
}

/*
 * vpc_relay_load: a directory's records as they lie (stride words each,
 * unused ones skipped), one revision or one per record; a bad record or
 * VTEP changes nothing.
 */
static void
test_load(void)
{
	enum { N = 2000, STRIDE = 5 };
	static uint32_t w[N * STRIDE];
	static double revs[N];
	uint8_t vteps[2 * 17];
	vpc_relay_entry_t keep = put(6, 77777, 1, 0, 1);
	vpc_upcall_req_t q;
	struct pair p;
	unsigned i, found = 0, wrong = 0, before;
	uint8_t mac[6];

	recorder_reset();
	memset(vteps, 0, sizeof(vteps));
	vteps[0] = VPC_AF_INET;
	vteps[1] = 198; vteps[2] = 51; vteps[3] = 100; vteps[4] = 7;
	vteps[17] = VPC_AF_INET6;
	vteps[18] = 0x20; vteps[19] = 0x01; vteps[33] = 9;
	memset(w, 0, sizeof(w));
	for (i = 0; i < N; i++) {
		if (i % 3 == 2)
			continue;               /* an unused record */
		mac_of(i, mac);
		w[i * STRIDE] = 6 + 1;
		w[i * STRIDE + 1] = (uint32_t)mac[0] << 24 | (uint32_t)mac[1] << 16 |
		    (uint32_t)mac[2] << 8 | mac[3];
		w[i * STRIDE + 2] = (uint32_t)mac[4] << 24 | (uint32_t)mac[5] << 16 |
		    (i % 2 == 0 ? 4790 : 0);
		w[i * STRIDE + 3] = i % 2;
		w[i * STRIDE + 4] = 0xdeadbeef; /* the directory's own words */
		revs[i] = 1000.0 + i;
	}
	/* Bad input first: each changes nothing. */
	CHECK(reset_table() && vpc_relay_update(&keep, 1) == 0);
	w[4 * STRIDE + 3] = 2;                  /* no such VTEP */
	errno = 0;
	CHECK(vpc_relay_load(w, N, STRIDE, vteps, 2, revs, 0) == -1 && errno == EINVAL);
	w[4 * STRIDE + 3] = 0;
	w[7 * STRIDE] = 0x1000000 + 1;          /* VNI out of range */
	CHECK(vpc_relay_load(w, N, STRIDE, vteps, 2, revs, 0) == -1 && errno == EINVAL);
	w[7 * STRIDE] = 6 + 1;
	revs[4] = -1;                           /* no revision */
	CHECK(vpc_relay_load(w, N, STRIDE, vteps, 2, revs, 0) == -1 && errno == EINVAL);
	revs[4] = 1004;
	vteps[17] = 0;                          /* a VTEP of no family */
	CHECK(vpc_relay_load(w, N, STRIDE, vteps, 2, revs, 0) == -1 && errno == EINVAL);
	vteps[17] = VPC_AF_INET6;
	CHECK(vpc_relay_load(w, N, 3, vteps, 2, revs, 0) == -1 && errno == EINVAL);
	p = attach();
	q = l2_req(1, 6, 77777);
	CHECK(roundtrip(&p, &q, 1) == 1);       /* the table as it was */
	/* Now good: the table is the records, and only them. */
	CHECK(vpc_relay_load(w, N, STRIDE, vteps, 2, revs, 0) == 0);
	CHECK(roundtrip(&p, &q, 1) == 0);
	for (i = 0; i < N; i++) {
		before = nanswers;
		q = l2_req(i + 10, 6, i);
		if (roundtrip(&p, &q, 1) != 1)
			continue;
		found++;
		if (i % 3 == 2 || answers[before].revision != 1000 + i ||
		    answers[before].udp_port != (i % 2 == 0 ? 4790 : 0) ||
		    answers[before].af != (i % 2 == 0 ? VPC_AF_INET : VPC_AF_INET6) ||
		    answers[before].addr[i % 2 == 0 ? 3 : 15] != (i % 2 == 0 ? 7 : 9))
			wrong++;
	}
	CHECK(found == N - N / 3);
	CHECK(wrong == 0);
	/* One revision for all (the file's), and an empty directory. */
	CHECK(vpc_relay_load(w, N, STRIDE, vteps, 2, NULL, 55) == 0);
	before = nanswers;
	q = l2_req(9999, 6, 0);
	CHECK(roundtrip(&p, &q, 1) == 1 && answers[before].revision == 55);
	CHECK(vpc_relay_load(NULL, 0, STRIDE, NULL, 0, NULL, 0) == 0);
	CHECK(roundtrip(&p, &q, 1) == 0);
	detach(&p);
}

static void
test_split_record(void)
{
	vpc_relay_entry_t e = put(5, 1, 1, 0, 1);
	vpc_upcall_req_t q = l2_req(1, 5, 1);
	const int32_t *res;
	const vpc_upcall_req_t *recs;
	vpc_relay_hdr_t h;
	struct pair p;

	recorder_reset();
	CHECK(reset_table() && vpc_relay_update(&e, 1) == 0);
	p = attach();
	CHECK(write(p.daemon, &q, 40) == 40);
	usleep(20000);          /* let the relay read the first part alone */
	CHECK(write(p.daemon, (char *)&q + 40, sizeof(q) - 40) ==
	    (ssize_t)(sizeof(q) - 40));
	h = read_msg(p.agent, &res, &recs);
	CHECK(h.records == 1 && h.answered == 1);
	CHECK(memcmp(recs, &q, sizeof(q)) == 0);
	detach(&p);
}

static void
test_agent_goes_away(void)
{
	struct pair p;
	char c;

	p = attach();
	close(p.agent);
	/* The relay lets go of the upcall socket: the daemon sees its reader go. */
	CHECK(read(p.daemon, &c, 1) == 0);
	close(p.daemon);
	/* And the daemon gone before a hello: the agent's side just ends. */
	p.agent = vpc_relay_start(sock_path, 1);
	CHECK(p.agent >= 0);
	p.daemon = accept(listener, NULL, NULL);
	close(p.daemon);
	CHECK(read(p.agent, &c, 1) == 0);
	close(p.agent);
	/* Nobody listening: an error, no thread. */
	errno = 0;
	CHECK(vpc_relay_start("/nonexistent/upcall.sock", 1) == -1 && errno == ENOENT);
}

int
main(void)
{
	struct sockaddr_un sun;
	char dir[] = "/tmp/test_relay.XXXXXX";

	if (mkdtemp(dir) == NULL)
		return (2);
	snprintf(sock_path, sizeof(sock_path), "%s/upcall.sock", dir);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strcpy(sun.sun_path, sock_path);
	listener = socket(AF_UNIX, SOCK_STREAM, 0);
	if (listener < 0 || bind(listener, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
	    listen(listener, 4) < 0)
		return (2);
	test_answers_and_contents();
	test_leading_run_only();
	test_bad_update_changes_nothing();
	test_many_and_deletes();
	test_batches_of_256_and_failure();
	test_load();
	test_split_record();
	test_agent_goes_away();
	close(listener);
	unlink(sock_path);
	rmdir(dir);
	printf("%d passed, %d failed\n", passed, failures);
	return (failures == 0 ? 0 : 1);
}
