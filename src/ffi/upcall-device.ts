// SPDX-License-Identifier: BSD-2-Clause
/**
 * FreeBSD's upcall channel: the module's character device.  Never read on
 * the main thread: an fs.read on a character device would hold one of
 * libuv's few threadpool threads (starving fs, dns and the etcd client), and
 * net.Socket refuses character devices.  A worker thread polls the device and
 * a wake pipe, reads whole records in batches without blocking, and posts
 * each batch (its ArrayBuffer transferred, not copied) to this thread.
 */
import { createRequire } from 'node:module';
import type * as WorkerThreads from 'node:worker_threads';
import koffi from 'koffi';
import { RecordBatcher, UpcallChannelError, type UpcallChannel } from './upcall-channel.ts';
import { sizeOf } from './structs.ts';

export const UPCALL_DEVICE = process.env.VPC_UPCALL_DEVICE ?? '/dev/vpc_upcall';

type FromWorker =
  | { kind: 'ready'; wakeFd: number }
  | { kind: 'batch'; data: ArrayBuffer }
  | { kind: 'error'; code: string; message: string }
  | { kind: 'closed' };

export function openDeviceUpcalls(path = UPCALL_DEVICE): Promise<UpcallChannel> {
  const recordSize = sizeOf('vpc_upcall_req_t');
  const stop = new Int32Array(new SharedArrayBuffer(4));
  // node:worker_threads is loaded by the reader only, not by every vpcctl
  // command.  The worker is beside this module: the source (.ts, through
  // tsx) or the build (.js, dist/cli).
  const { Worker } = createRequire(import.meta.url)('node:worker_threads') as typeof WorkerThreads;
  const worker = new Worker(new URL(import.meta.url.endsWith('.ts') ? './upcall-device-worker.ts' : './upcall-device-worker.js', import.meta.url), {
    workerData: { path, recordSize, stop },
  });
  const cWrite = koffi.load('libc.so.7').func('intptr_t write(int fd, const uint8_t *buf, size_t n)');
  const batcher = new RecordBatcher(recordSize);
  let wakeFd = -1;
  return new Promise((resolve, reject) => {
    worker.on('message', (m: FromWorker) => {
      if (m.kind === 'ready') {
        wakeFd = m.wakeFd;
        resolve({
          recordSize,
          next: () => batcher.next(),
          listen: (onBatch) => batcher.listen(onBatch),
          // The worker sits in poll(2): raise the flag, then wake it.
          close: () => {
            Atomics.store(stop, 0, 1);
            cWrite(wakeFd, Buffer.from([1]), 1);
          },
        });
      } else if (m.kind === 'batch') {
        batcher.push(Buffer.from(m.data));
      } else if (m.kind === 'error') {
        reject(new UpcallChannelError(m.code, `${path}: ${m.message}`));
        batcher.end();
      } else {
        batcher.end();
      }
    });
    worker.on('error', (e) => {
      reject(e);
      batcher.end();
    });
    worker.on('exit', () => batcher.end());
    worker.unref();
  });
}
