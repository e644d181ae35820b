// SPDX-License-Identifier: BSD-2-Clause
/**
 * The etcd resolver's compact copy (src/directory/store.ts) and the load
 * that fills it (EtcdClient.loadStore):
 *  - MappingStore, under random puts and deletes, answers as the Maps it
 *    replaced did ((VNI, MAC) -> mapping; (VNI, IP) -> the key that last
 *    claimed it, dropped only by that key), including across its indexes'
 *    rebuilds and reused records;
 *  - loadStore, against a real etcd, takes and refuses exactly what load()
 *    does, with the same reasons: keys and values in canonical form (the
 *    fast path) and every other shape (the general one).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { EtcdClient, ipKey, mappingIps, mappingKey, MappingStore, type Mapping } from '../src/directory/index.ts';
import { decodeRangeResponse, RangeWireError } from '../src/directory/etcd-wire.ts';
import { EtcdServer } from './helpers/etcd.ts';

/** The resolver's copy as it was: two Maps. */
class Model {
  map = new Map<string, Mapping>();
  byIp = new Map<string, string>();

  set(m: Mapping): Mapping | undefined {
    const key = mappingKey(m.vni, m.mac);
    const old = this.map.get(key);
    this.map.set(key, m);
    for (const ip of old ? mappingIps(old) : []) {
      if (!mappingIps(m).includes(ip) && this.byIp.get(ipKey(m.vni, ip)) === key) this.byIp.delete(ipKey(m.vni, ip));
    }
    for (const ip of mappingIps(m)) this.byIp.set(ipKey(m.vni, ip), key);
    return old;
  }

  delete(vni: number, mac: string): Mapping | undefined {
    const key = mappingKey(vni, mac);
    const old = this.map.get(key);
    this.map.delete(key);
    for (const ip of old ? mappingIps(old) : []) if (this.byIp.get(ipKey(vni, ip)) === key) this.byIp.delete(ipKey(vni, ip));
    return old;
  }

  getByIp(vni: number, ip: string): Mapping | undefined {
    const k = this.byIp.get(ipKey(vni, ip));
    return k === undefined ? undefined : this.map.get(k);
  }
}

/** A small deterministic generator (the same run every time). */
function rng(seed: number): (n: number) => number {
  let s = seed >>> 0;
  return (n) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s % n;
  };
}

const sortByKey = (ms: Mapping[]) => [...ms].sort((a, b) => mappingKey(a.vni, a.mac).localeCompare(mappingKey(b.vni, b.mac)));

