// SPDX-License-Identifier: BSD-2-Clause
/**
 * The seed's two examples (shared/seed-vpc-architecture.md), run from
 * TypeScript through koffi into vpc-hostd: once with the raw ABI exactly as
 * the seed writes it (prototype argument order), once with the typed API.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  backend, decode, encode, sizeOf, VPC_FLAG_CREATE, VPC_FLAG_SWP_DESCRIPTOR, VPC_FLAG_SWP_ROUTER,
  VPC_FLAG_SWP_UPLINK, VPC_FLAG_SWP_VLAN_ID, VPC_FLAG_SWP_VMNIC, VPC_FLAG_SWP_VNI, VPC_OP_GET_TXN,
  VPC_OP_NIC_GET_MAC, VPC_OP_NIC_SET_MAC, VPC_OP_SW_ADD_PORT, VPC_OP_SW_GET_PORT_COUNT,
} from '../src/ffi/index.ts';
import { newId, Nic, Switch, withTxn } from '../src/vpc/index.ts';
import { startKernel, type Kernel } from './helpers/hostd.ts';
import { parse } from 'uuid';

let kernel: Kernel;
before(async () => { kernel = await startKernel(); });
after(async () => { await kernel.stop(); });

const word = (type: number) => 1 | (type << 8);

test('seed example 1, raw ABI: create a vmnic, GET_TXN, NIC_SET_MAC', () => {
  const b = backend();
  const nicd = b.open(parse(newId()), word(1), VPC_FLAG_CREATE);
  assert.ok(nicd >= 0, `vpc_open: errno ${-nicd}`);

  const txnBuf = Buffer.alloc(sizeOf('vpc_txn_t'));
  let r = b.ctl(nicd, VPC_OP_GET_TXN, null, txnBuf);
  assert.equal(r.errno, 0);
  const txn = txnBuf.readInt32LE(0);
  assert.ok(txn > 0);

  const nicMac = encode('vpc_vmnic_t', { txn, mac: [0x02, 0, 0, 0, 0, 0x01] });
  r = b.ctl(nicd, VPC_OP_NIC_SET_MAC, nicMac, null);
  assert.equal(r.errno, 0);

  const out = Buffer.alloc(sizeOf('vpc_vmnic_t'));
  assert.equal(b.ctl(nicd, VPC_OP_NIC_GET_MAC, null, out).errno, 0);
  assert.deepEqual(decode('vpc_vmnic_t', out).mac, [2, 0, 0, 0, 0, 1]);
  assert.equal(b.close(nicd), 0);
});

test('seed example 2, raw ABI: the retry loop adds uplink, router and a vmnic port with a descriptor', () => {
  const b = backend();
  const swd = b.open(parse(newId()), word(2), VPC_FLAG_CREATE);
  assert.ok(swd >= 0);
  let vmnicd = -1;
  let retry = true;
  while (retry) {
    const txnBuf = Buffer.alloc(4);
    assert.equal(b.ctl(swd, VPC_OP_GET_TXN, null, txnBuf).errno, 0);
    const txn = txnBuf.readInt32LE(0);

    const sw = Buffer.alloc(sizeOf('vpc_switch_t'));
    if (b.ctl(swd, VPC_OP_SW_GET_PORT_COUNT, null, sw).errno !== 0) continue;
    if (decode('vpc_switch_t', sw).num_ports === 0) {
      const res = Buffer.alloc(sizeOf('vpc_swport_t'));
      if (b.ctl(swd, VPC_OP_SW_ADD_PORT, encode('vpc_swport_t', { txn, flags: VPC_FLAG_SWP_UPLINK }), res).errno) continue;
      if (b.ctl(swd, VPC_OP_SW_ADD_PORT, encode('vpc_swport_t', { txn, flags: VPC_FLAG_SWP_ROUTER }), res).errno) continue;
    }
    const req = encode('vpc_swport_t', {
      txn, vlan_id: 123, vni: 456,
      flags: VPC_FLAG_SWP_VMNIC | VPC_FLAG_SWP_VLAN_ID | VPC_FLAG_SWP_VNI | VPC_FLAG_SWP_DESCRIPTOR,
    });
    const res = Buffer.alloc(sizeOf('vpc_swport_t'));
    const r = b.ctl(swd, VPC_OP_SW_ADD_PORT, req, res);
    if (r.errno !== 0) continue;
    const port = decode('vpc_swport_t', res);
    if ((port.flags & VPC_FLAG_SWP_DESCRIPTOR) !== 0) vmnicd = port.descriptor;
    retry = false;
  }
  assert.ok(vmnicd >= 0, 'the vmnic port came back with a descriptor');
  const mac = Buffer.alloc(sizeOf('vpc_vmnic_t'));
  assert.equal(b.ctl(vmnicd, VPC_OP_NIC_GET_MAC, null, mac).errno, 0, 'the descriptor is a live vmnic handle');
  const count = Buffer.alloc(sizeOf('vpc_switch_t'));
  assert.equal(b.ctl(swd, VPC_OP_SW_GET_PORT_COUNT, null, count).errno, 0);
  assert.equal(decode('vpc_switch_t', count).num_ports, 3);
  assert.equal(decode('vpc_switch_t', count).vni, 456);
  b.close(vmnicd);
  b.close(swd);
});

test('seed examples with the typed API', () => {
  const nic = Nic.create(newId());
  withTxn(nic, (txn) => nic.setMac('02:00:00:00:00:10', { txn }));
  assert.equal(nic.mac(), '02:00:00:00:00:10');

  const sw = Switch.create(newId());
  const port = withTxn(sw, (txn) => {
    if (sw.portCount().ports === 0) {
      sw.addPort({ kind: 'uplink' }, { txn });
      sw.addPort({ kind: 'router' }, { txn });
    }
    return sw.addPort({ kind: 'vmnic', vlan: 123, vni: 456, descriptor: true }, { txn });
  });
  assert.equal(port.kind, 'vmnic');
  assert.equal(port.vlan, 123);
  assert.equal(port.vni, 456);
  assert.ok(port.nic, 'a vmnic handle came back');
  port.nic.setMac('02:00:00:00:00:11');
  assert.equal(sw.port(port.id).mac, '02:00:00:00:00:11');
  assert.deepEqual(sw.portCount(), { ports: 3, vni: 456, hasUplink: true, hasRouter: true });
  assert.deepEqual(sw.ports().map((p) => p.kind), ['uplink', 'router', 'vmnic']);
  port.nic.close();
  sw.close();
  nic.close();
});
