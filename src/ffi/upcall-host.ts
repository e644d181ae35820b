// SPDX-License-Identifier: BSD-2-Clause
/**
 * The host kernel's upcall channel: a SOCK_STREAM Unix socket read through
 * net.Socket, so the event loop never blocks on it.  The daemon first sends
 * a vpc_upcall_hello_t (EBUSY when another reader is attached), then whole
 * records as requests become pending.  Through libvpc's relay (host.ts,
 * relay.open) the same hello comes first, then the relay's messages.
 */
import { createRequire } from 'node:module';
import type * as Net from 'node:net';
import { dirname, join } from 'node:path';
import { abiErrnoName } from './errno.ts';
import { decode, sizeOf } from './structs.ts';
import { hostSocketPath } from './host.ts';
import { RecordBatcher, RelayBatcher, UpcallChannelError, type UpcallChannel } from './upcall-channel.ts';
import { VPC_EBUSY, VPC_UPCALL_MAGIC } from './abi.generated.ts';

/** $VPC_UPCALL_SOCKET, else upcall.sock beside the daemon's socket. */
export function hostUpcallPath(): string {
  return process.env.VPC_UPCALL_SOCKET || join(dirname(hostSocketPath()), 'upcall.sock');
}

export function openHostUpcalls(path = hostUpcallPath()): Promise<UpcallChannel> {
  return openUpcallSocket(path);
}

/**
 * The channel on the daemon's socket at path, or (fd) on the relay's end of
 * a socketpair, which passes the hello on and then frames its batches.
 */
export function openUpcallSocket(path: string, fd?: number): Promise<UpcallChannel> {
  const helloSize = sizeOf('vpc_upcall_hello_t');
  const recordSize = sizeOf('vpc_upcall_req_t');
  // node:net is loaded by the reader only, not by every vpcctl command.
  const net = createRequire(import.meta.url)('node:net') as typeof Net;
  return new Promise((resolve, reject) => {
    const batcher = fd === undefined ? new RecordBatcher(recordSize) : new RelayBatcher(recordSize);
    let hello: Buffer | null = Buffer.alloc(0);
    // Read into one buffer, handed straight to onData: no stream machinery
    // (push, a chunk allocated per read, an event) between the read and the
    // batch, which a lone miss pays for with cold caches.  What is kept past
    // the call is copied (the batcher, the hello).
    const onread = {
      buffer: Buffer.alloc(64 * 1024),
      callback: (n: number, buf: Uint8Array) => {
        onData(Buffer.from(buf.buffer, buf.byteOffset, n));
        return true;
      },
    };
    const sock = fd === undefined
      ? net.createConnection({ path, onread })
      : new net.Socket({ fd, readable: true, writable: false, onread } as Net.SocketConstructorOpts & Net.ConnectOpts);
    const channel: UpcallChannel = {
      recordSize,
      next: () => batcher.next(),
      listen: (onBatch) => batcher.listen(onBatch),
      close: () => sock.destroy(),
    };
    sock.on('error', (e: NodeJS.ErrnoException) => {
      if (hello !== null) {
        reject(new UpcallChannelError(e.code ?? 'EIO', `upcall socket ${path}: ${e.message}`));
      }
      batcher.end();
    });
    sock.on('close', () => {
      if (hello !== null) reject(new UpcallChannelError('ECONNRESET', `upcall socket ${path} closed before its hello`));
      batcher.end();
    });
    function onData(chunk: Buffer): void {
      if (hello === null) {
        batcher.push(chunk);
        return;
      }
      hello = Buffer.concat([hello, chunk]);
      if (hello.length < helloSize) return;
      const h = decode('vpc_upcall_hello_t', hello);
      const rest = hello.subarray(helloSize);
      hello = null;
      if (h.magic !== VPC_UPCALL_MAGIC || h.req_size !== recordSize) {
        sock.destroy();
        reject(new UpcallChannelError('EPROTO', `upcall socket ${path}: not a vpc upcall channel of this ABI`));
        return;
      }
      if (h.error !== 0) {
        sock.destroy();
        const code = abiErrnoName(h.error);
        const why = h.error === VPC_EBUSY ? 'another reader is attached' : code === 'EMFILE' ? 'vpc-hostd is out of descriptors' : 'refused';
        reject(new UpcallChannelError(code, `upcall socket ${path}: ${why}`));
        return;
      }
      resolve(channel);
      if (rest.length > 0) batcher.push(Buffer.from(rest));
    }
  });
}