describe('MappingStore: the Maps it replaced, compactly', () => {
  test('random puts and deletes: every lookup, each VNI\'s mappings and the replaced mapping as the Maps say', () => {
    const rand = rng(16);
    const store = new MappingStore();
    const model = new Model();
    const macs = Array.from({ length: 300 }, (_, i) => `02:00:00:00:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 0xff).toString(16).padStart(2, '0')}`);
    // Few addresses for many MACs, so claims collide and move between MACs.
    const ip4s = Array.from({ length: 60 }, (_, i) => `10.0.${i >> 4}.${(i & 15) + 1}`);
    const ip6s = Array.from({ length: 40 }, (_, i) => `2001:db8::${(i + 1).toString(16)}`);
    const vnis = [1, 2, 0xffffff];
    let revision = 1n;
    for (let step = 0; step < 6000; step++) {
      const vni = vnis[rand(vnis.length)]!;
      const mac = macs[rand(macs.length)]!;
      if (rand(4) === 0) {
        assert.deepEqual(store.delete(vni, mac), model.delete(vni, mac), `step ${step}: delete returns what it removed`);
      } else {
        const m: Mapping = { vni, mac, vtep: `198.51.100.${1 + rand(5)}`, revision: revision++ };
        if (rand(3) === 0) m.port = 1 + rand(65535);
        if (rand(2) === 0) m.ip = ip4s[rand(ip4s.length)]!;
        if (rand(3) === 0) m.ip6 = ip6s[rand(ip6s.length)]!;
        assert.deepEqual(store.set(m), model.set(m), `step ${step}: set returns what it replaced`);
      }
      assert.equal(store.size, model.map.size);
      if (step % 50 === 0 || step > 5900) {
        for (const v of vnis) {
          for (const x of macs) {
            const m = model.map.get(mappingKey(v, x));
            assert.deepEqual(store.get(v, x), m, `step ${step}: ${v}/${x}`);
            const b = Buffer.from(x.replaceAll(':', ''), 'hex');
            assert.deepEqual(store.target(v, b.readUInt32BE(0), (b.readUInt16BE(4) << 16) >>> 0),
              m && { vtep: m.vtep, revision: m.revision, ...(m.port !== undefined ? { port: m.port } : {}) }, `step ${step}: target ${v}/${x}`);
          }
          for (const ip of [...ip4s, ...ip6s]) assert.deepEqual(store.getByIp(v, ip), model.getByIp(v, ip), `step ${step}: ${v} ${ip}`);
          assert.deepEqual(sortByKey(store.ofVni(v)), sortByKey([...model.map.values()].filter((m) => m.vni === v)));
        }
      }
    }
    assert.ok(store.bytes < store.size * 200, `compact: ${store.bytes} bytes for ${store.size} mappings`);
  });

  test('a MAC in another spelling finds the same mapping; no MAC, no address: nothing', () => {
    const store = new MappingStore();
    store.set({ vni: 7, mac: '02:ab:00:00:00:01', vtep: '198.51.100.1', ip: '10.0.0.1', ip6: '2001:db8::1', revision: 5n });
    assert.equal(store.get(7, '02:AB:00:00:00:01')?.revision, 5n);
    assert.equal(store.get(7, '02-ab-00-00-00-01')?.vtep, '198.51.100.1');
    assert.equal(store.get(8, '02:ab:00:00:00:01'), undefined, 'another VNI');
    assert.equal(store.get(7, 'not a mac'), undefined);
    assert.equal(store.getByIp(7, '2001:0db8:0:0::1')?.mac, '02:ab:00:00:00:01', 'an address in any IPv6 spelling');
    assert.equal(store.getByIp(7, '10.0.0.2'), undefined);
    assert.equal(store.getByIp(7, 'nonsense'), undefined);
    assert.equal(store.delete(7, '02:ab:00:00:00:02'), undefined, 'deleting what is not there changes nothing');
    assert.equal(store.size, 1);
  });
});

