// SPDX-License-Identifier: BSD-2-Clause
/**
 * Bad input gets a clear error and loses nothing.  For every op in the op
 * table: wrong key and value sizes, a handle of the wrong type, a closed
 * handle, no handle; then bad values op by op (MACs, VNIs, VLANs, kinds,
 * flags, ids, tokens) and bad vpc_open arguments.  Each case asserts the
 * errno *and* that a snapshot of the whole kernel is the same afterwards.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { parse } from 'uuid';
import {
  backend, encode, errnoName, OPS, sizeOf, VPC_CTL_MAX_KEYLEN, VPC_FLAG_CREATE, VPC_FLAG_DEFAULT,
  VPC_FLAG_OPEN, VPC_FLAG_SWP_DESCRIPTOR, VPC_FLAG_SWP_FW_EGRESS, VPC_FLAG_SWP_FW_INGRESS,
  VPC_FLAG_SWP_ROUTER, VPC_FLAG_SWP_UPLINK, VPC_FLAG_SWP_VLAN_ID, VPC_FLAG_SWP_VMNIC, VPC_FLAG_SWP_VNI,
  VPC_OP_COMMIT, VPC_OP_DESTROY, VPC_OP_SYS_AGENT_EVENT, VPC_OP_GET_TXN, VPC_OP_NIC_SET_MAC, VPC_OP_NIC_SET_MTU,
  VPC_OP_NIC_SET_DHCP, VPC_RA_OFF,
  VPC_OP_SW_ADD_PORT, VPC_OP_SW_DEL_PORT,
  VPC_OP_SW_GET_PORT, VPC_OP_SW_SET_VNI, VPC_OP_SYS_LIST, type CtlResult, type OpInfo,
  VPC_CAM_TTL_MAX_MS, VPC_NBR_BATCH_MAX, VPC_NBR_FOUND, VPC_NBR_LOCAL, VPC_NBR_NEGATIVE, VPC_OP_NIC_SET_ADDR,
  VPC_OP_SW_NBR_DEL, VPC_OP_SW_NBR_DUMP, VPC_OP_SW_NBR_FLUSH, VPC_OP_SW_NBR_GET, VPC_OP_SW_NBR_SET, VPC_OP_SW_SET_GATEWAY,
  VPC_OP_SW_SET_POLICY, VPC_VNI_ANY,
  VPC_AF_INET, VPC_AF_INET6, VPC_FW_R_ICMP_CODE, VPC_FW_REMOTE_CIDR, VPC_FW_SET_KEEP_ESTABLISHED, VPC_HANDLE_NONE,
  VPC_OP_FW_RULE_DUMP, VPC_OP_FW_SET_DESTROY, VPC_OP_FW_SET_FLUSH, VPC_OP_FW_SET_GET, VPC_OP_FW_SET_MODIFY, VPC_OP_FW_SET_RULES,
  VPC_OP_SW_PORT_SET_FW, type StructValues,
  VPC_OP_LINK_SET, VPC_OP_NAT_EIP_BIND, VPC_OP_NAT_EIP_UNBIND, VPC_OP_NAT_FLOW_DUMP, VPC_OP_NAT_POOL_ADD,
  VPC_OP_NAT_POOL_DEL, VPC_OP_NAT_SET_CONFIG, VPC_OP_NAT_SET_LINK, VPC_OP_NAT_SNAT_BIND, VPC_OP_NAT_SNAT_UNBIND,
  VPC_OP_RTR_ROUTE_SET, VPC_OP_RTR_SET_NAT, VPC_RT_INTERNET,
  decode, VPC_OP_RTR_STAGE_ABORT, VPC_OP_RTR_STAGE_APPEND, VPC_OP_RTR_STAGE_BEGIN, VPC_OP_RTR_STAGE_COMMIT,
} from '../src/ffi/index.ts';
import { fwConfig, fwCreateSet, fwDestroySet, fwListSets, fwReplaceRules, fwRules, ipBytes, Link, Nat, newId, Nic, reportAgentState, Router, Switch, Vcc, VpcArgumentError, type AgentState, type VpcObject } from '../src/vpc/index.ts';
import { ruleStruct } from '../src/vpc/firewall.ts';
import { ROUTES_PER_CALL, routeStruct } from '../src/vpc/router.ts';
import { startKernel, type Kernel } from './helpers/hostd.ts';
import { snapshot } from './helpers/state.ts';

let kernel: Kernel;
let sw: Switch;          // committed, VNI 100: uplink, router, a vmnic port (owned vmnic)
let sw2: Switch;         // committed, VNI 200
let nic: Nic;            // committed standalone vmnic, plugged into sw: 10.0.0.2, 2001:db8:100::2
let nic3: Nic;           // likewise: 10.0.0.3
let loose: Nic;          // committed standalone vmnic, not plugged
let vcc: Vcc;
let rtr: Router;
let portId: string;
const handles: Record<number, VpcObject> = {};

before(async () => {
  kernel = await startKernel();
  sw = Switch.create(newId(), { vni: 100 });
  sw.addPort({ kind: 'uplink' });
  sw.addPort({ kind: 'router' });
  const p = sw.addPort({ kind: 'vmnic', vlan: 10, vni: 100, mac: '02:00:00:00:00:01' });
  portId = p.id;
  nic = Nic.create(newId(), { mac: '02:00:00:00:00:02' });
  sw.addPort({ kind: 'vmnic', nic: nic.id });
  loose = Nic.create(newId(), { mac: '02:00:00:00:00:03' });
  sw2 = Switch.create(newId(), { vni: 200 });
  vcc = Vcc.create();
  // L3: subnets, the vmnics' addresses (local neighbour entries), one learned entry.
  sw.setSubnet('10.0.0.0/24');
  sw.setSubnet('2001:db8:100::/64');
  nic.setAddresses({ ipv4: '10.0.0.2', ipv6: '2001:db8:100::2' });
  nic3 = Nic.create(newId(), { mac: '02:00:00:00:00:33', addresses: { ipv4: '10.0.0.3' } });
  sw.addPort({ kind: 'vmnic', nic: nic3.id });
  sw.neighbours.set([{ ip: '10.0.0.50', mac: '02:00:00:00:00:50', revision: 10 }]);
  rtr = Router.create();
  const nat = Nat.create();
  const link = Link.create();
  for (const o of [sw, sw2, nic, nic3, loose, vcc, rtr, nat, link]) o.commit();
  handles[1] = nic;
  handles[2] = sw;
  handles[7] = vcc;
  handles[4] = rtr;
  handles[5] = nat;
  handles[6] = link;
});

after(async () => {
  for (const o of [sw, sw2, nic, nic3, loose, vcc, rtr]) o.close();
  await kernel.stop();
});

/** Run a call that must fail with `want`, and leave everything as it was. */
function refused(want: string, call: () => CtlResult | number): void {
  const before = snapshot();
  const r = call();
  const errno = typeof r === 'number' ? (r < 0 ? -r : 0) : r.errno;
  if (typeof r === 'number' && r >= 0) backend().close(r);
  assert.equal(errnoName(errno), want);
  assert.deepEqual(snapshot(), before, 'state changed by a refused call');
}

const ctl = (h: number, op: number, key: Uint8Array | null, vallen: number) =>
  backend().ctl(h, op, key, vallen > 0 ? Buffer.alloc(vallen) : null);

/** A handle the op applies to, if there is one (type bits: 1 << VPC_TYPE_*). */
function handleFor(o: OpInfo): number | undefined {
  for (const t of [1, 2, 7, 4, 5, 6]) if (o.types & (1 << t)) return handles[t]!.handle;
  return o.types & 1 ? -1 : undefined;
}

function wrongTypeHandle(o: OpInfo): number | undefined {
  for (const t of [1, 2, 7, 4, 5, 6]) if (!(o.types & (1 << t))) return handles[t]!.handle;
  return undefined;
}

