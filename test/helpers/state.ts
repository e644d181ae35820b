// SPDX-License-Identifier: BSD-2-Clause
/**
 * A snapshot of everything the kernel holds, to show that a refused call
 * changed nothing: every object with its generation and handles, every
 * switch's VNI, ports, subnets, gateway, policy, CAM and neighbour table
 * (less the TTLs left, which run down by themselves), every vmnic's MAC,
 * MTU, addresses and DHCP, every NAT's configuration, link, router, EIPs
 * and flows, every link's interface, every router's NAT, and the core's
 * memory.
 */
import { checkInvariants, Link, listObjects, Nat, Nic, Router, Switch, systemStats } from '../../src/vpc/index.ts';

export function snapshot(): unknown {
  const objects = listObjects().map((o) => {
    const detail: Record<string, unknown> = { ...o };
    if (o.type === 'switch') {
      const sw = Switch.open(o.id);
      detail.vni = sw.vni();
      detail.ports = sw.ports();
      detail.subnets = sw.subnets();
      detail.gateway = sw.gateway();
      detail.policy = sw.policy();
      detail.cam = sw.camDump().map(({ ttlMs: _t, ...e }) => e);
      detail.neighbours = sw.neighbours.dump().map(({ ttlMs: _t, ...e }) => e);
      sw.close();
    } else if (o.type === 'vmnic') {
      const nic = Nic.open(o.id);
      detail.mac = nic.mac();
      detail.mtu = nic.mtuInfo();
      detail.addresses = nic.addresses();
      detail.dhcp = nic.dhcp();
      nic.close();
    } else if (o.type === 'nat') {
      const nat = Nat.open(o.id);
      detail.config = nat.config();
      detail.attachments = nat.attachments();
      detail.eips = nat.eips();
      detail.flows = nat.flows().map(({ idleMs: _i, ...f }) => f);
      nat.close();
    } else if (o.type === 'link') {
      const link = Link.open(o.id);
      detail.link = link.get();
      link.close();
    } else if (o.type === 'router') {
      const r = Router.open(o.id);
      detail.nat = r.natId();
      detail.routes = r.routes.list();
      r.close();
    }
    return detail;
  });
  const st = systemStats();
  const inv = checkInvariants();
  return { objects, count: st.objects, handles: st.handles, memBytes: st.memBytes, memAllocs: st.memAllocs, invariants: inv.why ?? 'hold' };
}