/** Keys and values of every shape: canonical, other spellings (an upper-case MAC among them), refused ones. */
const shapes = (prefix: string): Array<[string, string]> => [
  // Canonical: the fast path.
  [`${prefix}/5/02:00:00:00:00:01`, '{"vtep":"198.51.100.1"}'],
  [`${prefix}/5/02:00:00:00:00:02`, '{"vtep":"198.51.100.1","port":4790,"ip":"10.0.0.2","ip6":"2001:db8::2"}'],
  [`${prefix}/16777215/02:00:00:00:00:03`, '{"vtep":"2001:db8:1::1","ip":"10.0.0.3"}'],
  // Accepted the general way: spellings the fast path leaves alone.
  [`${prefix}/05/02:00:00:00:00:04`, '{"vtep":"198.51.100.1"}'],
  [`${prefix}/5/02:00:00:00:00:0A`, '{"vtep":"198.51.100.1","ip":"10.0.0.10"}'],
  [`${prefix}/5/02-00-00-00-00-0b`, '{"vtep":"198.51.100.1"}'],
  [`${prefix}/5/02:00:00:00:00:0c`, '{"vtep":"198.51.100.1","ip6":"2001:DB8:0::c","vni":9,"mac":"ignored"}'],
  [`${prefix}/5/02:00:00:00:00:0f`, '{"vtep":"198.51.100.1","ip":"10.0.0.015"}'],    // held as 10.0.0.15
  // The same (VNI, MAC) as an earlier key in another spelling: the later key holds.
  [`${prefix}/5/02:00:00:00:00:0a`, '{"vtep":"198.51.100.2","ip":"10.0.0.11"}'],
  // Refused, each for its reason.
  [`${prefix}/0/02:00:00:00:00:05`, '{"vtep":"198.51.100.1"}'],
  [`${prefix}/16777216/02:00:00:00:00:05`, '{"vtep":"198.51.100.1"}'],
  [`${prefix}/5/03:00:00:00:00:05`, '{"vtep":"198.51.100.1"}'],
  [`${prefix}/5/00:00:00:00:00:00`, '{"vtep":"198.51.100.1"}'],
  [`${prefix}/5/02:00:00:00:00:zz`, '{"vtep":"198.51.100.1"}'],
  [`${prefix}/5/x/02:00:00:00:00:05`, '{"vtep":"198.51.100.1"}'],
  [`${prefix}/5/02:00:00:00:00:06`, 'not json'],
  [`${prefix}/5/02:00:00:00:00:07`, '["vtep"]'],
  [`${prefix}/5/02:00:00:00:00:08`, '{"vtep":"198.51.100.300"}'],
  [`${prefix}/5/02:00:00:00:00:09`, '{"vtep":"198.51.100.1","port":0}'],
  [`${prefix}/5/02:00:00:00:00:0d`, '{"vtep":"198.51.100.1","port":4789.5}'],
  [`${prefix}/5/02:00:00:00:00:0e`, '{"vtep":"198.51.100.1","ip":"127.0.0.1"}'],
  [`${prefix}/5/02:00:00:00:00:10`, '{"vtep":"198.51.100.1","ip6":"fe80::1"}'],
  [`${prefix}/5/02:00:00:00:00:11`, '{"vtep":"198.51.100.1","ip6":"10.0.0.1"}'],
  [`${prefix}/5/02:00:00:00:00:12`, '{"vtep":"198.51.100.1","colour":"blue"}'],
  [`${prefix}/5/02:00:00:00:00:13`, '{"vtep":"198.51.100.1","__proto__":{"x":1}}'],
  [`${prefix}/5/02:00:00:00:00:14`, 'null'],
  [`${prefix}/5/02:00:00:00:00:15`, '{"vtep":7}'],
];

