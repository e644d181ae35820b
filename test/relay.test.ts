// SPDX-License-Identifier: BSD-2-Clause
/**
 * The upcall relay: libvpc's thread (kmod/tests/unit/test_relay.c, C, with
 * vpc_ctl replaced by a recorder) and the agent's reading of its messages
 * (RelayBatcher): a message split across reads joined, what was answered
 * handed over with its records, what arrived before listen() handed over
 * first, a message that does not parse ending the channel, and next()
 * refused (it would lose what was answered).  The agent through the relay
 * against real daemons: test/agent-file.test.ts, test/agent.test.ts.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, test } from 'node:test';
import { VPC_RELAY_MAGIC } from '../src/ffi/abi.generated.ts';
import { RelayBatcher, type AnsweredAhead } from '../src/ffi/upcall-channel.ts';
import { buildDir } from './helpers/paths.ts';

const SIZE = 8;

function message(records: number, results: number[], at = 5n, from = 0): Buffer {
  const resBytes = (results.length * 4 + 7) & ~7;
  const b = Buffer.alloc(24 + resBytes + records * SIZE);
  b.writeUInt32LE(VPC_RELAY_MAGIC, 0);
  b.writeUInt32LE(b.length, 4);
  b.writeUInt32LE(records, 8);
  b.writeUInt32LE(results.length, 12);
  b.writeBigUInt64LE(at, 16);
  results.forEach((r, i) => b.writeInt32LE(r, 24 + i * 4));
  for (let i = 0; i < records * SIZE; i++) b[24 + resBytes + i] = (from * SIZE + i) & 0xff;
  return b;
}

test('the relay thread (C)', () => {
  const r = spawnSync(resolve(buildDir, 'test_relay'), { encoding: 'utf8' });
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /\d+ passed, 0 failed/);
});

describe('RelayBatcher', () => {
  test('messages split and joined across reads; answered ones with their results', async () => {
    const b = new RelayBatcher(SIZE);
    const m1 = message(3, [0, 70], 77n), m2 = message(2, [], 0n, 3);
    const early = message(1, [0], 1n, 9);
    b.push(early);                                 // before listen(): handed over first
    const seen: Array<{ records: Buffer; ahead: AnsweredAhead | undefined }> = [];
    const done = b.listen((records, ahead) => seen.push({ records: Buffer.from(records), ahead: ahead && { ...ahead, results: Buffer.from(ahead.results) } }));
    assert.equal(seen.length, 1);
    const both = Buffer.concat([m1, m2]);
    b.push(both.subarray(0, 10));                  // not even a header
    b.push(both.subarray(10, m1.length + 30));     // m1 and part of m2
    assert.equal(seen.length, 2, 'm1 at once, in the same call');
    b.push(both.subarray(m1.length + 30));
    assert.equal(seen.length, 3);
    assert.equal(seen[1]!.records.length, 3 * SIZE);
    assert.deepEqual(seen[1]!.records, m1.subarray(32));
    assert.equal(seen[1]!.ahead!.count, 2);
    assert.equal(seen[1]!.ahead!.results.readInt32LE(4), 70);
    assert.equal(seen[1]!.ahead!.atNs, 77n);
    assert.equal(seen[2]!.ahead, undefined, 'nothing answered: no ahead');
    assert.deepEqual(seen[2]!.records, m2.subarray(24));
    b.end();
    await done;
  });

  test('a message that does not parse ends the channel; next() is refused', async () => {
    const b = new RelayBatcher(SIZE);
    let n = 0;
    const done = b.listen(() => n++);
    const bad = message(2, [0]);
    bad.writeUInt32LE(bad.length + 8, 4);          // its length disagrees with its counts
    b.push(bad);
    await done;
    assert.equal(n, 0);
    const more = message(3, [0, 0, 0, 0]);         // answered > records
    const b2 = new RelayBatcher(SIZE);
    const done2 = b2.listen(() => n++);
    b2.push(more);
    await done2;
    assert.equal(n, 0);
    await assert.rejects(new RelayBatcher(SIZE).next(), /listen/);
  });
});
