// SPDX-License-Identifier: BSD-2-Clause
/**
 * The FreeBSD kernel module (kmod/os/freebsd), checked three ways, each
 * when what it needs is at hand (otherwise it says plainly why it skipped):
 *  - FREEBSD_SRC: a FreeBSD 14 source tree.  vpc.ko is built here, on
 *    Linux, with the tree's own bsd.kmod.mk and the kernel's -Werror flags,
 *    and every symbol it needs must be one the kernel defines
 *    (kmod/tests/boot/compile-check.sh; KERNBUILDDIR and KERNEL_OBJ refine it).
 *  - KERNEL: a FreeBSD 14 amd64 kernel.  qemu boots it with our own tiny
 *    static init, which drives vpc.ko through the real syscalls, the vmnic
 *    ifnets, bpf, kernel UDP sockets (IPv4 and IPv6), /dev/vpc_upcall,
 *    guests attached as bhyve's netgraph backend attaches them, a VNET
 *    jail and a 32-bit process, then unloads it (kmod/tests/boot/
 *    boot-test.sh; SMP picks the CPU count).
 *  - Running on FreeBSD with vpc.ko loaded (the Vagrant VM): the seed's
 *    examples, refusals and the upcall device through the real syscalls,
 *    from TypeScript (src/ffi/freebsd.ts, src/ffi/upcall-device.ts).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { parse } from 'uuid';
import {
  backend, decode, encode, errnoName, sizeOf, useBackend, VPC_FLAG_CREATE, VPC_FLAG_OPEN,
  VPC_FLAG_SWP_DESCRIPTOR, VPC_FLAG_SWP_ROUTER, VPC_FLAG_SWP_UPLINK, VPC_FLAG_SWP_VLAN_ID,
  VPC_FLAG_SWP_VMNIC, VPC_FLAG_SWP_VNI, VPC_OP_GET_TXN, VPC_OP_NIC_GET_MAC, VPC_OP_NIC_SET_MAC,
  VPC_OP_SW_ADD_PORT, VPC_OP_SW_GET_PORT_COUNT, type Backend,
} from '../src/ffi/index.ts';
import { loadFreeBSDBackend } from '../src/ffi/freebsd.ts';
import { newId, Nic, Switch, withTxn } from '../src/vpc/index.ts';
import { root } from './helpers/paths.ts';

const scripts = join(root, 'kmod/tests/boot');
const src = process.env.FREEBSD_SRC;
const kernel = process.env.KERNEL;

test('vpc.ko builds warning-free with FreeBSD\'s bsd.kmod.mk, and the kernel resolves every symbol', (t) => {
  if (!src) {
    t.skip('FREEBSD_SRC is not set: no FreeBSD 14 source tree to build vpc.ko against');
    return;
  }
  const r = spawnSync(join(scripts, 'compile-check.sh'), { encoding: 'utf8', timeout: 15 * 60_000 });
  const out = `${r.stdout}\n${r.stderr}`;
  assert.equal(r.status, 0, out);
  assert.match(r.stdout, /vpc\.ko built: \d+ bytes, 0 warnings/);
  assert.match(r.stdout, /compile-check: PASS/);
  const undef = /(\d+) undefined symbols in vpc\.ko/.exec(r.stdout);
  t.diagnostic(`${undef?.[1] ?? '?'} undefined symbols, all resolved`);
});

test('vpc.ko under a real FreeBSD kernel in qemu: the boot test\'s init reports no failure', (t) => {
  if (!kernel) {
    t.skip('KERNEL is not set: no FreeBSD 14 amd64 kernel to boot under qemu');
    return;
  }
  const ko = process.env.VPC_KO ?? join(root, 'kmod/build/freebsd/vpc.ko');
  if (!existsSync(ko) && !src) {
    t.skip(`no ${ko} and no FREEBSD_SRC to build it with`);
    return;
  }
  const r = spawnSync(join(scripts, 'boot-test.sh'), { encoding: 'utf8', timeout: 15 * 60_000 });
  const out = `${r.stdout}\n${r.stderr}`;
  const result = /VPC-BOOT-RESULT pass=(\d+) fail=(\d+)/.exec(r.stdout);
  assert.ok(result, `no summary line:\n${out.split('\n').slice(-40).join('\n')}`);
  const failed = r.stdout.split('\n').filter((l) => l.startsWith('VPC-CHECK FAIL'));
  assert.deepEqual(failed, [], 'checks that failed');
  assert.equal(Number(result[2]), 0);
  assert.ok(Number(result[1]) >= 300, `only ${result[1]} checks ran`);
  assert.equal(r.status, 0, out.split('\n').slice(-40).join('\n'));
  t.diagnostic(result[0]);
});

/* ---- On FreeBSD, through the real syscalls ------------------------------------ */

function freebsdBackend(): Backend | string {
  if (process.platform !== 'freebsd') return `not running on FreeBSD (${process.platform})`;
  if ((process.env.VPC_BACKEND ?? 'freebsd') !== 'freebsd') return `VPC_BACKEND=${process.env.VPC_BACKEND}`;
  try {
    return loadFreeBSDBackend();
  } catch (e) {
    return (e as Error).message;
  }
}

