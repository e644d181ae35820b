/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vpc_nic_l3.c: what a vmnic knows of its VM at L3: the VM's own IPv4 and
 * IPv6 addresses (NIC_SET_ADDR) and the DHCP service the switch gives it
 * (NIC_SET_DHCP).  The data path reads both from one immutable snapshot
 * (nic->l3) that these ops replace whole: the switch's responder answers
 * ARP/ND for the addresses, drops IP sources that are not them, and DHCP
 * offers addr4 with these options.
 */
#include "vpc_impl.h"

const struct vpc_nic_l3 vpc_nic_l3_none;

static void
l3_free(struct os_defer *d)
{
	vpc_free(d, sizeof(struct vpc_nic_l3));
}

/* Retire what the vmnic had; the static "none" is never freed. */
static void
l3_retire(struct vpc_nic_l3 *l3)
{
	if (l3 != &vpc_nic_l3_none)
		os_epoch_defer(&l3->defer, l3_free);
}

void
vpc_nic_l3_init(struct vpc_nic *nic)
{
	nic->l3 = (struct vpc_nic_l3 *)(uintptr_t)&vpc_nic_l3_none;
	vpc_ratelim_init(&nic->upcall_rl, VPC_UPCALL_RATE_DEFAULT,
	    VPC_UPCALL_RATE_DEFAULT, os_now_ns());
	vpc_ra_nic_init(nic);
}

/* After the epoch (fini): nothing can see it any more. */
void
vpc_nic_l3_fini(struct vpc_nic *nic)
{
	if (nic->l3 != NULL && nic->l3 != &vpc_nic_l3_none)
		vpc_free(nic->l3, sizeof(*nic->l3));
	nic->l3 = NULL;
}

/* A copy of the current configuration to change and publish. */
static struct vpc_nic_l3 *
l3_prepare(const struct vpc_nic *nic)
{
	struct vpc_nic_l3 *l3 = vpc_alloc(sizeof(*l3), VPC_M_WAITOK);

	if (l3 != NULL) {
		l3->addr = nic->l3->addr;
		l3->dhcp = nic->l3->dhcp;
	}
	return (l3);
}

static void
l3_publish(struct vpc_nic *nic, struct vpc_nic_l3 *l3)
{
	struct vpc_nic_l3 *old = nic->l3;

	VPC_ASSERT_CTL(nic->obj.sys);
	vpc_store(nic->l3, l3);
	l3_retire(old);
}

/* A host's own unicast address: not unspecified, loopback, multicast,
 * limited broadcast, nor (IPv6) link-local or v4-mapped. */
static bool
host_addr4_ok(const uint8_t a[4])
{
	return (!vpc_all_zero(a, 4) && a[0] != 127 && a[0] < 224 && a[0] != 0);
}

static bool
host_addr6_ok(const uint8_t a[16])
{
	static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	if (vpc_all_zero(a, 16) || a[0] == 0xff)
		return (false);         /* unspecified, multicast */
	if (vpc_all_zero(a, 15) && a[15] == 1)
		return (false);         /* ::1 */
	if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80)
		return (false);         /* fe80::/10: every VM has its own */
	return (memcmp(a, v4mapped, 12) != 0);
}