describe('sizes, types and handles, for every op', () => {
  for (const o of OPS) {
    const keyOk = o.keyArray ? o.keysz : o.keysz;
    const valOk = o.valArray ? o.valsz * 4 : o.valsz;
    test(`${o.name}: wrong key size`, () => {
      const h = handleFor(o)!;
      refused('EINVAL', () => ctl(h, o.op, Buffer.alloc(keyOk + 1), valOk));
      if (keyOk > 0) refused('EINVAL', () => ctl(h, o.op, Buffer.alloc(keyOk - 1), valOk));
    });
    if (!o.valArray) {
      test(`${o.name}: wrong value size`, () => {
        const h = handleFor(o)!;
        const key = keyOk > 0 ? Buffer.alloc(keyOk) : null;
        refused('EINVAL', () => ctl(h, o.op, key, valOk + 1));
        if (valOk > 0) refused('EINVAL', () => ctl(h, o.op, key, valOk - 1));
      });
    }
    test(`${o.name}: key over the cap is E2BIG before anything is read`, () => {
      refused('E2BIG', () => ctl(handleFor(o)!, o.op, Buffer.alloc(VPC_CTL_MAX_KEYLEN + 1), valOk));
    });
    if ((o.types & 0x86) !== 0x86) {
      test(`${o.name}: handle of the wrong type is ENOTTY`, () => {
        refused('ENOTTY', () => ctl(wrongTypeHandle(o)!, o.op, keyOk > 0 ? Buffer.alloc(keyOk) : null, valOk));
      });
    }
    if (!(o.types & 1)) {
      test(`${o.name}: no handle is EBADF`, () => {
        refused('EBADF', () => ctl(-1, o.op, keyOk > 0 ? Buffer.alloc(keyOk) : null, valOk));
      });
      test(`${o.name}: a closed handle is EBADF`, () => {
        const n = Nic.open(loose.id);
        const h = n.handle;
        n.close();
        refused('EBADF', () => ctl(h, o.op, keyOk > 0 ? Buffer.alloc(keyOk) : null, valOk));
      });
    }
  }
  test('an unknown op is ENOTTY', () => {
    refused('ENOTTY', () => ctl(sw.handle, 9999, null, 0));
  });
  test('a descriptor that is not a vpc handle is EBADF (and is not written to)', () => {
    refused('EBADF', () => ctl(2 /* stderr */, VPC_OP_GET_TXN, null, 4));
  });
});

const mac = (s: string) => s.split(':').map((x) => parseInt(x, 16));
const swport = (v: Record<string, unknown>) => encode('vpc_swport_t', v);
const addPort = (v: Record<string, unknown>) => () => ctl(sw.handle, VPC_OP_SW_ADD_PORT, swport(v), sizeOf('vpc_swport_t'));

