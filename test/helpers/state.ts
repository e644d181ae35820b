// SPDX-License-Identifier: BSD-2-Clause
/**
 * A snapshot of everything the kernel holds, to show that a refused call
 * changed nothing: every object with its generation and handles, every
 * switch's VNI, ports, subnets, gateway, policy, CAM and neighbour table
 * (less the TTLs left, which run down by themselves), every vmnic's MAC,
 * MTU, addresses and DHCP, and the core's memory.
 */
import { checkInvariants, listObjects, Nic, Switch, systemStats } from '../../src/vpc/index.ts';

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
    }
    return detail;
  });
  const st = systemStats();
  const inv = checkInvariants();
  return { objects, count: st.objects, handles: st.handles, memBytes: st.memBytes, memAllocs: st.memAllocs, invariants: inv.why ?? 'hold' };
}
