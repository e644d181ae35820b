// SPDX-License-Identifier: BSD-2-Clause
/**
 * The host-kernel backend: libvpc.so (kmod/os/host/libvpc.c) exports the
 * FreeBSD prototypes of vpc_open and vpc_ctl and talks to vpc-hostd.
 */
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import koffi from 'koffi';
import type { Backend, CtlResult, UpcallRelay } from './backend.ts';
import { LITTLE_ENDIAN } from './bytes.ts';
import { errnoName } from './errno.ts';
import { UpcallChannelError } from './upcall-channel.ts';
import { hostUpcallPath, openHostUpcalls, openUpcallSocket } from './upcall-host.ts';

const here = dirname(fileURLToPath(import.meta.url));

/** $VPC_LIBVPC, else the one `npm install` built in kmod/build. */
export function libvpcPath(): string {
  return process.env.VPC_LIBVPC ?? resolve(here, '../../kmod/build/libvpc.so');
}

/**
 * Where libvpc will look for the daemon: vpc_wire_default_path() of
 * kmod/os/host/host_proto.c, which is the definition (test/abi.test.ts
 * checks that the two agree, the effective uid included).
 */
export function hostSocketPath(): string {
  const env = process.env.VPC_HOSTD_SOCKET;
  if (env) return env;
  const uid = process.geteuid?.() ?? 0;
  if (uid === 0) return '/run/vpc/hostd.sock';
  const xdg = process.env.XDG_RUNTIME_DIR;
  return xdg?.startsWith('/') ? `${xdg}/vpc/hostd.sock` : `/tmp/vpc-${uid}/hostd.sock`;
}

export function loadHostBackend(): Backend {
  const path = libvpcPath();
  if (!existsSync(path)) {
    throw new Error(`libvpc not found at ${path}: run \`npm install\` (or \`make -C kmod\`), or set VPC_LIBVPC`);
  }
  const lib = koffi.load(path);
  const libc = koffi.load('libc.so.6');
  const vpcOpen = lib.func('int32_t vpc_open(const uint8_t *id, uint64_t type, uint64_t flags)');
  const vpcCtl = lib.func('int vpc_ctl(int32_t h, uint32_t op, size_t keylen, const uint8_t *key, uint64_t *vallen, uint8_t *buf)');
  const cClose = libc.func('int close(int fd)');
  /*
   * *vallen, read and written as two 32-bit halves: a BigUint64Array would
   * make a bigint each way on every call, for a length that is never near
   * 2^53.  koffi passes the array's memory as the uint64_t * itself.
   */
  const vallen = new Uint32Array(2);
  const [lo, hi] = LITTLE_ENDIAN ? [0, 1] : [1, 0];

  // Bound when the agent first asks: no vpcctl command pays for it.
  let relay: UpcallRelay | undefined | null = null;
  return {
    get relay() {
      if (relay === null) relay = loadRelay(lib);
      return relay;
    },
    kind: 'host',
    where: hostSocketPath(),
    open(id, typeWord, flags) {
      // koffi takes a number for a uint64_t (the type word and flags are well under 2^53).
      const h = vpcOpen(id, typeWord, flags) as number;
      return h >= 0 ? h : -koffi.errno();
    },
    ctl(handle, op, key, val): CtlResult {
      vallen[lo] = val?.byteLength ?? 0;
      vallen[hi] = 0;
      const rc = vpcCtl(handle, op, key?.byteLength ?? 0, key, vallen, val) as number;
      return { errno: rc === 0 ? 0 : koffi.errno(), vallen: vallen[hi]! * 4294967296 + vallen[lo]! };
    },
    close(handle) {
      return cClose(handle) === 0 ? 0 : koffi.errno();
    },
    openUpcalls: () => openHostUpcalls(),
  };
}

/** libvpc's upcall relay (libvpc_relay.c); undefined from a libvpc without it. */
function loadRelay(lib: koffi.IKoffiLib): UpcallRelay | undefined {
  let start, update, load, pause;
  try {
    start = lib.func('int vpc_relay_start(const char *path, uint32_t ttl_ms)');
    update = lib.func('int vpc_relay_update(const uint8_t *e, size_t n)');
    load = lib.func('int vpc_relay_load(const uint32_t *words, size_t n, size_t stride, const uint8_t *vteps, size_t nvteps, const double *revs, uint64_t revision)');
    pause = lib.func('void vpc_relay_pause(int paused)');
  } catch {
    return undefined;
  }
  return {
    open(ttlMs) {
      const path = hostUpcallPath();
      const fd = start(path, ttlMs) as number;
      if (fd < 0) {
        const code = errnoName(koffi.errno());
        return Promise.reject(new UpcallChannelError(code, `upcall socket ${path}: ${code}`));
      }
      return openUpcallSocket(path, fd);
    },
    update: (entries, n) => ((update(entries, n) as number) === 0 ? 0 : koffi.errno()),
    load: (words, n, stride, vteps, nvteps, revs, revision) =>
      ((load(words, n, stride, vteps, nvteps, revs, revision) as number) === 0 ? 0 : koffi.errno()),
    pause: (paused) => { pause(paused ? 1 : 0); },
  };
}