describe('bad values', () => {
  test('NIC_SET_MAC: multicast, broadcast and zero MACs are EINVAL', () => {
    for (const m of ['01:00:5e:00:00:01', 'ff:ff:ff:ff:ff:ff', '00:00:00:00:00:00', '03:00:00:00:00:01']) {
      refused('EINVAL', () => ctl(loose.handle, VPC_OP_NIC_SET_MAC, encode('vpc_vmnic_t', { mac: mac(m) }), 0));
    }
  });
  test('NIC_SET_MAC: nonzero padding is EINVAL', () => {
    const k = encode('vpc_vmnic_t', { mac: mac('02:00:00:00:00:09') });
    k[10] = 1;
    refused('EINVAL', () => ctl(loose.handle, VPC_OP_NIC_SET_MAC, k, 0));
  });
  test('NIC_SET_MAC: a MAC another vmnic on the switch has is EEXIST', () => {
    refused('EEXIST', () => ctl(nic.handle, VPC_OP_NIC_SET_MAC, encode('vpc_vmnic_t', { mac: mac('02:00:00:00:00:01') }), 0));
  });
  test('a negative token is EINVAL; a stale one ESTALE', () => {
    refused('EINVAL', () => ctl(loose.handle, VPC_OP_NIC_SET_MAC, encode('vpc_vmnic_t', { txn: -1, mac: mac('02:00:00:00:00:09') }), 0));
    const t = loose.txn();
    loose.setMac('02:00:00:00:00:04');      // an unconditional change: t is stale now
    refused('ESTALE', () => ctl(loose.handle, VPC_OP_NIC_SET_MAC, encode('vpc_vmnic_t', { txn: t, mac: mac('02:00:00:00:00:09') }), 0));
    refused('ESTALE', () => ctl(loose.handle, VPC_OP_NIC_SET_MAC, encode('vpc_vmnic_t', { txn: 0x7fffff00, mac: mac('02:00:00:00:00:09') }), 0));
  });
  test('SW_ADD_PORT: VLAN 0 and 4095 are EINVAL', () => {
    refused('EINVAL', addPort({ flags: VPC_FLAG_SWP_VMNIC | VPC_FLAG_SWP_VLAN_ID, vlan_id: 0 }));
    refused('EINVAL', addPort({ flags: VPC_FLAG_SWP_VMNIC | VPC_FLAG_SWP_VLAN_ID, vlan_id: 4095 }));
  });
  test('SW_ADD_PORT: VNI 2^24, or unlike the switch, is EINVAL', () => {
    refused('EINVAL', addPort({ flags: VPC_FLAG_SWP_VMNIC | VPC_FLAG_SWP_VNI, vni: 1 << 24 }));
    refused('EINVAL', addPort({ flags: VPC_FLAG_SWP_VMNIC | VPC_FLAG_SWP_VNI, vni: 101 }));
  });
  test('SW_ADD_PORT: a value without its flag is EINVAL', () => {
    refused('EINVAL', addPort({ flags: VPC_FLAG_SWP_VMNIC, vlan_id: 5 }));
    refused('EINVAL', addPort({ flags: VPC_FLAG_SWP_VMNIC, vni: 100 }));
  });
  test('SW_ADD_PORT: no kind, two kinds, unknown flag bits are EINVAL', () => {
    refused('EINVAL', addPort({ flags: 0 }));
    refused('EINVAL', addPort({ flags: 1 }));
    refused('EINVAL', addPort({ flags: VPC_FLAG_SWP_VMNIC | VPC_FLAG_SWP_ROUTER }));
    refused('EINVAL', addPort({ flags: VPC_FLAG_SWP_VMNIC | (1 << 20) }));
  });
  test('SW_ADD_PORT: a second uplink or router is EEXIST', () => {
    refused('EEXIST', addPort({ flags: VPC_FLAG_SWP_UPLINK }));
    refused('EEXIST', addPort({ flags: VPC_FLAG_SWP_ROUTER }));
  });
  test('SW_ADD_PORT: a descriptor for a non-vmnic port is EINVAL', () => {
    refused('EINVAL', () => ctl(sw2.handle, VPC_OP_SW_ADD_PORT, swport({ flags: VPC_FLAG_SWP_UPLINK | VPC_FLAG_SWP_DESCRIPTOR }), sizeOf('vpc_swport_t')));
  });
  test('SW_ADD_PORT: a firewall flag without its set id, or an id without its flag, is EINVAL; a set that does not exist ENOENT', () => {
    refused('EINVAL', addPort({ flags: VPC_FLAG_SWP_VMNIC | VPC_FLAG_SWP_FW_EGRESS }));
    refused('EINVAL', addPort({ flags: VPC_FLAG_SWP_VMNIC | VPC_FLAG_SWP_FW_INGRESS }));
    refused('EINVAL', addPort({ flags: VPC_FLAG_SWP_VMNIC, fw_state_table: 7 }));
    refused('EINVAL', addPort({ flags: VPC_FLAG_SWP_VMNIC, fw_egress_ruleset: 7 }));
    refused('ENOENT', addPort({ flags: VPC_FLAG_SWP_VMNIC | VPC_FLAG_SWP_FW_INGRESS, fw_state_table: 7 }));
    refused('ENOENT', addPort({ flags: VPC_FLAG_SWP_VMNIC | VPC_FLAG_SWP_FW_EGRESS, fw_egress_ruleset: 7 }));
    refused('EINVAL', addPort({ flags: VPC_FLAG_SWP_UPLINK | VPC_FLAG_SWP_FW_EGRESS, fw_egress_ruleset: 7 }));
  });
  test('SW_ADD_PORT: peers that do not exist, are of the wrong type, or are taken', () => {
    refused('ENOENT', addPort({ flags: VPC_FLAG_SWP_VMNIC, peer_id: Array.from(parse(newId())) }));
    refused('EINVAL', addPort({ flags: VPC_FLAG_SWP_VMNIC, peer_id: Array.from(parse(vcc.id)) }));
    refused('EBUSY', addPort({ flags: VPC_FLAG_SWP_VMNIC, peer_id: Array.from(parse(nic.id)) }));
    refused('EINVAL', () => ctl(sw2.handle, VPC_OP_SW_ADD_PORT, swport({ flags: VPC_FLAG_SWP_ROUTER, peer_id: Array.from(parse(vcc.id)) }), sizeOf('vpc_swport_t')));
    refused('EINVAL', () => ctl(sw2.handle, VPC_OP_SW_ADD_PORT, swport({ flags: VPC_FLAG_SWP_UPLINK, peer_id: Array.from(parse(loose.id)) }), sizeOf('vpc_swport_t')));
  });
  test('SW_ADD_PORT: a multicast MAC, or a MAC already on the switch', () => {
    refused('EINVAL', addPort({ flags: VPC_FLAG_SWP_VMNIC, smac: mac('01:00:00:00:00:01') }));
    refused('EEXIST', addPort({ flags: VPC_FLAG_SWP_VMNIC, smac: mac('02:00:00:00:00:02') }));
    refused('EINVAL', addPort({ flags: VPC_FLAG_SWP_UPLINK, smac: mac('02:00:00:00:00:77') }));
  });
  test('SW_ADD_PORT: a port id in use is EEXIST; nonzero padding EINVAL', () => {
    refused('EEXIST', addPort({ flags: VPC_FLAG_SWP_VMNIC, port_id: Array.from(parse(portId)) }));
    const k = swport({ flags: VPC_FLAG_SWP_VMNIC });
    k[11] = 1;
    refused('EINVAL', () => ctl(sw.handle, VPC_OP_SW_ADD_PORT, k, sizeOf('vpc_swport_t')));
  });
  test('SW_SET_VNI: 2^24 is EINVAL; a VNI another switch carries is EEXIST', () => {
    refused('EINVAL', () => ctl(sw.handle, VPC_OP_SW_SET_VNI, encode('vpc_sw_vni_t', { vni: 1 << 24 }), 0));
    refused('EEXIST', () => ctl(sw.handle, VPC_OP_SW_SET_VNI, encode('vpc_sw_vni_t', { vni: 200 }), 0));
  });
  test('SW_DEL_PORT / SW_GET_PORT: no such port is ENOENT', () => {
    const ref = encode('vpc_swport_ref_t', { port_id: Array.from(parse(newId())) });
    refused('ENOENT', () => ctl(sw.handle, VPC_OP_SW_DEL_PORT, ref, 0));
    refused('ENOENT', () => ctl(sw.handle, VPC_OP_SW_GET_PORT, ref, sizeOf('vpc_swport_t')));
    refused('ENOENT', () => ctl(sw2.handle, VPC_OP_SW_DEL_PORT, encode('vpc_swport_ref_t', { port_id: Array.from(parse(portId)) }), 0));
  });
  test('COMMIT twice is EALREADY; DESTROY of a plugged vmnic or vcc is EBUSY', () => {
    refused('EALREADY', () => ctl(sw.handle, VPC_OP_COMMIT, encode('vpc_txn_t', 0), 0));
    refused('EBUSY', () => ctl(nic.handle, VPC_OP_DESTROY, encode('vpc_txn_t', 0), 0));
  });
  test('NIC_SET_MTU: out of bounds, unknown flags, FORCE with 0, a nonzero fit are EINVAL', () => {
    for (const v of [{ mtu: 1279 }, { mtu: 9001 }, { mtu: 0xffffffff }, { mtu: 1400, flags: 2 }, { mtu: 1400, flags: 4 },
      { mtu: 1400, flags: 0x80000000 }, { mtu: 0, flags: 1 }, { mtu: 1400, fit: 1400 }]) {
      refused('EINVAL', () => ctl(loose.handle, VPC_OP_NIC_SET_MTU, encode('vpc_nic_mtu_t', v), 0));
    }
  });
  test('NIC_SET_MTU: more than the underlay carries is EINVAL without FORCE; a stale token ESTALE', () => {
    // A vmnic behind a vcc (bound on loopback, a port of this process's own:
    // nothing is sent) with the default MTU, 1500: 1450 fits.
    const v = Vcc.create(newId(), { ipv4: '127.0.0.1', port: 20000 + (process.pid % 20000) });
    const s = Switch.create(newId(), { vni: 300 });
    const n = Nic.create(newId(), { mac: '02:00:00:00:03:01' });
    try {
      s.addPort({ kind: 'uplink', vcc: v.id });
      s.addPort({ kind: 'vmnic', nic: n.id });
      assert.deepEqual(n.mtuInfo(), { mtu: 1450, isDefault: true, forced: false, fit: 1450 });
      for (const mtu of [1451, 1500, 9000]) {
        refused('EINVAL', () => ctl(n.handle, VPC_OP_NIC_SET_MTU, encode('vpc_nic_mtu_t', { mtu }), 0));
      }
      const t = n.txn();
      n.setMtu(1400);                       // an unconditional change: t is stale now
      refused('ESTALE', () => ctl(n.handle, VPC_OP_NIC_SET_MTU, encode('vpc_nic_mtu_t', { txn: t, mtu: 1300 }), 0));
      assert.equal(n.mtu(), 1400);
    } finally {
      s.destroy();
      for (const o of [n, s, v]) o.close();
    }
  });
  test('NIC_SET_DHCP: counts, addresses, routes, names, flags and padding are checked', () => {
    // A vmnic with DHCP configured, so that "unchanged" means something.
    nic.setDhcp({ dns: ['203.0.113.53'], domain: 'example.internal', routes: [{ destination: '198.51.100.0/24', gateway: '203.0.113.254' }] });
    const good = { flags: 1, ndns: 1, dns: [203, 0, 113, 53, ...new Array<number>(12).fill(0)] };
    const name = (s: string, rest: number[] = []) => {
      const b = new Array<number>(64).fill(0);
      [...s].forEach((ch, i) => { b[i] = ch.charCodeAt(0); });
      rest.forEach((x, i) => { b[s.length + 1 + i] = x; });
      return b;
    };
    const route = (dst: number[], plen: number, gw: number[]) => ({
      nroutes: 1, route_dst: [...dst, ...new Array<number>(28).fill(0)], route_gw: [...gw, ...new Array<number>(28).fill(0)],
      route_plen: [plen, 0, 0, 0, 0, 0, 0, 0],
    });
    const cases: Array<[string, Record<string, unknown>]> = [
      ['unknown flag', { ...good, flags: 3 }],
      ['ndns over 4', { ...good, ndns: 5 }],
      ['nroutes over 8', { nroutes: 9 }],
      ['DNS 0.0.0.0', { ndns: 1, dns: new Array<number>(16).fill(0) }],
      ['DNS multicast', { ndns: 1, dns: [224, 0, 0, 1, ...new Array<number>(12).fill(0)] }],
      ['DNS loopback', { ndns: 1, dns: [127, 0, 0, 1, ...new Array<number>(12).fill(0)] }],
      ['DNS in an unused slot', { ...good, dns: [203, 0, 113, 53, 203, 0, 113, 54, ...new Array<number>(8).fill(0)] }],
      ['route with host bits', route([198, 51, 100, 1], 24, [203, 0, 113, 254])],
      ['route prefix 33', route([198, 51, 100, 0], 33, [203, 0, 113, 254])],
      ['route via 0.0.0.0', route([198, 51, 100, 0], 24, [0, 0, 0, 0])],
      ['route via broadcast', route([198, 51, 100, 0], 24, [255, 255, 255, 255])],
      ['route in an unused slot', { route_plen: [0, 24, 0, 0, 0, 0, 0, 0] }],
      ['domain not NUL-terminated', { domain: new Array<number>(64).fill(0x61) }],
      ['domain with a space', { domain: name('a b') }],
      ['domain with a control character', { domain: name('a\tb') }],
      ['bytes after the domain\'s NUL', { domain: name('ab', [0x63]) }],
      ['host name not NUL-terminated', { hostname: new Array<number>(64).fill(0x61) }],
      ['nonzero padding', { ...good }],
    ];
    for (const [what, v] of cases) {
      const k = encode('vpc_nic_dhcp_t', v as never);
      if (what === 'nonzero padding') k[14] = 1;       // _pad0, after ndns and nroutes
      assert.doesNotThrow(() => refused('EINVAL', () => ctl(nic.handle, VPC_OP_NIC_SET_DHCP, k, 0)), what);
    }
    const t = nic.txn();
    nic.setDhcp({ enabled: false });        // an unconditional change: t is stale now
    refused('ESTALE', () => ctl(nic.handle, VPC_OP_NIC_SET_DHCP, encode('vpc_nic_dhcp_t', { ...good, txn: t } as never), 0));
    refused('EINVAL', () => ctl(nic.handle, VPC_OP_NIC_SET_DHCP, encode('vpc_nic_dhcp_t', { txn: -1 }), 0));   // a negative token
  });
  test('Nic.setDhcp: bad arguments are refused before any call', () => {
    for (const o of [{ dns: ['203.0.113.1', '203.0.113.2', '203.0.113.3', '203.0.113.4', '203.0.113.5'] }, { dns: ['2001:db8::1'] },
      { dns: ['0.0.0.0'] }, { domain: 'a b' }, { hostname: 'x'.repeat(64) }, { leaseSeconds: -1 }, { leaseSeconds: 2 ** 32 },
      { leaseSeconds: 1.5 }, { routes: [{ destination: '198.51.100.1/24', gateway: '203.0.113.254' }] },
      { routes: [{ destination: '2001:db8::/64', gateway: '203.0.113.254' }] }, { routes: [{ destination: '198.51.100.0/24', gateway: '224.0.0.1' }] },
      { routes: new Array(9).fill({ destination: '198.51.100.0/24', gateway: '203.0.113.254' }) }]) {
      const before = snapshot();
      assert.throws(() => nic.setDhcp(o as never), VpcArgumentError, JSON.stringify(o));
      assert.deepEqual(snapshot(), before);
    }
  });
  test('SW_SET_POLICY: an RA interval below 4 s or over 1800 s (but VPC_RA_OFF) is EINVAL', () => {
    for (const ra of [1, 3, 1801, 86400, VPC_RA_OFF - 1]) {
      refused('EINVAL', () => ctl(sw.handle, VPC_OP_SW_SET_POLICY, encode('vpc_sw_policy_t', { ra_interval_s: ra }), 0));
    }
    for (const ra of [0, 4, 1800, VPC_RA_OFF]) {
      assert.equal(ctl(sw.handle, VPC_OP_SW_SET_POLICY, encode('vpc_sw_policy_t', { ra_interval_s: ra }), 0).errno, 0);
    }
  });
  test('SYS_LIST: an unknown type is EINVAL; a buffer too small is ERANGE with the size needed', () => {
    refused('EINVAL', () => ctl(-1, VPC_OP_SYS_LIST, encode('vpc_list_req_t', { obj_type: 99 }), 64));
    const r = ctl(-1, VPC_OP_SYS_LIST, encode('vpc_list_req_t', {}), 10);
    assert.equal(errnoName(r.errno), 'ERANGE');
    assert.ok(r.vallen >= 64 && r.vallen % 64 === 0, `needed ${r.vallen}`);
  });
  test('SYS_AGENT_EVENT: unknown event, padding, a detail unterminated or with a space or quote are EINVAL', () => {
    const ev = (event: number, detail: string, pad = 0) => {
      const b = Buffer.alloc(128, 'x'.charCodeAt(0));
      b.writeUInt32LE(event, 0);
      b.writeUInt32LE(pad, 4);
      if (detail !== '<unterminated>') b.write(`${detail}\0`, 8, 'latin1');
      return b;
    };
    for (const [event, detail, pad] of [[0, 'x', 0], [3, 'x', 0], [1, 'x', 1], [1, '<unterminated>', 0],
      [1, 'two words', 0], [2, 'say"hi"', 0], [1, 'line\nbreak', 0], [1, 'a=b', 0]] as const) {
      refused('EINVAL', () => ctl(-1, VPC_OP_SYS_AGENT_EVENT, ev(event, detail, pad), 0));
    }
    assert.equal(ctl(-1, VPC_OP_SYS_AGENT_EVENT, ev(1, 'file:/etc/vpc/mappings.json'), 0).errno, 0);
    assert.throws(() => reportAgentState('sleepy' as AgentState), VpcArgumentError);
    reportAgentState('recovered', 'spaces and "quotes" are made safe');
  });
});