describe('EtcdClient.loadStore: what load() takes and refuses, compactly', () => {
  const etcd = new EtcdServer({ members: 1 });
  const prefix = '/vpc-store-test';
  let c: EtcdClient;

  before(async () => {
    await etcd.start();
    c = new EtcdClient({ endpoints: etcd.endpoints, prefix, loadPageKeys: 7 });
  });

  after(async () => {
    c?.close();
    await etcd.stop();
  });

  test('canonical and other spellings, good and bad keys and values: the same mappings and the same reasons', async () => {
    for (const [k, v] of shapes(prefix)) await c.client.put(k).value(v);
    try {
      const [a, b] = [await c.load(), await c.loadStore()];
      assert.equal(b.revision, a.revision);
      assert.deepEqual(b.bad.map((e) => [e.field, e.message]), a.bad.map((e) => [e.field, e.message]), 'refused: the same keys, for the same reasons');
      assert.equal(a.bad.length, 18, 'every refused one refused');
      const expected = new Map(a.mappings.map((m) => [mappingKey(m.vni, m.mac), m]));
      const got = [...b.store.records()].map((i) => b.store.entry(i));
      assert.deepEqual(sortByKey(got), sortByKey([...expected.values()]), 'the same mappings, the later key\'s for a MAC spelt twice');
      assert.equal(b.store.get(5, '02:00:00:00:00:0a')?.vtep, '198.51.100.2');
      assert.equal(b.store.getByIp(5, '10.0.0.11')?.mac, '02:00:00:00:00:0a');
      assert.equal(b.store.getByIp(5, '10.0.0.10'), undefined, 'the earlier spelling\'s address is not indexed');
      assert.equal(b.store.getByIp(5, '2001:db8::c')?.mac, '02:00:00:00:00:0c');
      assert.equal(b.store.getByIp(5, '10.0.0.15')?.mac, '02:00:00:00:00:0f');
      assert.equal(b.store.getByIp(16777215, '10.0.0.3')?.vtep, '2001:db8:1::1');
    } finally {
      await c.client.delete().prefix(prefix);
    }
  });

  test('decoded from the wire bytes or by etcd3: the same store, the same refusals, the same revision, over many pages', async () => {
    // Many keys per VNI and a few of every shape, so pages end anywhere among them.
    const kvs = shapes(prefix);
    for (let i = 0; i < 40; i++) kvs.push([`${prefix}/${6 + (i % 3)}/02:00:00:01:00:${i.toString(16).padStart(2, '0')}`, JSON.stringify({ vtep: `198.51.100.${1 + (i % 4)}`, ip: `10.1.0.${i + 1}` })]);
    for (const [k, v] of kvs) await c.client.put(k).value(v);
    await c.client.put(`${prefix}-ip/5/10.0.0.2`).value('02:00:00:00:00:02');     // the address index: not under <prefix>/
    const byEtcd3 = new EtcdClient({ endpoints: etcd.endpoints, prefix, loadPageKeys: 7, rangeDecoder: 'etcd3' });
    const raw3 = new EtcdClient({ endpoints: etcd.endpoints, prefix, loadPageKeys: 3 });
    try {
      const dump = (r: Awaited<ReturnType<EtcdClient['loadStore']>>) => ({
        revision: r.revision,
        bad: r.bad.map((e) => [e.field, e.message]),
        mappings: sortByKey([...r.store.records()].map((i) => r.store.entry(i))),
      });
      for (const vni of [undefined, 5, 6, 9]) {
        const want = dump(await byEtcd3.loadStore(vni));
        assert.deepEqual(dump(await c.loadStore(vni)), want, `VNI ${vni ?? 'all'}, pages of 7`);
        assert.deepEqual(dump(await raw3.loadStore(vni)), want, `VNI ${vni ?? 'all'}, pages of 3`);
      }
      const all = dump(await c.loadStore());
      assert.equal(all.mappings.length, 48, 'every good key, the MAC spelt twice once');
      assert.equal(all.bad.length, 18);
      // The raw method is what served (a library that changed shape would fall back to etcd3's decoder).
      const pool = (c.client as unknown as { pool: { withConnection(s: string, f: (a: { client: object }) => unknown): Promise<unknown> } }).pool;
      assert.equal(await pool.withConnection('KV', ({ client }) => typeof (client as Record<string, unknown>).vpcRangeRaw), 'function');
    } finally {
      byEtcd3.close();
      raw3.close();
      await c.client.delete().prefix(prefix);
      await c.client.delete().prefix(`${prefix}-ip`);
    }
  });

  test('a reply that cannot be read: the load fails with why, and gives nothing', async () => {
    for (let i = 0; i < 20; i++) await c.client.put(`${prefix}/5/02:00:00:02:00:${i.toString(16).padStart(2, '0')}`).value('{"vtep":"198.51.100.1"}');
    const pool = (c.client as unknown as { pool: { exec: (...a: unknown[]) => Promise<unknown> } }).pool;
    const exec = pool.exec;
    let calls = 0;
    // The second page's reply cut inside its first key/value (as a broken proxy might).
    pool.exec = async (...a: unknown[]) => {
      const r = await exec.apply(pool, a);
      if (a[1] !== 'vpcRangeRaw' || ++calls !== 2) return r;
      const page = decodeRangeResponse(r as Buffer);
      return (r as Buffer).subarray(0, page.spans[2]! + 1);
    };
    try {
      await assert.rejects(c.loadStore(), (e: Error) => e instanceof RangeWireError && /runs past the end/.test(e.message));
      assert.equal(calls, 2);
    } finally {
      pool.exec = exec;
      await c.client.delete().prefix(prefix);
    }
  });
});
