/**
 * A snapshot of everything the kernel holds, to show that a refused call
 * changed nothing: every object with its generation and handles, every
 * switch's VNI and ports, every vmnic's MAC, MTU and DHCP, and the core's memory.
 */
import { checkInvariants, listObjects, Nic, Switch, systemStats } from '../../src/vpc/index.ts';

export function snapshot(): unknown {
  const objects = listObjects().map((o) => {
    const detail: Record<string, unknown> = { ...o };
    if (o.type === 'switch') {
      const sw = Switch.open(o.id);
      detail.vni = sw.vni();
      detail.ports = sw.ports();
      sw.close();
    } else if (o.type === 'vmnic') {
      const nic = Nic.open(o.id);
      detail.mac = nic.mac();
      detail.mtu = nic.mtuInfo();
      detail.dhcp = nic.dhcp();
      nic.close();
    }
    return detail;
  });
  const st = systemStats();
  const inv = checkInvariants();
  return { objects, count: st.objects, handles: st.handles, memBytes: st.memBytes, memAllocs: st.memAllocs, invariants: inv.why ?? 'hold' };
}