const a16 = (ip: string) => ipBytes(ip).bytes;
const nbr = (v: Record<string, unknown>) => encode('vpc_sw_nbr_t', { af: 4, kind: VPC_NBR_FOUND, mac: mac('02:00:00:00:00:60'), addr: a16('10.0.0.60'), ...v });
const nbrSet = (...entries: Buffer[]) => () => ctl(sw.handle, VPC_OP_SW_NBR_SET, Buffer.concat(entries), sizeOf('vpc_cam_set_result_t'));
const nbrKey = (af: number, ip: string, pad = 0) => {
  const k = encode('vpc_nbr_key_t', { af, addr: a16(ip) });
  k[1] = pad;
  return k;
};

describe('bad values: L3 (addresses, gateway, policy, neighbours)', () => {
  test('NIC_SET_ADDR: addresses that are no host\'s, bytes without their flag, unknown flags, padding are EINVAL', () => {
    const addr = (v: Record<string, unknown>) => () => ctl(loose.handle, VPC_OP_NIC_SET_ADDR, encode('vpc_nic_addr_t', v), 0);
    for (const ip of ['0.0.0.0', '127.0.0.1', '224.0.0.1', '255.255.255.255', '0.1.2.3']) {
      refused('EINVAL', addr({ flags: 1, addr4: a16(ip).slice(0, 4) }));
    }
    for (const ip of ['::', '::1', 'ff02::1', 'fe80::1', '::ffff:10.0.0.1']) refused('EINVAL', addr({ flags: 2, addr6: a16(ip) }));
    refused('EINVAL', addr({ flags: 0, addr4: [10, 0, 0, 9] }));
    refused('EINVAL', addr({ flags: 0, addr6: a16('2001:db8::9') }));
    refused('EINVAL', addr({ flags: 4 }));
    const k = encode('vpc_nic_addr_t', { flags: 1, addr4: [10, 0, 0, 9] });
    k[12] = 1;                               // _pad0
    refused('EINVAL', () => ctl(loose.handle, VPC_OP_NIC_SET_ADDR, k, 0));
  });
  test('NIC_SET_ADDR: an address another vmnic of the switch has is EADDRINUSE; so is plugging such a vmnic', () => {
    refused('EADDRINUSE', () => ctl(nic3.handle, VPC_OP_NIC_SET_ADDR, encode('vpc_nic_addr_t', { flags: 1, addr4: [10, 0, 0, 2] }), 0));
    refused('EADDRINUSE', () => ctl(nic3.handle, VPC_OP_NIC_SET_ADDR, encode('vpc_nic_addr_t', { flags: 2, addr6: a16('2001:db8:100::2') }), 0));
    const twin = Nic.create(newId(), { mac: '02:00:00:00:00:44', addresses: { ipv4: '10.0.0.3' } });
    try {
      twin.commit();
      refused('EADDRINUSE', addPort({ flags: VPC_FLAG_SWP_VMNIC, peer_id: Array.from(parse(twin.id)) }));
    } finally {
      twin.destroy();
      twin.close();
    }
  });
  test('SW_SET_GATEWAY: outside the subnet, its network or broadcast address, no subnet, bad MACs, out-only fields are EINVAL', () => {
    const gw = (h: number, v: Record<string, unknown>) => () => ctl(h, VPC_OP_SW_SET_GATEWAY, encode('vpc_sw_gateway_t', v), 0);
    for (const ip of ['10.0.1.1', '10.0.0.0', '10.0.0.255', '0.0.0.0']) refused('EINVAL', gw(sw.handle, { flags: 1, addr4: a16(ip).slice(0, 4) }));
    for (const ip of ['2001:db8:101::1', '2001:db8:100::']) refused('EINVAL', gw(sw.handle, { flags: 2, addr6: a16(ip) }));
    refused('EINVAL', gw(sw2.handle, { flags: 1, addr4: [10, 0, 0, 1] }));      // sw2 has no subnet
    refused('EINVAL', gw(sw.handle, { flags: 0, addr4: [10, 0, 0, 1] }));
    refused('EINVAL', gw(sw.handle, { flags: 4, mac: mac('01:00:5e:00:00:01') }));
    refused('EINVAL', gw(sw.handle, { flags: 4, mac: mac('00:00:00:00:00:00') }));
    refused('EINVAL', gw(sw.handle, { flags: 0, mac: mac('02:00:00:00:00:01') }));
    refused('EINVAL', gw(sw.handle, { flags: 8 }));
    refused('EINVAL', gw(sw.handle, { has4: 1 }));
    refused('EINVAL', gw(sw.handle, { ll6: a16('fe80::1') }));
  });
  test('SW_SET_POLICY: an unknown BUM mode, rates or RA interval out of range, padding are EINVAL', () => {
    const pol = (v: Record<string, unknown>) => () => ctl(sw.handle, VPC_OP_SW_SET_POLICY, encode('vpc_sw_policy_t', v), 0);
    for (const v of [{ bum: 2 }, { upcall_rate: 1_000_001 }, { upcall_burst: 1_000_001 }, { ra_interval_s: 3 }, { ra_interval_s: 1801 }]) {
      refused('EINVAL', pol(v));
    }
    const k = encode('vpc_sw_policy_t', {});
    k[5] = 1;                                // _pad0
    refused('EINVAL', () => ctl(sw.handle, VPC_OP_SW_SET_POLICY, k, 0));
  });
  test('SW_NBR_SET: every entry is checked before any is applied', () => {
    refused('EAFNOSUPPORT', nbrSet(nbr({ af: 5 })));
    refused('EAFNOSUPPORT', nbrSet(nbr({}), nbr({ af: 0 })));
    for (const kind of [0, VPC_NBR_LOCAL, 4]) refused('EINVAL', nbrSet(nbr({ kind })));
    for (const m of ['00:00:00:00:00:00', '01:00:5e:00:00:01', 'ff:ff:ff:ff:ff:ff']) refused('EINVAL', nbrSet(nbr({ mac: mac(m) })));
    refused('EINVAL', nbrSet(nbr({ kind: VPC_NBR_NEGATIVE })));             // a MAC with NEGATIVE
    for (const ip of ['10.0.1.60', '0.0.0.0', '127.0.0.1', '224.0.0.5', '255.255.255.255']) refused('EINVAL', nbrSet(nbr({ addr: a16(ip) })));
    for (const ip of ['2001:db8:101::60', '::', '::1', 'ff02::1', '::ffff:10.0.0.60']) refused('EINVAL', nbrSet(nbr({ af: 6, addr: a16(ip) })));
    refused('EINVAL', nbrSet(nbr({ addr: [10, 0, 0, 60, 1, ...new Array<number>(11).fill(0)] })));   // bytes past IPv4
    refused('EINVAL', nbrSet(nbr({ flags: 1 })));
    refused('ERANGE', nbrSet(nbr({ ttl_ms: VPC_CAM_TTL_MAX_MS + 1 })));
    refused('EBUSY', nbrSet(nbr({}), nbr({ addr: a16('10.0.0.2') })));      // a local vmnic's
    refused('EBUSY', nbrSet(nbr({ af: 6, addr: a16('2001:db8:100::2') })));
    refused('EINVAL', () => ctl(sw2.handle, VPC_OP_SW_NBR_SET, nbr({}), sizeOf('vpc_cam_set_result_t')));   // no subnet
    const many = Array.from({ length: VPC_NBR_BATCH_MAX + 1 }, (_, i) => nbr({ addr: a16(`10.0.0.${100 + (i % 100)}`) }));
    refused('E2BIG', nbrSet(...many));
  });
  test('SW_NBR_SET: an older revision than the stored entry\'s is skipped and counted, and changes nothing', () => {
    const before = snapshot();
    const buf = Buffer.alloc(sizeOf('vpc_cam_set_result_t'));
    const r = backend().ctl(sw.handle, VPC_OP_SW_NBR_SET, nbr({ addr: a16('10.0.0.50'), revision: 9 }), buf);
    assert.equal(r.errno, 0);
    assert.deepEqual([buf.readUInt32LE(0), buf.readUInt32LE(4)], [0, 1]);
    assert.deepEqual(snapshot(), before);
  });
  test('SW_NBR_GET / SW_NBR_DEL: bad family, padding, bytes past IPv4, none, a local entry', () => {
    for (const op of [VPC_OP_SW_NBR_GET, VPC_OP_SW_NBR_DEL]) {
      const vl = op === VPC_OP_SW_NBR_GET ? sizeOf('vpc_sw_nbr_t') : 0;
      refused('EAFNOSUPPORT', () => ctl(sw.handle, op, nbrKey(0, '10.0.0.50'), vl));
      refused('EAFNOSUPPORT', () => ctl(sw.handle, op, nbrKey(7, '10.0.0.50'), vl));
      refused('EINVAL', () => ctl(sw.handle, op, nbrKey(4, '10.0.0.50', 1), vl));
      const k = nbrKey(4, '10.0.0.50');
      k[10] = 1;
      refused('EINVAL', () => ctl(sw.handle, op, k, vl));
      refused('ENOENT', () => ctl(sw.handle, op, nbrKey(4, '10.0.0.51'), vl));
      refused('ENOENT', () => ctl(sw.handle, op, nbrKey(6, '2001:db8:100::51'), vl));
    }
    refused('EBUSY', () => ctl(sw.handle, VPC_OP_SW_NBR_DEL, nbrKey(4, '10.0.0.2'), 0));
    refused('EBUSY', () => ctl(sw.handle, VPC_OP_SW_NBR_DEL, nbrKey(6, '2001:db8:100::2'), 0));
  });
  test('SW_NBR_FLUSH: flags, or a VNI not the switch\'s, are EINVAL; SW_NBR_DUMP: a bad request EINVAL, no room ERANGE', () => {
    refused('EINVAL', () => ctl(sw.handle, VPC_OP_SW_NBR_FLUSH, encode('vpc_cam_flush_t', { vni: VPC_VNI_ANY, flags: 1 }), 8));
    refused('EINVAL', () => ctl(sw.handle, VPC_OP_SW_NBR_FLUSH, encode('vpc_cam_flush_t', { vni: 101, flags: 0 }), 8));
    refused('EINVAL', () => ctl(sw.handle, VPC_OP_SW_NBR_DUMP, encode('vpc_list_req_t', { obj_type: 1 }), 1024));
    const before = snapshot();
    const r = ctl(sw.handle, VPC_OP_SW_NBR_DUMP, encode('vpc_list_req_t', {}), 10);
    assert.equal(errnoName(r.errno), 'ERANGE');
    assert.equal(r.vallen, 4 * sizeOf('vpc_sw_nbr_t'), 'three local entries and the learned one');
    assert.deepEqual(snapshot(), before);
  });
});

