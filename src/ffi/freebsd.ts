// SPDX-License-Identifier: BSD-2-Clause
/**
 * The FreeBSD backend: the module's two syscalls, called through libc's
 * syscall(2) with the slot numbers the kernel gave them at load time.
 * SYSCALL_MODULE registers each as module "sys/<name>"; modstat() reports its
 * slot in data.intval.  Slots are dynamic and shared with other modules, so
 * they are looked up, never hard-coded.
 */
import koffi from 'koffi';
import type { Backend, CtlResult } from './backend.ts';
import { freebsdTypes } from './structs.generated.ts';
import { openDeviceUpcalls } from './upcall-device.ts';

/** struct module_stat of <sys/module.h>, from kmod/include/freebsd_layouts.h. */
const MODULE_STAT_SIZE = koffi.sizeof(freebsdTypes.module_stat);
const MODULE_STAT_VERSION = koffi.offsetof(freebsdTypes.module_stat, 'version');
/** data.intval, where SYSCALL_MODULE puts the syscall's slot (data is a union: intval is at its start). */
const MODULE_STAT_SLOT = koffi.offsetof(freebsdTypes.module_stat, 'data');

export function loadFreeBSDBackend(): Backend {
  const libc = koffi.load('libc.so.7');
  const modfind = libc.func('int modfind(const char *name)');
  const modstat = libc.func('int modstat(int modid, _Inout_ uint8_t *stat)');
  const syscall = libc.func('int syscall(int number, ...)');
  const cClose = libc.func('int close(int fd)');

  const slot = (name: string): number => {
    const id = modfind(`sys/${name}`) as number;
    if (id < 0) {
      throw new Error(`the vpc kernel module is not loaded (modfind sys/${name}: errno ${koffi.errno()}): kldload vpc`);
    }
    const st = Buffer.alloc(MODULE_STAT_SIZE);
    st.writeInt32LE(MODULE_STAT_SIZE, MODULE_STAT_VERSION);
    if ((modstat(id, st) as number) < 0) throw new Error(`modstat sys/${name}: errno ${koffi.errno()}`);
    return st.readInt32LE(MODULE_STAT_SLOT);
  };
  const openNo = slot('vpc_open');
  const ctlNo = slot('vpc_ctl');
  const vallen = new BigUint64Array(1);

  return {
    kind: 'freebsd',
    where: `syscalls ${openNo}/${ctlNo}`,
    open(id, typeWord, flags) {
      const h = syscall(openNo, 'uint8_t *', id, 'uint64_t', BigInt(typeWord), 'uint64_t', BigInt(flags)) as number;
      return h >= 0 ? h : -koffi.errno();
    },
    ctl(handle, op, key, val): CtlResult {
      vallen[0] = BigInt(val?.byteLength ?? 0);
      const rc = syscall(ctlNo, 'int32_t', handle, 'uint32_t', op, 'size_t', key?.byteLength ?? 0,
        'uint8_t *', key, 'uint64_t *', vallen, 'uint8_t *', val) as number;
      return { errno: rc === 0 ? 0 : koffi.errno(), vallen: Number(vallen[0]) };
    },
    close(handle) {
      return cClose(handle) === 0 ? 0 : koffi.errno();
    },
    openUpcalls: () => openDeviceUpcalls(),
  };
}
