/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * t_devctl.c: devctl(4) carries lifecycle events only: the upcall reader's
 * ATTACH and DETACH, the agent's DEGRADED and RECOVERED.
 */
#include "tests.h"
#include "report.h"

void
devctl_open(struct dp *d)
{
	int one = 1;

	d->devctl = sc3(SYS_open, "/dev/devctl", O_RDONLY | O_NONBLOCK, 0);
	if (d->devctl >= 0)	/* devctl(4) only heeds FIONBIO */
		sc3(SYS_ioctl, d->devctl, FIONBIO, &one);
}

void
devctl_attached(struct dp *d)
{
	check("devctl: the reader's ATTACH is announced (system=VPC)",
	    devctl_has(d->devctl, "system=VPC subsystem=agent type=ATTACH"),
	    d->devctl, 0);
}

void
devctl_detached(struct dp *d)
{
	check("devctl: and its DETACH when it went away",
	    devctl_has(d->devctl, "system=VPC subsystem=agent type=DETACH"),
	    d->devctl, 0);
}

void
agent_events(struct dp *d)
{
	vpc_agent_event_t ev;

	memset(&ev, 0, sizeof(ev));
	ev.event = VPC_AGENT_EV_DEGRADED;
	memcpy(ev.detail, "etcd:http://10.0.0.1:2379", 26);
	expect("agent event: DEGRADED is posted",
	    vctl_n(-1, VPC_OP_SYS_AGENT_EVENT, &ev, sizeof(ev), 0, 0), 0);
	check("devctl: type=DEGRADED with its detail",
	    devctl_has(d->devctl, "system=VPC subsystem=agent "
	    "type=DEGRADED detail=etcd:http://10.0.0.1:2379"), d->devctl, 0);
	memcpy(ev.detail, "two words", 10);
	expect("agent event: a detail with a space is EINVAL",
	    vctl_n(-1, VPC_OP_SYS_AGENT_EVENT, &ev, sizeof(ev), 0, 0), -EINVAL);
	ev.event = VPC_AGENT_EV_RECOVERED;
	ev.detail[0] = '\0';
	expect("agent event: RECOVERED is posted",
	    vctl_n(-1, VPC_OP_SYS_AGENT_EVENT, &ev, sizeof(ev), 0, 0), 0);
	check("devctl: type=RECOVERED",
	    devctl_has(d->devctl, "system=VPC subsystem=agent type=RECOVERED"),
	    d->devctl, 0);
}
