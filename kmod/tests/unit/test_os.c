/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_os.c: see test_os.h.  Packets are the host's flat buffers
 * (os/host/host_pkt.c); everything else is recorded here.
 */
#include <stdio.h>
#include <string.h>

#include "host_pkt.h"
#include "test_os.h"

struct test_sent test_sent[TEST_SENT_MAX];
unsigned test_nsent;
uint64_t test_notified;
unsigned test_events;
char test_last_event[160];
int test_output_error;
bool test_record = true;
int test_mtu_error;
unsigned test_mtu_calls;
uint32_t test_last_mtu;
const void *test_last_mtu_nic;

void
test_sent_reset(void)
{
	test_nsent = 0;
}

static int
record(int kind, const void *to, struct vpc_pkt *p,
    const struct vpc_underlay *dst, uint16_t sport)
{
	struct test_sent *s;
	int error = test_output_error;

	if (error == 0 && test_record && test_nsent < TEST_SENT_MAX) {
		s = &test_sent[test_nsent++];
		memset(s, 0, sizeof(*s));
		s->kind = kind;
		s->to = to;
		if (dst != NULL)
			s->dst = *dst;
		s->sport = sport;
		s->len = os_pkt_len(p);
		(void)os_pkt_copyout(p, 0, s->len < sizeof(s->data) ? s->len :
		    sizeof(s->data), s->data);
	}
	os_pkt_free(p);
	return (error);
}

int
os_nic_attach(struct vpc_nic *nic)
{
	*vpc_nic_osp(nic) = NULL;
	return (0);
}

void
os_nic_detach(struct vpc_nic *nic)
{
	*vpc_nic_osp(nic) = NULL;
}

int
os_nic_set_mac(struct vpc_nic *nic, const uint8_t mac[6])
{
	(void)nic;
	(void)mac;
	return (0);
}

int
os_nic_set_mtu(struct vpc_nic *nic, uint32_t mtu)
{
	if (test_mtu_error != 0)
		return (test_mtu_error);
	test_mtu_calls++;
	test_last_mtu = mtu;
	test_last_mtu_nic = nic;
	return (0);
}

int
os_nic_set_ifname(struct vpc_nic *nic, const char *name)
{
	(void)nic;
	(void)name;
	return (0);
}

void
os_nic_get_ifname(struct vpc_nic *nic, char name[VPC_IFNAMSIZ])
{
	snprintf(name, VPC_IFNAMSIZ, "%s", vpc_nic_ifname(nic));
}

int
os_vcc_configure(struct vpc_vcc *vcc, const vpc_vcc_t *conf)
{
	(void)vcc;
	(void)conf;
	return (0);
}

void
os_vcc_detach(struct vpc_vcc *vcc)
{
	(void)vcc;
}

int
os_nic_output(struct vpc_nic *nic, struct vpc_pkt *p)
{
	return (record(TEST_TO_NIC, nic, p, NULL, 0));
}

int
os_vcc_output(struct vpc_vcc *vcc, struct vpc_pkt *p,
    const struct vpc_underlay *dst, uint16_t sport)
{
	return (record(TEST_TO_VCC, vcc, p, dst, sport));
}

unsigned test_vcc_output_many_calls;

void
os_vcc_output_many(struct vpc_vcc *vcc, struct vpc_pkt **pkts,
    const struct vpc_underlay *dsts, const uint16_t *sports, int *errors,
    unsigned n)
{
	unsigned i;

	test_vcc_output_many_calls++;
	for (i = 0; i < n; i++)
		errors[i] = record(TEST_TO_VCC, vcc, pkts[i], &dsts[i], sports[i]);
}

int
os_vcc_output_l2(struct vpc_vcc *vcc, struct vpc_pkt *p)
{
	return (record(TEST_TO_L2, vcc, p, NULL, 0));
}

uint64_t test_vcc_rx_drops;

uint64_t
os_vcc_rx_drops(struct vpc_vcc *vcc)
{
	(void)vcc;
	return (test_vcc_rx_drops);
}

void
os_upcall_notify(struct vpc_sys *sys)
{
	(void)sys;
	test_notified++;
}

void
os_agent_event(const char *type, const char *detail)
{
	snprintf(test_last_event, sizeof(test_last_event), "%s %s", type,
	    detail);
	test_events++;
}

/* ---- vpclink: interfaces named "nx..." do not exist; the rest do, with the
 * MAC 02:4c:00:00:00:<name length>. */
unsigned test_link_binds;

int
os_link_bind(struct vpc_link *link, const char *ifname, uint8_t mac[6])
{
	static const uint8_t base[6] = { 0x02, 0x4c, 0, 0, 0, 0 };

	if (strncmp(ifname, "nx", 2) == 0)
		return (VPC_ENODEV);
	memcpy(mac, base, 6);
	mac[5] = (uint8_t)strlen(ifname);
	*vpc_link_osp(link) = link;
	test_link_binds++;
	return (0);
}

void
os_link_unbind(struct vpc_link *link)
{
	*vpc_link_osp(link) = NULL;
	test_link_binds--;
}

int
os_link_output(struct vpc_link *link, struct vpc_pkt *p)
{
	return (record(TEST_TO_LINK, link, p, NULL, 0));
}

void
os_link_pass(struct vpc_link *link, struct vpc_pkt *p)
{
	(void)record(TEST_LINK_PASSED, link, p, NULL, 0);
}
