// SPDX-License-Identifier: BSD-2-Clause
import { VPC_RELAY_MAGIC } from './abi.generated.ts';
import { LITTLE_ENDIAN } from './bytes.ts';

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
   * Either this or next(), not both.  Through the relay (UpcallRelay), a
   * batch's leading records may have been answered already: ahead says
   * how many and what SYS_UPCALL_ANSWER said of each.
   */
  listen(onBatch: (records: Buffer, ahead?: AnsweredAhead) => void): Promise<void>;
  /** Stop reading; pending requests go back to the kernel's queue. */
  close(): void;
  readonly recordSize: number;
}

/** The leading records of a batch the relay answered. */
export interface AnsweredAhead {
  count: number;
  /** count int32 in the host's byte order: 0, or the ABI errno of a refusal. */
  results: Buffer;
  /** Monotonic ns (the clock of a record's time_ns) when they were applied. */
  atNs: bigint;
}

export class UpcallChannelError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
    this.name = 'UpcallChannelError';
  }
}

const NOTHING = Buffer.alloc(0);

/** What both batchers offer the channel. */
export interface Batcher {
  push(chunk: Buffer): void;
  end(): void;
  listen(onBatch: (records: Buffer, ahead?: AnsweredAhead) => void): Promise<void>;
  next(): Promise<Buffer | null>;
}

/**
 * Turns a byte stream into batches of whole records: what arrives is
 * appended, whole records are handed out, a partial one waits for the rest.
 */
export class RecordBatcher implements Batcher {
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

const RELAY_HDR = 24;
/* The relay writes its header in the host's byte order, as the records. */
const rd32 = (b: Buffer, at: number): number => (LITTLE_ENDIAN ? b.readUInt32LE(at) : b.readUInt32BE(at));
const rd64 = (b: Buffer, at: number): bigint => (LITTLE_ENDIAN ? b.readBigUInt64LE(at) : b.readBigUInt64BE(at));

/**
 * The relay's messages (vpc.h, vpc_relay_hdr_t) as batches: each is whole
 * records, its leading ones perhaps answered already.  listen() only: a
 * batch read with next() would lose what was answered.  A message that
 * does not parse ends the channel (the reader attaches again).
 */
export class RelayBatcher implements Batcher {
  #pending: Buffer = NOTHING;
  #closed = false;
  #sink: ((records: Buffer, ahead?: AnsweredAhead) => void) | undefined;
  #queued: Array<{ records: Buffer; ahead: AnsweredAhead | undefined }> = [];
  #ended: Array<() => void> = [];

  constructor(readonly recordSize: number) {}

  push(chunk: Buffer): void {
    if (this.#closed) return;
    let all = this.#pending.length > 0 ? Buffer.concat([this.#pending, chunk]) : chunk;
    let off = 0;
    while (all.length - off >= RELAY_HDR) {
      const magic = rd32(all, off), bytes = rd32(all, off + 4);
      const records = rd32(all, off + 8), answered = rd32(all, off + 12);
      const resBytes = (answered * 4 + 7) & ~7;
      if (magic !== VPC_RELAY_MAGIC || answered > records || bytes !== RELAY_HDR + resBytes + records * this.recordSize) {
        this.end();
        return;
      }
      if (all.length - off < bytes) break;
      const recs = all.subarray(off + RELAY_HDR + resBytes, off + bytes);
      const ahead = answered > 0
        ? { count: answered, results: all.subarray(off + RELAY_HDR, off + RELAY_HDR + answered * 4), atNs: rd64(all, off + 16) }
        : undefined;
      if (this.#sink !== undefined) this.#sink(recs, ahead);
      else this.#queued.push({ records: Buffer.from(recs), ahead: ahead && { ...ahead, results: Buffer.from(ahead.results) } });
      off += bytes;
    }
    all = all.subarray(off);
    this.#pending = all.length > 0 ? Buffer.from(all) : NOTHING;
  }

  end(): void {
    this.#closed = true;
    for (const e of this.#ended.splice(0)) e();
  }

  listen(onBatch: (records: Buffer, ahead?: AnsweredAhead) => void): Promise<void> {
    if (this.#sink !== undefined) throw new Error('upcall channel: one consumer at a time');
    this.#sink = onBatch;
    for (const q of this.#queued.splice(0)) onBatch(q.records, q.ahead);
    if (this.#closed) return Promise.resolve();
    return new Promise((resolve) => this.#ended.push(resolve));
  }

  next(): Promise<Buffer | null> {
    return Promise.reject(new Error('upcall channel through the relay: read it with listen()'));
  }
}