int
vpc_op_nic_set_addr(struct vpc_ctx *x)
{
	struct vpc_nic *nic = obj2nic(x->obj);
	struct vpc_port *p = nic->port;
	struct vpc_nbr_local nbr = { { NULL, NULL } };
	struct vpc_nic_l3 *l3;
	vpc_nic_addr_t req;
	int error;

	memcpy(&req, x->key, sizeof(req));
	if ((error = vpc_txn_check(x->obj, req.txn)) != 0)
		return (error);
	if ((req.flags & ~(uint32_t)(VPC_NIC_ADDR_INET | VPC_NIC_ADDR_INET6)) != 0 ||
	    !vpc_all_zero(req._pad0, sizeof(req._pad0)))
		return (VPC_ERR(VPC_EINVAL));
	if ((req.flags & VPC_NIC_ADDR_INET) != 0 ? !host_addr4_ok(req.addr4) :
	    !vpc_all_zero(req.addr4, 4))
		return (VPC_ERR(VPC_EINVAL));
	if ((req.flags & VPC_NIC_ADDR_INET6) != 0 ? !host_addr6_ok(req.addr6) :
	    !vpc_all_zero(req.addr6, 16))
		return (VPC_ERR(VPC_EINVAL));
	/* Plugged in: its addresses are its port's local neighbour entries. */
	if (p != NULL && ((error = vpc_nbr_local_conflict(p->sw, p, &req)) != 0 ||
	    (error = vpc_nbr_local_prepare(p->sw, &nbr)) != 0))
		return (error);
	if ((l3 = l3_prepare(nic)) == NULL) {
		vpc_nbr_local_discard(&nbr);
		return (VPC_ERR(VPC_ENOMEM));
	}
	req.txn = 0;
	l3->addr = req;
	l3_publish(nic, l3);
	if (p != NULL)
		vpc_nbr_local_apply(p->sw, p, nic->mac, &req, &nbr);
	vpc_obj_changed(x->obj, ((const vpc_nic_addr_t *)x->key)->txn);
	x->vallen = 0;
	return (0);
}

int
vpc_op_nic_get_addr(struct vpc_ctx *x)
{
	memcpy(x->val, &obj2nic(x->obj)->l3->addr, sizeof(vpc_nic_addr_t));
	return (0);
}

/* NUL-terminated inside the field, nothing after the NUL, printable. */
static bool
name_ok(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n && s[i] != '\0'; i++)
		if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e)
			return (false);
	return (i < n && vpc_all_zero(s + i, n - i));
}

static bool
route_ok(const uint8_t dst[4], uint8_t plen, const uint8_t gw[4])
{
	unsigned i;

	if (plen > 32 || !host_addr4_ok(gw))
		return (false);
	for (i = plen; i < 32; i++)     /* no host bits */
		if ((dst[i / 8] >> (7 - i % 8)) & 1)
			return (false);
	return (true);
}

int
vpc_op_nic_set_dhcp(struct vpc_ctx *x)
{
	struct vpc_nic *nic = obj2nic(x->obj);
	struct vpc_nic_l3 *l3;
	vpc_nic_dhcp_t req;
	unsigned i;
	int error;

	memcpy(&req, x->key, sizeof(req));
	if ((error = vpc_txn_check(x->obj, req.txn)) != 0)
		return (error);
	if ((req.flags & ~(uint32_t)VPC_DHCP_ENABLE) != 0 ||
	    req.ndns > VPC_DHCP_DNS_MAX || req.nroutes > VPC_DHCP_ROUTES_MAX ||
	    !vpc_all_zero(req._pad0, sizeof(req._pad0)) ||
	    !name_ok(req.domain, sizeof(req.domain)) ||
	    !name_ok(req.hostname, sizeof(req.hostname)))
		return (VPC_ERR(VPC_EINVAL));
	for (i = 0; i < VPC_DHCP_DNS_MAX; i++)
		if (i < req.ndns ? !host_addr4_ok(req.dns + 4 * i) :
		    !vpc_all_zero(req.dns + 4 * i, 4))
			return (VPC_ERR(VPC_EINVAL));
	for (i = 0; i < VPC_DHCP_ROUTES_MAX; i++)
		if (i < req.nroutes ? !route_ok(req.route_dst + 4 * i,
		    req.route_plen[i], req.route_gw + 4 * i) :
		    !vpc_all_zero(req.route_dst + 4 * i, 4) ||
		    !vpc_all_zero(req.route_gw + 4 * i, 4) || req.route_plen[i] != 0)
			return (VPC_ERR(VPC_EINVAL));
	if ((l3 = l3_prepare(nic)) == NULL)
		return (VPC_ERR(VPC_ENOMEM));
	req.txn = 0;
	l3->dhcp = req;
	l3_publish(nic, l3);
	vpc_obj_changed(x->obj, ((const vpc_nic_dhcp_t *)x->key)->txn);
	x->vallen = 0;
	return (0);
}

int
vpc_op_nic_get_dhcp(struct vpc_ctx *x)
{
	memcpy(x->val, &obj2nic(x->obj)->l3->dhcp, sizeof(vpc_nic_dhcp_t));
	return (0);
}
