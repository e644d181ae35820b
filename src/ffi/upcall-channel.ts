// SPDX-License-Identifier: BSD-2-Clause
/**
 * The upcall channel as TypeScript sees it, whatever carries it: batches of
 * whole vpc_upcall_req_t records.  The host kernel's is a stream socket
 * (upcall-host.ts); FreeBSD's a character device read in a worker thread.
 */
export interface UpcallChannel {
  /** The next batch of whole records (n * recordSize bytes), or null once closed. */
  next(): Promise<Buffer | null>;
  /**
   * Hand every batch to onBatch as it arrives, in the same turn of the event
   * loop (no promise per batch: a lone miss is answered sooner); resolves
   * once the channel closes.  The batch is only valid during the call.
   * Either this or next(), not both.
   */
  listen(onBatch: (records: Buffer) => void): Promise<void>;
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

const NOTHING = Buffer.alloc(0);

/**
 * Turns a byte stream into batches of whole records: what arrives is
 * appended, whole records are handed out, a partial one waits for the rest.
 */
export class RecordBatcher {
  #pending: Buffer = NOTHING;
  #batches: Buffer[] = [];
  #waiters: Array<(b: Buffer | null) => void> = [];
  #closed = false;
  #sink: ((records: Buffer) => void) | undefined;
  #ended: Array<() => void> = [];

  constructor(readonly recordSize: number) {}

  push(chunk: Buffer): void {
    const all = this.#pending.length > 0 ? Buffer.concat([this.#pending, chunk]) : chunk;
    const whole = all.length - (all.length % this.recordSize);
    this.#pending = whole === all.length ? NOTHING : Buffer.from(all.subarray(whole));
    if (whole === 0) return;
    if (this.#sink !== undefined) {
      // Read during the call, so no copy: the usual chunk is whole records.
      this.#sink(whole === all.length ? all : all.subarray(0, whole));
      return;
    }
    // Queued: a copy, so a small batch does not hold a large read buffer.
    const batch = Buffer.from(all.subarray(0, whole));
    const w = this.#waiters.shift();
    if (w) w(batch);
    else this.#batches.push(batch);
  }

  end(): void {
    this.#closed = true;
    for (const w of this.#waiters.splice(0)) w(null);
    for (const e of this.#ended.splice(0)) e();
  }

  listen(onBatch: (records: Buffer) => void): Promise<void> {
    if (this.#sink !== undefined || this.#waiters.length > 0) throw new Error('upcall channel: one consumer at a time (listen or next)');
    this.#sink = onBatch;
    for (const b of this.#batches.splice(0)) onBatch(b);
    if (this.#closed) return Promise.resolve();
    return new Promise((resolve) => this.#ended.push(resolve));
  }

  next(): Promise<Buffer | null> {
    if (this.#sink !== undefined) throw new Error('upcall channel: one consumer at a time (listen or next)');
    const b = this.#batches.shift();
    if (b) return Promise.resolve(b);
    if (this.#closed) return Promise.resolve(null);
    return new Promise((resolve) => this.#waiters.push(resolve));
  }
}
