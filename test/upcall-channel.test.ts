// SPDX-License-Identifier: BSD-2-Clause
/**
 * RecordBatcher, under both ways of reading the upcall channel: next()
 * (a promise per batch) and listen() (each batch handed over as it
 * arrives): whole records only, a record split across reads joined, what
 * arrived before listen() handed over first, the end seen by both, and
 * one consumer at a time.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RecordBatcher } from '../src/ffi/upcall-channel.ts';

const SIZE = 8;
const records = (from: number, n: number) => Buffer.from(Array.from({ length: n * SIZE }, (_, i) => (from * SIZE + i) & 0xff));

describe('RecordBatcher', () => {
  test('next(): whole records, a split record joined, null once ended', async () => {
    const b = new RecordBatcher(SIZE);
    const all = records(0, 3);
    b.push(all.subarray(0, 12));                  // one record and half of the next
    b.push(all.subarray(12));
    assert.deepEqual(await b.next(), all.subarray(0, 8));
    assert.deepEqual(await b.next(), all.subarray(8));
    const waiting = b.next();
    b.end();
    assert.equal(await waiting, null);
  });

  test('listen(): every batch handed over in the same call as the read, in order; resolves at the end', async () => {
    const b = new RecordBatcher(SIZE);
    const all = records(0, 5);
    b.push(all.subarray(0, 8));                   // before listen(): handed over first
    const seen: Buffer[] = [];
    const done = b.listen((r) => seen.push(Buffer.from(r)));
    assert.equal(seen.length, 1, 'what was queued comes at once');
    b.push(all.subarray(8, 20));                  // one record and a half
    assert.equal(seen.length, 2, 'synchronously, no turn of the event loop');
    b.push(all.subarray(20, 22));                 // still no whole record
    assert.equal(seen.length, 2);
    b.push(all.subarray(22));
    assert.deepEqual(Buffer.concat(seen), all);
    assert.ok(seen.every((r) => r.length % SIZE === 0), 'whole records only');
    b.end();
    await done;
  });

  test('listen() after the end resolves at once; one consumer at a time', async () => {
    const ended = new RecordBatcher(SIZE);
    ended.end();
    await ended.listen(() => assert.fail('nothing to hand over'));
    const b = new RecordBatcher(SIZE);
    void b.listen(() => {});
    assert.throws(() => b.listen(() => {}), /one consumer at a time/);
    assert.throws(() => void b.next(), /one consumer at a time/);
    const w = new RecordBatcher(SIZE);
    const pending = w.next();
    assert.throws(() => void w.listen(() => {}), /one consumer at a time/);
    w.end();
    assert.equal(await pending, null);
  });
});