describe('the real syscalls (FreeBSD, vpc.ko loaded)', () => {
  const b = freebsdBackend();
  const why = typeof b === 'string' ? b : undefined;
  if (typeof b !== 'string') useBackend(b);
  const word = (type: number) => 1 | (type << 8);
  const skip = (t: { skip(m: string): void }) => {
    if (why !== undefined) t.skip(why);
    return why !== undefined;
  };

  test('seed example 1, raw ABI', (t) => {
    if (skip(t)) return;
    const nicd = backend().open(parse(newId()), word(1), VPC_FLAG_CREATE);
    assert.ok(nicd >= 0, `vpc_open: ${errnoName(-nicd)}`);
    const txnBuf = Buffer.alloc(sizeOf('vpc_txn_t'));
    assert.equal(backend().ctl(nicd, VPC_OP_GET_TXN, null, txnBuf).errno, 0);
    const txn = txnBuf.readInt32LE(0);
    const key = encode('vpc_vmnic_t', { txn, mac: [0x02, 0, 0, 0, 0, 0x01] });
    assert.equal(backend().ctl(nicd, VPC_OP_NIC_SET_MAC, key, null).errno, 0);
    const out = Buffer.alloc(sizeOf('vpc_vmnic_t'));
    assert.equal(backend().ctl(nicd, VPC_OP_NIC_GET_MAC, null, out).errno, 0);
    assert.deepEqual(decode('vpc_vmnic_t', out).mac, [2, 0, 0, 0, 0, 1]);
    assert.equal(backend().close(nicd), 0);
  });

  test('seed example 2, raw ABI: the retry loop, with a descriptor back', (t) => {
    if (skip(t)) return;
    const swd = backend().open(parse(newId()), word(2), VPC_FLAG_CREATE);
    assert.ok(swd >= 0);
    let vmnicd = -1;
    for (let tries = 0; vmnicd < 0 && tries < 10; tries++) {
      const txnBuf = Buffer.alloc(4);
      assert.equal(backend().ctl(swd, VPC_OP_GET_TXN, null, txnBuf).errno, 0);
      const txn = txnBuf.readInt32LE(0);
      const count = Buffer.alloc(sizeOf('vpc_switch_t'));
      if (backend().ctl(swd, VPC_OP_SW_GET_PORT_COUNT, null, count).errno !== 0) continue;
      const res = Buffer.alloc(sizeOf('vpc_swport_t'));
      if (decode('vpc_switch_t', count).num_ports === 0) {
        if (backend().ctl(swd, VPC_OP_SW_ADD_PORT, encode('vpc_swport_t', { txn, flags: VPC_FLAG_SWP_UPLINK }), res).errno) continue;
        if (backend().ctl(swd, VPC_OP_SW_ADD_PORT, encode('vpc_swport_t', { txn, flags: VPC_FLAG_SWP_ROUTER }), res).errno) continue;
      }
      const req = encode('vpc_swport_t', {
        txn, vlan_id: 123, vni: 456,
        flags: VPC_FLAG_SWP_VMNIC | VPC_FLAG_SWP_VLAN_ID | VPC_FLAG_SWP_VNI | VPC_FLAG_SWP_DESCRIPTOR,
      });
      if (backend().ctl(swd, VPC_OP_SW_ADD_PORT, req, res).errno !== 0) continue;
      vmnicd = decode('vpc_swport_t', res).descriptor;
    }
    assert.ok(vmnicd >= 0, 'a descriptor came back');
    const mac = Buffer.alloc(sizeOf('vpc_vmnic_t'));
    assert.equal(backend().ctl(vmnicd, VPC_OP_NIC_GET_MAC, null, mac).errno, 0);
    backend().close(vmnicd);
    backend().close(swd);
  });

  test('the typed API over the syscalls, and the errnos of refusals', (t) => {
    if (skip(t)) return;
    const nic = Nic.create(newId(), { mac: '02:00:00:00:00:10' });
    const sw = Switch.create(newId());
    const port = withTxn(sw, (txn) => sw.addPort({ kind: 'vmnic', vlan: 123, vni: 456, descriptor: true }, { txn }));
    assert.ok(port.nic);
    port.nic.setMac('02:00:00:00:00:11');
    assert.equal(sw.port(port.id).mac, '02:00:00:00:00:11');
    const res = Buffer.alloc(sizeOf('vpc_swport_t'));
    const ctl = (h: number, op: number, key: Buffer | null, val: Buffer | null) => errnoName(backend().ctl(h, op, key, val).errno);
    assert.equal(ctl(nic.handle, VPC_OP_SW_GET_PORT_COUNT, null, Buffer.alloc(sizeOf('vpc_switch_t'))), 'ENOTTY');
    const uplink = encode('vpc_swport_t', { flags: VPC_FLAG_SWP_UPLINK });
    assert.equal(backend().ctl(sw.handle, VPC_OP_SW_ADD_PORT, uplink, res).errno, 0);
    assert.equal(ctl(sw.handle, VPC_OP_SW_ADD_PORT, uplink, res), 'EEXIST', 'a second uplink');
    assert.equal(ctl(2, VPC_OP_GET_TXN, null, Buffer.alloc(4)), 'EBADF', 'stderr is no handle');
    assert.equal(errnoName(-backend().open(parse(nic.id), word(1), VPC_FLAG_CREATE)), 'EEXIST');
    assert.equal(errnoName(-backend().open(parse(newId()), word(1), VPC_FLAG_OPEN)), 'ENOENT');
    assert.equal(errnoName(-backend().open(parse(newId()), 1, VPC_FLAG_CREATE)), 'EINVAL');
    port.nic.close();
    sw.close();
    nic.close();
  });

  test('/dev/vpc_upcall: one reader at a time, through the worker thread', async (t) => {
    if (skip(t)) return;
    const first = await backend().openUpcalls();
    await assert.rejects(backend().openUpcalls(), (e: Error & { code?: string }) => e.code === 'EBUSY');
    first.close();
    // The worker closes the device when it sees the flag; then it is free.
    let again;
    for (let i = 0; i < 600 && again === undefined; i++) {   // up to 60 s: a deadline, not a speed
      again = await backend().openUpcalls().catch(() => undefined);
      if (again === undefined) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(again, 'a new reader after the first went away');
    again.close();
  });
});