describe('vpc_open arguments', () => {
  const open = (id: Uint8Array, word: number, flags: number) => () => backend().open(id, word, flags);
  const word = (t: number) => 1 | (t << 8);
  test('a bare type, bad version, pad bits or unknown type is EINVAL', () => {
    const id = parse(newId());
    refused('EINVAL', open(id, 1, VPC_FLAG_CREATE));               // VPC_TYPE_NIC, not a word
    refused('EINVAL', open(id, 2 | (1 << 8), VPC_FLAG_CREATE));    // version 2
    refused('EINVAL', open(id, word(1) | 0x10, VPC_FLAG_CREATE));  // pad bits 4-7
    refused('EINVAL', open(id, word(1) + 2 ** 40, VPC_FLAG_CREATE)); // pad bits 16-63
    refused('EINVAL', open(id, word(0), VPC_FLAG_CREATE));
    refused('EINVAL', open(id, word(8), VPC_FLAG_CREATE));
  });
  test('flags must be exactly one of DEFAULT, CREATE, OPEN', () => {
    const id = parse(newId());
    for (const f of [0, VPC_FLAG_CREATE | VPC_FLAG_OPEN, VPC_FLAG_DEFAULT | VPC_FLAG_CREATE, 1 << 3, VPC_FLAG_CREATE | (1 << 10)]) {
      refused('EINVAL', open(id, word(1), f));
    }
  });
  test('the nil UUID is EINVAL', () => {
    refused('EINVAL', open(new Uint8Array(16), word(1), VPC_FLAG_CREATE));
  });
  test('ports cannot be created by open (SW_ADD_PORT makes them)', () => {
    refused('EOPNOTSUPP', open(parse(newId()), word(3), VPC_FLAG_CREATE));
  });
  test('CREATE of an id in use is EEXIST; OPEN of none ENOENT; OPEN as another type ENOENT', () => {
    refused('EEXIST', open(parse(sw.id), word(2), VPC_FLAG_CREATE));
    refused('EEXIST', open(parse(sw.id), word(1), VPC_FLAG_CREATE));
    refused('ENOENT', open(parse(newId()), word(2), VPC_FLAG_OPEN));
    refused('ENOENT', open(parse(sw.id), word(1), VPC_FLAG_OPEN));
    refused('ENOENT', open(parse(newId()), word(3), VPC_FLAG_DEFAULT));
  });
});

