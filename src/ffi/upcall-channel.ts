// SPDX-License-Identifier: BSD-2-Clause
/**
 * The upcall channel as TypeScript sees it, whatever carries it: batches of
 * whole vpc_upcall_req_t records.  The host kernel's is a stream socket
 * (upcall-host.ts); FreeBSD's a character device read in a worker thread.
 */
export interface UpcallChannel {
  /** The next batch of whole records (n * recordSize bytes), or null once closed. */
  next(): Promise<Buffer | null>;
  /** Stop reading; pending requests go back to the kernel's queue. */
  close(): void;
  readonly recordSize: number;
}

export class UpcallChannelError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
    this.name = 'UpcallChannelError';
  }
}

/**
 * Turns a byte stream into batches of whole records: what arrives is
 * appended, whole records are handed out, a partial one waits for the rest.
 */
export class RecordBatcher {
  #pending: Buffer = Buffer.alloc(0);
  #batches: Buffer[] = [];
  #waiters: Array<(b: Buffer | null) => void> = [];
  #closed = false;

  constructor(readonly recordSize: number) {}

  push(chunk: Buffer): void {
    const all = this.#pending.length > 0 ? Buffer.concat([this.#pending, chunk]) : chunk;
    const whole = all.length - (all.length % this.recordSize);
    this.#pending = Buffer.from(all.subarray(whole));
    if (whole === 0) return;
    const batch = Buffer.from(all.subarray(0, whole));
    const w = this.#waiters.shift();
    if (w) w(batch);
    else this.#batches.push(batch);
  }

  end(): void {
    this.#closed = true;
    for (const w of this.#waiters.splice(0)) w(null);
  }

  next(): Promise<Buffer | null> {
    const b = this.#batches.shift();
    if (b) return Promise.resolve(b);
    if (this.#closed) return Promise.resolve(null);
    return new Promise((resolve) => this.#waiters.push(resolve));
  }
}
