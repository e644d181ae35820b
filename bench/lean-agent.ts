// SPDX-License-Identifier: BSD-2-Clause
/**
 * bench/lean-agent: a measuring stick for bench/profile, not a product.  An
 * upcall reader in TypeScript that does only what answering needs, the way
 * vpc_c_agent.c does it: net.Socket on vpc-hostd's upcall socket, the MAC
 * read straight from each 104-byte record (no struct decoder, no objects),
 * a Map lookup, the answers written into one preallocated buffer, one raw
 * vpc_ctl (koffi, through the same libvpc) per read, nothing logged, no
 * metrics, no promises.  Between vpc-agent and this lies what the agent's
 * structure costs; between this and the C one, what Node and koffi cost.
 *
 *   node --import tsx bench/lean-agent.ts MAPPINGS_FILE [TTL_MS]
 *   ($VPC_UPCALL_SOCKET, $VPC_HOSTD_SOCKET; "MAC IPV4" lines; prints "ready")
 */
import { readFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { backend, sizeOf, VPC_OP_SYS_UPCALL_ANSWER, VPC_UPCALL_BATCH_MAX } from '../src/ffi/index.ts';

// From the ABI, not written down here: vpc_upcall_ans_t grew (the L3
// answer's MAC) and a hard-coded 56 made every answer EINVAL.
const REQ = sizeOf('vpc_upcall_req_t');
const ANS = sizeOf('vpc_upcall_ans_t');
const BATCH = VPC_UPCALL_BATCH_MAX;
const ttl = Number(process.argv[3] ?? 600000);

const map = new Map<number, number>();
for (const line of readFileSync(process.argv[2]!, 'utf8').split('\n')) {
  const [mac, ip] = line.split(' ');
  if (!mac || !ip) continue;
  const o = ip.split('.').map(Number);
  map.set(Number.parseInt(mac.replaceAll(':', ''), 16), ((o[0]! << 24) | (o[1]! << 16) | (o[2]! << 8) | o[3]!) >>> 0);
}

const ans = Buffer.alloc(BATCH * ANS);
const res = Buffer.alloc(BATCH * 4);
const be = backend();

function answer(n: number): void {
  const r = be.ctl(-1, VPC_OP_SYS_UPCALL_ANSWER, ans.subarray(0, n * ANS), res.subarray(0, n * 4));
  if (r.errno !== 0) throw new Error(`SYS_UPCALL_ANSWER: errno ${r.errno}`);
}

let pend: Buffer = Buffer.alloc(0);
let hello = false;
const sock = createConnection({ path: process.env.VPC_UPCALL_SOCKET! });
sock.on('data', (chunk: Buffer) => {
  const buf = pend.length > 0 ? Buffer.concat([pend, chunk]) : chunk;
  let off = 0;
  if (!hello) {
    if (buf.length < 16) { pend = buf; return; }
    if (buf.readInt32LE(8) !== 0) throw new Error('upcall socket refused us');
    hello = true;
    off = 16;
    console.log('ready');
  }
  let n = 0;
  for (; off + REQ <= buf.length; off += REQ) {
    const a = n * ANS;
    ans.fill(0, a, a + ANS);
    buf.copy(ans, a, off + 8, off + 24);                  // req_id, generation
    const vtep = map.get(buf.readUIntBE(off + 70, 6));    // dstmac
    if (vtep === undefined) {
      ans.writeUInt32LE(1, a + 16);                       // NOT_FOUND
    } else {
      ans.writeUInt32LE(ttl, a + 20);
      ans[a + 24] = 4;                                    // VPC_AF_INET
      ans.writeUInt32BE(vtep, a + 32);
    }
    if (++n === BATCH) { answer(n); n = 0; }
  }
  if (n > 0) answer(n);
  pend = off < buf.length ? Buffer.from(buf.subarray(off)) : Buffer.alloc(0);
});
sock.on('close', () => process.exit(0));
process.stdin.on('data', () => {});
process.stdin.on('end', () => process.exit(0));