describe('bad values: the port firewall (rule sets, issue 14)', () => {
  // Set 77: one rule, attached to a vmnic port of sw as its ingress set;
  // set 78: no rule, attached nowhere.  Every refusal reads both back.
  const SET = 77;
  const good = ruleStruct(SET, 'in allow tcp from 10.0.0.0/8 port 22 priority 100');
  const rule = (over: Partial<StructValues['vpc_fw_rule_t']>): Uint8Array =>
    encode('vpc_fw_rule_t', { ...good, ...over } as StructValues['vpc_fw_rule_t']);
  const ref = (id: number): Uint8Array => encode('vpc_fw_set_ref_t', { id } as StructValues['vpc_fw_set_ref_t']);
  const fwState = (): unknown => ({
    sets: fwListSets(), rules: fwListSets().map((s) => fwRules(s.id)), config: fwConfig(), port: sw.ports().find((p) => p.id === portId),
  });
  /** Refused with want, and neither the kernel nor the sets changed. */
  const refusedFw = (want: string, call: () => CtlResult): void => {
    const before = fwState();
    refused(want, call);
    assert.deepEqual(fwState(), before, 'the rule sets changed by a refused call');
  };
  const setRules = (...rules: Uint8Array[]) => () => ctl(VPC_HANDLE_NONE, VPC_OP_FW_SET_RULES, Buffer.concat(rules), 0);
  const cidr = (c: string): Partial<StructValues['vpc_fw_rule_t']> => {
    const [a, p] = c.split('/');
    const ip = ipBytes(a!);
    return { remote: VPC_FW_REMOTE_CIDR, af: ip.af === 6 ? VPC_AF_INET6 : VPC_AF_INET, plen: Number(p), addr: ip.bytes };
  };

  before(() => {
    fwCreateSet(SET);
    fwCreateSet(SET + 1);
    fwReplaceRules(SET, ['in allow tcp from 10.0.0.0/8 port 22 priority 100']);
    sw.setPortFirewall(portId, { ingress: SET });
  });
  after(() => {
    sw.setPortFirewall(portId, {});
    fwDestroySet(SET);
    fwDestroySet(SET + 1);
  });

  test('the good rule is taken (the rows below differ from it in one field); a replace moves the generation', () => {
    const g0 = fwListSets().find((s) => s.id === SET)!.generation;
    assert.equal(setRules(rule({}))().errno, 0);
    assert.ok(fwListSets().find((s) => s.id === SET)!.generation > g0, 'so an unchanged generation shows no replace happened');
    assert.deepEqual(fwRules(SET).map((r) => r.text), ['in allow tcp from 10.0.0.0/8 port 22 priority 100']);
  });
  test('priority over 65535, port 0, a port over 65535, a reversed range are EINVAL', () => {
    refusedFw('EINVAL', setRules(rule({ priority: 65536 })));
    refusedFw('EINVAL', setRules(rule({ port_lo: [0, 0, 0, 0, 0, 0, 0, 0], port_hi: [22, 0, 0, 0, 0, 0, 0, 0] })));
    refusedFw('EINVAL', setRules(rule({ port_lo: [22, 0, 0, 0, 0, 0, 0, 0], port_hi: [65536, 0, 0, 0, 0, 0, 0, 0] })));
    refusedFw('EINVAL', setRules(rule({ port_lo: [100, 0, 0, 0, 0, 0, 0, 0], port_hi: [99, 0, 0, 0, 0, 0, 0, 0] })));
    refusedFw('EINVAL', setRules(rule({}), rule({ priority: 70000 })));     // a good rule then a bad one: neither
  });
  test('a CIDR with host bits or too long a prefix is EINVAL', () => {
    refusedFw('EINVAL', setRules(rule(cidr('10.0.0.1/8'))));
    refusedFw('EINVAL', setRules(rule(cidr('2001:db8::1/64'))));
    refusedFw('EINVAL', setRules(rule({ ...cidr('10.0.0.0/8'), plen: 33 })));
    refusedFw('EINVAL', setRules(rule({ ...cidr('2001:db8::/64'), plen: 129 })));
  });
  test('an unknown protocol kind, an ICMP code without its type are EINVAL', () => {
    refusedFw('EINVAL', setRules(rule({ proto: 9 })));
    const icmp = ruleStruct(SET, 'in allow icmp type 3 code 1');
    refusedFw('EINVAL', setRules(encode('vpc_fw_rule_t', { ...icmp, flags: VPC_FW_R_ICMP_CODE } as StructValues['vpc_fw_rule_t'])));
  });
  test('a set that does not exist is ENOENT for every op that names one, and for a port', () => {
    refusedFw('ENOENT', setRules(rule({ set_id: 99 })));
    refusedFw('ENOENT', () => ctl(VPC_HANDLE_NONE, VPC_OP_FW_SET_DESTROY, ref(99), 0));
    refusedFw('ENOENT', () => ctl(VPC_HANDLE_NONE, VPC_OP_FW_SET_FLUSH, ref(99), 0));
    refusedFw('ENOENT', () => ctl(VPC_HANDLE_NONE, VPC_OP_FW_SET_GET, ref(99), sizeOf('vpc_fw_set_t')));
    refusedFw('ENOENT', () => ctl(VPC_HANDLE_NONE, VPC_OP_FW_SET_MODIFY, encode('vpc_fw_set_t', { id: 99, flags: VPC_FW_SET_KEEP_ESTABLISHED } as StructValues['vpc_fw_set_t']), 0));
    refusedFw('ENOENT', () => ctl(VPC_HANDLE_NONE, VPC_OP_FW_RULE_DUMP, encode('vpc_fw_dump_req_t', { id: 99 } as StructValues['vpc_fw_dump_req_t']), sizeOf('vpc_fw_rule_t')));
    const attach = (ingress: number, egress: number) => () => ctl(sw.handle, VPC_OP_SW_PORT_SET_FW, encode('vpc_sw_port_fw_t', {
      flags: (ingress ? VPC_FLAG_SWP_FW_INGRESS : 0) | (egress ? VPC_FLAG_SWP_FW_EGRESS : 0), port_id: Array.from(parse(portId)), ingress, egress,
    } as StructValues['vpc_sw_port_fw_t']), 0);
    refusedFw('ENOENT', attach(99, 0));
    refusedFw('ENOENT', attach(SET, 99));
  });
  test('a set in use is EBUSY to destroy (ingress or egress); unused, it goes', () => {
    refusedFw('EBUSY', () => ctl(VPC_HANDLE_NONE, VPC_OP_FW_SET_DESTROY, ref(SET), 0));
    sw.setPortFirewall(portId, { egress: SET + 1 });
    try {
      refusedFw('EBUSY', () => ctl(VPC_HANDLE_NONE, VPC_OP_FW_SET_DESTROY, ref(SET + 1), 0));
    } finally {
      sw.setPortFirewall(portId, { ingress: SET });
    }
  });
  test('the API and the grammar refuse the same before any call (VpcArgumentError), nothing changes', () => {
    const before = fwState();
    for (const text of ['in allow tcp port 0', 'in allow tcp port 65536', 'in allow tcp port 100-99', 'in allow tcp from 10.0.0.1/8',
      'in allow tcp from 2001:db8::1/64', 'in allow tcp priority 65536', 'in allow icmp code 3', 'in allow sctp', 'in allow proto 255']) {
      assert.throws(() => fwReplaceRules(SET, [text]), VpcArgumentError, text);
    }
    assert.throws(() => fwReplaceRules(SET, [{ dir: 'in', action: 'allow', proto: 'icmp', icmpCode: 3 }]), VpcArgumentError);
    assert.throws(() => fwReplaceRules(SET, [{ dir: 'in', action: 'allow', proto: 'tcp', ports: [[100, 99]] }]), VpcArgumentError);
    assert.throws(() => fwReplaceRules(0, ['in allow tcp']), VpcArgumentError);
    assert.deepEqual(fwState(), before);
  });
});

