/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vpc_agent_event.c: SYS_AGENT_EVENT, the upcall agent telling the kernel
 * that it is degraded (its directory unreachable) or has recovered.  The
 * kernel only checks and relays it: the OS posts it where operators look
 * (devctl on FreeBSD, the log on the host kernel).  The detail ends up in a
 * devd variable, so only characters that need no quoting get through.
 */
#include "vpc_impl.h"

static bool
detail_char_ok(char c)
{
	return ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == ':' ||
	    c == '/' || c == '@' || c == ',' || c == '+' || c == '-');
}

int
vpc_op_sys_agent_event(struct vpc_ctx *x)
{
	vpc_agent_event_t ev;
	const char *type;
	size_t i;

	memcpy(&ev, x->key, sizeof(ev));
	switch (ev.event) {
	case VPC_AGENT_EV_DEGRADED:
		type = "DEGRADED";
		break;
	case VPC_AGENT_EV_RECOVERED:
		type = "RECOVERED";
		break;
	default:
		return (VPC_ERR(VPC_EINVAL));
	}
	if (ev._pad0 != 0)
		return (VPC_ERR(VPC_EINVAL));
	for (i = 0; i < sizeof(ev.detail) && ev.detail[i] != '\0'; i++)
		if (!detail_char_ok(ev.detail[i]))
			return (VPC_ERR(VPC_EINVAL));
	if (i == sizeof(ev.detail))
		return (VPC_ERR(VPC_EINVAL));            /* not NUL-terminated */
	os_agent_event(type, ev.detail);
	return (0);
}
