// SPDX-License-Identifier: BSD-2-Clause
/**
 * The worker behind upcall-device.ts (FreeBSD only): open the device
 * non-blocking, poll it together with a wake pipe, read whole records until
 * EWOULDBLOCK, post each batch.  Closing the device is what tells the module
 * the reader went away (its pending requests go to the next reader).
 */
import { parentPort, workerData } from 'node:worker_threads';
import koffi from 'koffi';
import { FREEBSD, VPC_EBUSY } from './abi.generated.ts';
import { freebsdTypes } from './structs.generated.ts';

const { path, recordSize, stop } = workerData as { path: string; recordSize: number; stop: Int32Array };
/* FreeBSD's own constants and struct pollfd: kmod/include/freebsd_layouts.h. */
const { O_RDONLY, O_NONBLOCK, O_CLOEXEC, POLLIN, EINTR } = FREEBSD;
/* FreeBSD's errno numbers are the ABI's own (vpc.h). */
const EBUSY = VPC_EBUSY;
const POLLFD = koffi.sizeof(freebsdTypes.pollfd);
const PFD_FD = koffi.offsetof(freebsdTypes.pollfd, 'fd');
const PFD_EVENTS = koffi.offsetof(freebsdTypes.pollfd, 'events');
const PFD_REVENTS = koffi.offsetof(freebsdTypes.pollfd, 'revents');

const libc = koffi.load('libc.so.7');
const cOpen = libc.func('int open(const char *path, int flags, ...)');
const cRead = libc.func('intptr_t read(int fd, _Out_ uint8_t *buf, size_t n)');
const cClose = libc.func('int close(int fd)');
const cPipe2 = libc.func('int pipe2(_Out_ int *fds, int flags)');
const cPoll = libc.func('int poll(_Inout_ uint8_t *fds, uint32_t nfds, int timeout)');

const port = parentPort!;
const fd = cOpen(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC) as number;
if (fd < 0) {
  const e = koffi.errno();
  port.postMessage({ kind: 'error', code: e === EBUSY ? 'EBUSY' : `E#${e}`,
    message: e === EBUSY ? 'another reader is attached' : `open failed (errno ${e}); is the vpc module loaded?` });
  process.exit(0);
}
const pipeFds = new Int32Array(2);
if ((cPipe2(pipeFds, O_CLOEXEC | O_NONBLOCK) as number) < 0) {
  port.postMessage({ kind: 'error', code: `E#${koffi.errno()}`, message: 'pipe2 failed' });
  process.exit(0);
}
const [wakeRead, wakeWrite] = [pipeFds[0]!, pipeFds[1]!];
port.postMessage({ kind: 'ready', wakeFd: wakeWrite });

// struct pollfd[2]: the device, the wake pipe.
const pfds = Buffer.alloc(2 * POLLFD);
const batchBytes = recordSize * 256;

function loop(): void {
  for (;;) {
    for (const [i, f] of [fd, wakeRead].entries()) {
      pfds.writeInt32LE(f, i * POLLFD + PFD_FD);
      pfds.writeInt16LE(POLLIN, i * POLLFD + PFD_EVENTS);
      pfds.writeInt16LE(0, i * POLLFD + PFD_REVENTS);
    }
    const n = cPoll(pfds, 2, -1) as number;
    if (Atomics.load(stop, 0) !== 0 || (n < 0 && koffi.errno() !== EINTR)) break;
    if (n <= 0 || (pfds.readInt16LE(PFD_REVENTS) & POLLIN) === 0) continue;
    for (;;) {
      const buf = Buffer.alloc(batchBytes);
      const got = cRead(fd, buf, batchBytes) as number;
      if (got <= 0) break;                  /* EWOULDBLOCK: drained */
      const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + got);
      port.postMessage({ kind: 'batch', data: ab }, [ab]);
    }
  }
  cClose(fd);
  cClose(wakeRead);
  cClose(wakeWrite);
  port.postMessage({ kind: 'closed' });
}
loop();