describe('bad values: NAT and link (issue 15)', () => {
  // A router of its own with one subnet, a NAT attached to it holding an
  // EIP and a pool; a second NAT attached nowhere; a link bound nowhere
  // (this kernel runs in the test's own namespace: no interface is bound).
  let r2: Router;
  let sw5: Switch;
  let nat1: Nat;
  let nat2: Nat;
  let link1: Link;
  const id16 = (id: string): number[] => Array.from(parse(id));
  const v4 = (a: string): number[] => a.split('.').map(Number);
  const nilId = (): number[] => new Array<number>(16).fill(0);
  before(() => {
    sw5 = Switch.create(newId(), { vni: 500 });
    sw5.setSubnet('10.5.0.0/24');
    r2 = Router.create();
    r2.attach(sw5);
    nat1 = Nat.create();
    nat2 = Nat.create();
    link1 = Link.create();
    nat1.setLink(link1);
    r2.setNat(nat1);
    nat1.bindEip('10.5.0.10', '203.0.113.10');
    nat1.addPool('203.0.113.20', { lo: 2000, hi: 2999, block: 100 });
    nat1.bindSnat('10.5.0.11', '203.0.113.20');
    for (const o of [sw5, r2, nat1, nat2, link1]) o.commit();
  });
  after(() => {
    for (const o of [sw5, r2, nat1, nat2, link1]) o.close();
  });
  const eip = (h: number, op: number, priv: string, ext: string, padByte = 0) => () => {
    const k = encode('vpc_nat_eip_t', { priv: v4(priv), ext: v4(ext) });
    k[13] = padByte;                        /* _pad0[1] */
    return ctl(h, op, k, 0);
  };
  const pool = (ext: string, lo: number, hi: number, block: number) =>
    () => ctl(nat1.handle, VPC_OP_NAT_POOL_ADD, encode('vpc_nat_pool_t', { ext: v4(ext), lo, hi, block }), 0);
  const snat = (h: number, op: number, priv: string, ext: string) =>
    () => ctl(h, op, encode('vpc_nat_snat_t', { priv: v4(priv), ext: v4(ext) }), 0);

  test('LINK_SET: no such interface, not Ethernet (lo), a bad name, padding', () => {
    const name = (n: string): number[] => Array.from({ length: 16 }, (_, i) => n.charCodeAt(i) || 0);
    refused('ENODEV', () => ctl(link1.handle, VPC_OP_LINK_SET, encode('vpc_link_t', { ifname: name('nxnat0') }), 0));
    refused('ENODEV', () => ctl(link1.handle, VPC_OP_LINK_SET, encode('vpc_link_t', { ifname: name('lo') }), 0));
    refused('EINVAL', () => ctl(link1.handle, VPC_OP_LINK_SET, encode('vpc_link_t', { ifname: name('bad name') }), 0));
    refused('EINVAL', () => ctl(link1.handle, VPC_OP_LINK_SET, encode('vpc_link_t', { ifname: name('nxnat0'), users: 1 }), 0));
  });
  test('EIP_BIND: bound twice by either address, a pool address, outside every subnet, no host address, no router', () => {
    refused('EEXIST', eip(nat1.handle, VPC_OP_NAT_EIP_BIND, '10.5.0.10', '203.0.113.11'));
    refused('EEXIST', eip(nat1.handle, VPC_OP_NAT_EIP_BIND, '10.5.0.12', '203.0.113.10'));
    refused('EEXIST', eip(nat1.handle, VPC_OP_NAT_EIP_BIND, '10.5.0.11', '203.0.113.12'));   /* has SNAT */
    refused('EADDRINUSE', eip(nat1.handle, VPC_OP_NAT_EIP_BIND, '10.5.0.12', '203.0.113.20'));
    refused('EADDRNOTAVAIL', eip(nat1.handle, VPC_OP_NAT_EIP_BIND, '10.6.0.12', '203.0.113.12'));
    refused('EINVAL', eip(nat1.handle, VPC_OP_NAT_EIP_BIND, '10.5.0.12', '127.0.0.1'));
    refused('EINVAL', eip(nat1.handle, VPC_OP_NAT_EIP_BIND, '10.5.0.12', '224.0.0.1'));
    refused('EINVAL', eip(nat1.handle, VPC_OP_NAT_EIP_BIND, '10.5.0.12', '203.0.113.12', 1));
    refused('EADDRNOTAVAIL', eip(nat2.handle, VPC_OP_NAT_EIP_BIND, '10.5.0.12', '203.0.113.12'));   /* no router */
    refused('ENOENT', eip(nat1.handle, VPC_OP_NAT_EIP_UNBIND, '10.5.0.12', '0.0.0.0'));
    refused('ENOENT', eip(nat1.handle, VPC_OP_NAT_EIP_UNBIND, '10.5.0.10', '203.0.113.99'));
  });
  test('POOL_ADD / POOL_DEL: overlapping (the same address twice), an EIP, bad ranges; none to delete, in use', () => {
    refused('EEXIST', pool('203.0.113.20', 3000, 3999, 100));
    refused('EADDRINUSE', pool('203.0.113.10', 0, 0, 0));
    refused('EINVAL', pool('203.0.113.21', 3000, 2000, 100));
    refused('EINVAL', pool('203.0.113.21', 0, 100, 10));
    refused('EINVAL', pool('203.0.113.21', 3000, 3009, 20));        /* not one block */
    refused('EINVAL', pool('0.1.2.3', 0, 0, 0));
    refused('ENOENT', () => ctl(nat1.handle, VPC_OP_NAT_POOL_DEL, encode('vpc_nat_pool_t', { ext: v4('203.0.113.21') }), 0));
    refused('EBUSY', () => ctl(nat1.handle, VPC_OP_NAT_POOL_DEL, encode('vpc_nat_pool_t', { ext: v4('203.0.113.20') }), 0));
  });
  test('SNAT_BIND / UNBIND: bound twice, has an EIP, no such pool, outside every subnet, not bound', () => {
    refused('EEXIST', snat(nat1.handle, VPC_OP_NAT_SNAT_BIND, '10.5.0.11', '203.0.113.20'));
    refused('EEXIST', snat(nat1.handle, VPC_OP_NAT_SNAT_BIND, '10.5.0.10', '203.0.113.20'));
    refused('ENOENT', snat(nat1.handle, VPC_OP_NAT_SNAT_BIND, '10.5.0.12', '203.0.113.21'));
    refused('EADDRNOTAVAIL', snat(nat1.handle, VPC_OP_NAT_SNAT_BIND, '10.7.0.12', '203.0.113.20'));
    refused('ENOENT', snat(nat1.handle, VPC_OP_NAT_SNAT_UNBIND, '10.5.0.12', '0.0.0.0'));
    refused('EINVAL', snat(nat1.handle, VPC_OP_NAT_SNAT_UNBIND, '10.5.0.11', '203.0.113.20'));   /* ext must be 0 */
  });
  test('wrong families: the NAT is IPv4 only (the API refuses IPv6 before the kernel)', () => {
    assert.throws(() => nat1.bindEip('2001:db8::5', '203.0.113.12'), VpcArgumentError);
    assert.throws(() => nat1.addPool('2001:db8::20'), VpcArgumentError);
  });
  test('SET_CONFIG, SET_LINK, FLOW_DUMP: bad values', () => {
    refused('EINVAL', () => ctl(nat1.handle, VPC_OP_NAT_SET_CONFIG, encode('vpc_nat_config_t', { upstream_mac: [1, 0, 0, 0, 0, 1] }), 0));
    refused('EINVAL', () => ctl(nat1.handle, VPC_OP_NAT_SET_CONFIG, encode('vpc_nat_config_t', { udp_s: 366 * 86400 + 1 }), 0));
    // The upstream by address: a host's, and not together with a MAC.
    refused('EINVAL', () => ctl(nat1.handle, VPC_OP_NAT_SET_CONFIG, encode('vpc_nat_config_t', { upstream_ip: [127, 0, 0, 1] }), 0));
    refused('EINVAL', () => ctl(nat1.handle, VPC_OP_NAT_SET_CONFIG, encode('vpc_nat_config_t', { upstream_ip: [224, 0, 0, 1] }), 0));
    refused('EINVAL', () => ctl(nat1.handle, VPC_OP_NAT_SET_CONFIG,
      encode('vpc_nat_config_t', { upstream_ip: [203, 0, 113, 1], upstream_mac: [2, 0, 0, 0, 0, 1] }), 0));
    assert.throws(() => nat1.configure({ upstreamIp: '203.0.113.1', upstreamMac: '02:00:00:00:00:01' }), VpcArgumentError);
    assert.throws(() => nat1.configure({ upstreamIp: '2001:db8::1' }), VpcArgumentError);
    refused('EBUSY', () => ctl(nat1.handle, VPC_OP_NAT_SET_CONFIG, encode('vpc_nat_config_t', { max_flows: 1000 }), 0));
    refused('ENOENT', () => ctl(nat2.handle, VPC_OP_NAT_SET_LINK, encode('vpc_nat_link_t', { link_id: id16(newId()) }), 0));
    refused('EINVAL', () => ctl(nat2.handle, VPC_OP_NAT_SET_LINK, encode('vpc_nat_link_t', { link_id: id16(r2.id) }), 0));
    refused('EBUSY', () => ctl(nat2.handle, VPC_OP_NAT_SET_LINK, encode('vpc_nat_link_t', { link_id: id16(link1.id) }), 0));
    refused('EINVAL', () => ctl(nat1.handle, VPC_OP_NAT_FLOW_DUMP, encode('vpc_nat_flow_req_t', { resume: 2 }), 32 * 4));
  });
  test('RTR_SET_NAT and INTERNET routes: no such NAT, not a NAT, one per router, one router per NAT, detach under routes', () => {
    refused('ENOENT', () => ctl(r2.handle, VPC_OP_RTR_SET_NAT, encode('vpc_rtr_nat_t', { nat_id: id16(newId()) }), 0));
    refused('EINVAL', () => ctl(r2.handle, VPC_OP_RTR_SET_NAT, encode('vpc_rtr_nat_t', { nat_id: id16(link1.id) }), 0));
    refused('EEXIST', () => ctl(r2.handle, VPC_OP_RTR_SET_NAT, encode('vpc_rtr_nat_t', { nat_id: id16(nat2.id) }), 0));
    refused('EBUSY', () => ctl(rtr.handle, VPC_OP_RTR_SET_NAT, encode('vpc_rtr_nat_t', { nat_id: id16(nat1.id) }), 0));
    const internet = encode('vpc_rt_route_t', { af: VPC_AF_INET, target: VPC_RT_INTERNET });
    refused('EOPNOTSUPP', () => ctl(rtr.handle, VPC_OP_RTR_ROUTE_SET, internet, 0));   /* rtr has no NAT */
    r2.routes.set({ destination: '0.0.0.0/0', internet: true });
    refused('EBUSY', () => ctl(r2.handle, VPC_OP_RTR_SET_NAT, encode('vpc_rtr_nat_t', { nat_id: nilId() }), 0));
    r2.routes.del({ destination: '0.0.0.0/0', internet: true });
  });
  test('DESTROY: a NAT attached to a router, a link a NAT uses: EBUSY', () => {
    refused('EBUSY', () => ctl(nat1.handle, VPC_OP_DESTROY, encode('vpc_txn_t', 0), 0));
    refused('EBUSY', () => ctl(link1.handle, VPC_OP_DESTROY, encode('vpc_txn_t', 0), 0));
  });
});

describe('the staged route replace (RTR_STAGE_BEGIN/APPEND/COMMIT/ABORT)', () => {
  const stageKey = (v: Partial<StructValues['vpc_rt_stage_t']>) =>
    encode('vpc_rt_stage_t', { txn: 0, nroutes: 0, token: 0, ...v } as StructValues['vpc_rt_stage_t']);
  const route = (destination: string, serial: number, edit: Partial<StructValues['vpc_rt_route_t']> = {}) =>
    encode('vpc_rt_route_t', { ...routeStruct({ destination, drop: true }), serial, ...edit });
  /* Refused, the kernel as it was, and the router's routes too (the snapshot has its generation only). */
  const refusedRtr = (want: string, call: () => CtlResult) => {
    const routes = rtr.routes.list();
    refused(want, call);
    assert.deepEqual(rtr.routes.list(), routes);
  };
  const begin = (h: number): number => {
    const val = Buffer.alloc(sizeOf('vpc_rt_stage_t'));
    const r = backend().ctl(h, VPC_OP_RTR_STAGE_BEGIN, stageKey({}), val);
    assert.equal(r.errno, 0);
    return decode('vpc_rt_stage_t', val).token;
  };

  test('each refusal: its errno, nothing changed; the stage goes with its handle', () => {
    refusedRtr('EINVAL', () => ctl(rtr.handle, VPC_OP_RTR_STAGE_BEGIN, stageKey({ token: 3 }), 16));
    refusedRtr('EINVAL', () => ctl(rtr.handle, VPC_OP_RTR_STAGE_BEGIN, stageKey({ nroutes: 1 }), 16));
    const other = Router.open(rtr.id);
    let token = 0;
    try {
      token = begin(other.handle);
      refusedRtr('EBUSY', () => ctl(rtr.handle, VPC_OP_RTR_STAGE_BEGIN, stageKey({}), 16));
      refusedRtr('EBUSY', () => ctl(other.handle, VPC_OP_RTR_STAGE_BEGIN, stageKey({}), 16));
      // Another handle's stage is not this handle's.
      refusedRtr('ENOENT', () => ctl(rtr.handle, VPC_OP_RTR_STAGE_APPEND, route('172.16.0.0/16', token), 16));
      refusedRtr('ENOENT', () => ctl(rtr.handle, VPC_OP_RTR_STAGE_COMMIT, stageKey({ token }), 0));
      refusedRtr('ENOENT', () => ctl(rtr.handle, VPC_OP_RTR_STAGE_ABORT, stageKey({ token }), 0));
      // Its own, with bad values.
      refusedRtr('ENOENT', () => ctl(other.handle, VPC_OP_RTR_STAGE_APPEND, route('172.16.0.0/16', token + 1), 16));
      refusedRtr('EINVAL', () => ctl(other.handle, VPC_OP_RTR_STAGE_APPEND, route('172.16.0.0/16', token, { prefixlen: 8 }), 16));
      refusedRtr('EINVAL', () => ctl(other.handle, VPC_OP_RTR_STAGE_APPEND, route('172.16.0.0/16', token, { txn: 1 }), 16));
      refusedRtr('EEXIST', () => ctl(other.handle, VPC_OP_RTR_STAGE_APPEND,
        Buffer.concat([route('172.16.0.0/16', token), route('172.16.0.0/16', 0)]), 16));
      refusedRtr('EINVAL', () => ctl(other.handle, VPC_OP_RTR_STAGE_COMMIT, stageKey({ token, nroutes: 1 }), 0));
      refusedRtr('ESTALE', () => ctl(other.handle, VPC_OP_RTR_STAGE_COMMIT, stageKey({ token, txn: 0x7fffff00 }), 0));
      refusedRtr('EINVAL', () => ctl(other.handle, VPC_OP_RTR_STAGE_ABORT, stageKey({ token, txn: 1 }), 0));
    } finally {
      other.close();
    }
    // Closed with its stage open: the stage went with it.
    refusedRtr('ENOENT', () => ctl(rtr.handle, VPC_OP_RTR_STAGE_COMMIT, stageKey({ token }), 0));
    const mine = begin(rtr.handle);
    assert.equal(ctl(rtr.handle, VPC_OP_RTR_STAGE_ABORT, stageKey({ token: mine }), 0).errno, 0);
  });

  test('routes.replace of more than one call holds goes through a stage; one bad route: refused, nothing changed', () => {
    const many = Array.from({ length: 2000 }, (_, i) => ({ destination: `100.64.${i >> 8}.${i & 255}/32`, drop: true as const }));
    assert.ok(many.length > ROUTES_PER_CALL);
    const before = snapshot();
    const routes = rtr.routes.list();
    const bad = [...many.slice(0, 1500), { destination: '10.9.0.0/16', nextHop: '10.77.0.5' }, ...many.slice(1500)];
    assert.throws(() => rtr.routes.replace(bad), (e: { code?: string }) => e.code === 'EADDRNOTAVAIL');
    assert.deepEqual(snapshot(), before, 'a refused staged replace changed the kernel');
    assert.deepEqual(rtr.routes.list(), routes);
    rtr.routes.replace(many);
    assert.equal(rtr.routes.list().filter((r) => r.class === 'custom').length, 2000);
    assert.equal(rtr.routes.lookup('100.64.7.207').destination, '100.64.7.207/32');
    rtr.routes.replace([]);
    assert.deepEqual(rtr.routes.list(), routes);
  });
});
