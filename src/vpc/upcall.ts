// SPDX-License-Identifier: BSD-2-Clause
/**
 * Upcalls: the switch asking "where does this MAC live?".  Read them as an
 * async iterator of batches; answer in batches.  Only one reader may be
 * attached at a time; when it goes away, what it had not answered is handed
 * to the next one.
 */
import { endianness } from 'node:os';
import {
  abiErrnoName, backend, encode, offsetOf, sizeOf, VPC_AGENT_DETAIL_MAX, VPC_AGENT_EV_DEGRADED, VPC_AGENT_EV_RECOVERED,
  VPC_OP_SYS_AGENT_EVENT, VPC_OP_SYS_UPCALL_ANSWER, VPC_OP_SYS_UPCALL_STATS, VPC_UPCALL_BATCH_MAX, VPC_UPCALL_FOUND, VPC_UPCALL_NOT_FOUND, type UpcallChannel,
  VPC_UPCALL_L3MISS, type AnsweredAhead,
} from '../ffi/index.ts';
import { idFromBytes, ipBytes, ipString, isNilId, macBytes, macString, VpcArgumentError, type Id } from './ids.ts';
import { ctlGet, ctlRaw, ctlSet, SYSTEM } from './kernel.ts';

export interface UpcallRequest {
  /** l2: where does dstMac live?  l3: which MAC has dstIp (an ARP request or NS missed)? */
  kind: 'l2' | 'l3';
  id: bigint;
  /** Answer with this: it changes each time the request is handed out. */
  generation: bigint;
  switchId: Id;
  /** The port the first frame came in on. */
  portId: Id | undefined;
  vni: number;
  vlan: number | undefined;
  ethertype: number;
  srcMac: string;
  /** l2: the MAC asked about; l3: 00:00:00:00:00:00. */
  dstMac: string;
  /** l3: the address asked about; l2: the IP destination, when the frame showed one. */
  dstIp: string | undefined;
  /** Monotonic nanoseconds of the first miss. */
  timeNs: bigint;
}

/**
 * An answer.  To an l2 request: the VTEP.  To an l3 request: the MAC that
 * has the address, and its VTEP (which installs the CAM entry for that MAC
 * in the same answer; without one only the neighbour entry is installed).
 */
export type UpcallAnswer =
  | { id: bigint; generation: bigint; found: true; vtep?: string; mac?: string; port?: number; ttlMs?: number; revision?: number }
  | { id: bigint; generation: bigint; found: false; ttlMs?: number };

/** Per answer: null when applied, else why it was refused (an errno name). */
export type UpcallResult = null | 'ENOENT' | 'ESTALE' | string;

export interface UpcallStats {
  pending: number;
  undelivered: number;
  held: number;
  readers: number;
  delivered: number;
  requeued: number;
}

/**
 * The id's string for the 16 bytes at buf[at], from the last one seen when
 * they are the same: a burst of upcalls names the same few switches and
 * ports over and over, and formatting a UUID per record was a visible share
 * of the agent's time under a miss storm.
 */
class IdCache {
  readonly #bytes = new Uint8Array(16);
  #known = false;
  #id: Id | undefined;

  of(buf: Buffer, at: number): Id | undefined {
    const last = this.#bytes;
    if (this.#known) {
      let same = true;
      for (let i = 0; i < 16 && same; i++) same = last[i] === buf[at + i];
      if (same) return this.#id;
    }
    const b = buf.subarray(at, at + 16);
    // A nil switch id is not one the kernel sends; idFromBytes says so as before.
    const id = isNilId(b) ? undefined : idFromBytes(b);
    last.set(b);
    this.#known = true;
    this.#id = id;
    return id;
  }
}

/* The records and answers are in the host's byte order (vpc.h). */
const LE = endianness() === 'LE';
const u16 = (b: Buffer, at: number): number => (LE ? b.readUInt16LE(at) : b.readUInt16BE(at));
const u32 = (b: Buffer, at: number): number => (LE ? b.readUInt32LE(at) : b.readUInt32BE(at));
const u64 = (b: Buffer, at: number): bigint => (LE ? b.readBigUInt64LE(at) : b.readBigUInt64BE(at));
const put16 = (b: Buffer, x: number, at: number): void => { if (LE) b.writeUInt16LE(x, at); else b.writeUInt16BE(x, at); };
const put32 = (b: Buffer, x: number, at: number): void => { if (LE) b.writeUInt32LE(x, at); else b.writeUInt32BE(x, at); };
const put64 = (b: Buffer, x: bigint, at: number): void => { if (LE) b.writeBigUInt64LE(x, at); else b.writeBigUInt64BE(x, at); };

const switchIds = new IdCache();
const portIds = new IdCache();

const REQ = {
  kind: offsetOf('vpc_upcall_req_t', 'kind')!,
  reqId: offsetOf('vpc_upcall_req_t', 'req_id')!,
  generation: offsetOf('vpc_upcall_req_t', 'generation')!,
  switchId: offsetOf('vpc_upcall_req_t', 'switch_id')!,
  portId: offsetOf('vpc_upcall_req_t', 'port_id')!,
  vni: offsetOf('vpc_upcall_req_t', 'vni')!,
  vlan: offsetOf('vpc_upcall_req_t', 'vlan')!,
  ethertype: offsetOf('vpc_upcall_req_t', 'ethertype')!,
  srcmac: offsetOf('vpc_upcall_req_t', 'srcmac')!,
  dstmac: offsetOf('vpc_upcall_req_t', 'dstmac')!,
  dstAf: offsetOf('vpc_upcall_req_t', 'dst_af')!,
  dstIp: offsetOf('vpc_upcall_req_t', 'dst_ip')!,
  timeNs: offsetOf('vpc_upcall_req_t', 'time_ns')!,
};

/**
 * A record read field by field where it lies (what decode() would give,
 * without its intermediate object and arrays: a burst reads thousands).
 */
function requestFrom(buf: Buffer, off: number): UpcallRequest {
  const switchId = switchIds.of(buf, off + REQ.switchId) ?? idFromBytes(buf.subarray(off + REQ.switchId, off + REQ.switchId + 16));
  const vlan = u16(buf, off + REQ.vlan);
  const af = buf[off + REQ.dstAf]!;
  return {
    kind: u16(buf, off + REQ.kind) === VPC_UPCALL_L3MISS ? 'l3' : 'l2',
    id: u64(buf, off + REQ.reqId),
    generation: u64(buf, off + REQ.generation),
    switchId,
    portId: portIds.of(buf, off + REQ.portId),
    vni: u32(buf, off + REQ.vni),
    vlan: vlan === 0 ? undefined : vlan,
    ethertype: u16(buf, off + REQ.ethertype),
    srcMac: macString(buf.subarray(off + REQ.srcmac, off + REQ.srcmac + 6)),
    dstMac: macString(buf.subarray(off + REQ.dstmac, off + REQ.dstmac + 6)),
    dstIp: af === 0 ? undefined : ipString(af, buf.subarray(off + REQ.dstIp, off + REQ.dstIp + 16)),
    timeNs: u64(buf, off + REQ.timeNs),
  };
}

/**
 * A batch of requests as read, each field read where it lies when asked
 * for.  kind(), vni(), macHi()/macLo() (the destination MAC as the
 * directory's two words), id() and generation() are what an answer from
 * memory needs; request(i) is the whole UpcallRequest.  Valid only during
 * the UpcallStream.listen() callback it was handed to.
 */
export class UpcallBatch {
  readonly length: number;
  /**
   * Through the relay (UpcallStream.openRelayed): how many of the leading
   * requests it answered already, from the AnswerTable, each FOUND; 0
   * otherwise.  aheadResult(i) is what the kernel said of answer i,
   * aheadAtNs when they were applied (the clock of a request's timeNs).
   */
  readonly answeredAhead: number;
  readonly aheadAtNs: bigint;

  constructor(private readonly buf: Buffer, private readonly recordSize: number, private readonly ahead?: AnsweredAhead) {
    this.length = Math.floor(buf.length / recordSize);
    this.answeredAhead = Math.min(ahead?.count ?? 0, this.length);
    this.aheadAtNs = ahead?.atNs ?? 0n;
  }

  aheadResult(i: number): UpcallResult {
    const e = LE ? this.ahead!.results.readInt32LE(i * 4) : this.ahead!.results.readInt32BE(i * 4);
    return e === 0 ? null : abiErrnoName(e);
  }

  kind(i: number): 'l2' | 'l3' {
    return u16(this.buf, i * this.recordSize + REQ.kind) === VPC_UPCALL_L3MISS ? 'l3' : 'l2';
  }

  vni(i: number): number {
    return u32(this.buf, i * this.recordSize + REQ.vni);
  }

  /** The destination MAC's first four bytes, big-endian. */
  macHi(i: number): number {
    return this.buf.readUInt32BE(i * this.recordSize + REQ.dstmac);
  }

  /** The destination MAC's last two bytes, in the high half. */
  macLo(i: number): number {
    return (this.buf.readUInt16BE(i * this.recordSize + REQ.dstmac + 4) << 16) >>> 0;
  }

  id(i: number): bigint {
    return u64(this.buf, i * this.recordSize + REQ.reqId);
  }

  generation(i: number): bigint {
    return u64(this.buf, i * this.recordSize + REQ.generation);
  }

  request(i: number): UpcallRequest {
    return requestFrom(this.buf, i * this.recordSize);
  }
}

export class UpcallStream implements AsyncIterable<UpcallRequest[]> {
  #ch: UpcallChannel;

  private constructor(ch: UpcallChannel) {
    this.#ch = ch;
  }

  /** Attach as the reader; rejects with an UpcallChannelError (code EBUSY) if one is. */
  static async open(): Promise<UpcallStream> {
    return new UpcallStream(await backend().openUpcalls());
  }

  /**
   * Attach through the relay (AnswerTable.available()): it answers, with
   * ttlMs, the leading L2 requests of each batch the AnswerTable knows
   * before the batch reaches JavaScript (UpcallBatch.answeredAhead).  Read
   * it with listen() only.
   */
  static async openRelayed(ttlMs: number): Promise<UpcallStream> {
    const relay = backend().relay;
    if (relay === undefined) throw new VpcArgumentError('relay', 'this kernel has no upcall relay (libvpc on the host kernel has)');
    return new UpcallStream(await relay.open(ttlMs));
  }

  /** The next batch, or null when the channel closed (the kernel went away). */
  async next(): Promise<UpcallRequest[] | null> {
    const buf = await this.#ch.next();
    if (buf === null) return null;
    const out: UpcallRequest[] = [];
    for (let off = 0; off + this.#ch.recordSize <= buf.length; off += this.#ch.recordSize) {
      out.push(requestFrom(buf, off));
    }
    return out;
  }

  /**
   * Hand every batch to onBatch as it is read, in the same turn of the event
   * loop: no promise per batch as next() and the iterator take.  The batch
   * reads its records where they lie, so a reader can look a request up
   * and answer it before building its UpcallRequest (most of what a lone
   * miss costs on its way to the answer is that work, done cold).  The
   * batch is valid only during the call.  Resolves when the channel
   * closes; rejects with what onBatch threw, after which nothing more is
   * delivered and the channel is closed (what was not answered goes back
   * to the kernel's queue).  Either this or next().
   */
  listen(onBatch: (batch: UpcallBatch) => void): Promise<void> {
    return new Promise((resolve, reject) => {
      let failed = false;
      this.#ch.listen((buf, ahead) => {
        if (failed) return;
        try {
          onBatch(new UpcallBatch(buf, this.#ch.recordSize, ahead));
        } catch (e) {
          failed = true;
          this.#ch.close();
          reject(e as Error);
        }
      }).then(resolve, reject);
    });
  }

  close(): void {
    this.#ch.close();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<UpcallRequest[]> {
    for (;;) {
      const batch = await this.next();
      if (batch === null) return;
      yield batch;
    }
  }
}

const ANS_SIZE = sizeOf('vpc_upcall_ans_t');
const ANS = {
  reqId: offsetOf('vpc_upcall_ans_t', 'req_id')!,
  generation: offsetOf('vpc_upcall_ans_t', 'generation')!,
  status: offsetOf('vpc_upcall_ans_t', 'status')!,
  ttl: offsetOf('vpc_upcall_ans_t', 'ttl_ms')!,
  af: offsetOf('vpc_upcall_ans_t', 'af')!,
  port: offsetOf('vpc_upcall_ans_t', 'udp_port')!,
  addr: offsetOf('vpc_upcall_ans_t', 'addr')!,
  revision: offsetOf('vpc_upcall_ans_t', 'revision')!,
  mac: offsetOf('vpc_upcall_ans_t', 'mac')!,
};
/** One batch of answers, written in place (VPC_UPCALL_BATCH_MAX of them). */
const ansBuf = Buffer.alloc(VPC_UPCALL_BATCH_MAX * ANS_SIZE);

/*
 * VTEPs parsed once: a burst answers thousands of requests with a handful
 * of VTEPs.  Bounded, so a directory with many VTEPs costs a parse now and
 * then rather than memory.
 */
const VTEP_CACHE_MAX = 1024;
const vteps = new Map<string, { af: number; bytes: number[] }>();

export function vtepBytes(vtep: string): { af: number; bytes: number[] } {
  let ip = vteps.get(vtep);
  if (ip === undefined) {
    ip = ipBytes(vtep, 'vtep');        // throws on a bad one: nothing cached
    if (vteps.size >= VTEP_CACHE_MAX) vteps.clear();
    vteps.set(vtep, ip);
  }
  return ip;
}

function answerStruct(a: UpcallAnswer): Buffer {
  const ttl = a.ttlMs ?? 0;
  if (!Number.isInteger(ttl) || ttl < 0) throw new VpcArgumentError('ttl', `ttl: expected whole milliseconds, got ${String(ttl)}`);
  if (!a.found) {
    return encode('vpc_upcall_ans_t', { req_id: a.id, generation: a.generation, status: VPC_UPCALL_NOT_FOUND, ttl_ms: ttl });
  }
  const ip = a.vtep === undefined ? { af: 0, bytes: new Array<number>(16).fill(0) } : ipBytes(a.vtep, 'vtep');
  return encode('vpc_upcall_ans_t', {
    req_id: a.id, generation: a.generation, status: VPC_UPCALL_FOUND, ttl_ms: ttl, af: ip.af,
    udp_port: a.port ?? 0, addr: ip.bytes, revision: BigInt(a.revision ?? 0),
    mac: a.mac === undefined ? [0, 0, 0, 0, 0, 0] : macBytes(a.mac, 'mac'),
  });
}

const isU64 = (x: unknown): x is bigint => typeof x === 'bigint' && x >= 0n && x <= 0xffffffffffffffffn;
const uint = (x: unknown, max: number): x is number => typeof x === 'number' && Number.isInteger(x) && x >= 0 && x <= max;

/**
 * Write an answer at off (zeroed), as answerStruct() encodes it.  The
 * usual answer is written field by field; anything out of the ordinary
 * (a field out of range, say) goes through answerStruct(), so what is
 * refused and how stays exactly as it was.
 */
function writeAnswer(a: UpcallAnswer, buf: Buffer, off: number): void {
  const ttl = a.ttlMs ?? 0;
  const port = a.found ? a.port ?? 0 : 0;
  const revision = a.found ? a.revision ?? 0 : 0;
  if (!isU64(a.id) || !isU64(a.generation) || !uint(ttl, 0xffffffff) || !uint(port, 0xffff) || !uint(revision, Number.MAX_SAFE_INTEGER)) {
    answerStruct(a).copy(buf, off);
    return;
  }
  const ip = a.found && a.vtep !== undefined ? vtepBytes(a.vtep) : undefined;
  const mac = a.found && a.mac !== undefined ? macBytes(a.mac, 'mac') : undefined;
  put64(buf, a.id, off + ANS.reqId);
  put64(buf, a.generation, off + ANS.generation);
  put32(buf, a.found ? VPC_UPCALL_FOUND : VPC_UPCALL_NOT_FOUND, off + ANS.status);
  put32(buf, ttl, off + ANS.ttl);
  if (!a.found) return;
  if (ip !== undefined) {
    buf[off + ANS.af] = ip.af;
    for (let i = 0; i < 16; i++) buf[off + ANS.addr + i] = ip.bytes[i]!;
  }
  put16(buf, port, off + ANS.port);
  put64(buf, BigInt(revision), off + ANS.revision);
  if (mac !== undefined) for (let i = 0; i < 6; i++) buf[off + ANS.mac + i] = mac[i]!;
}

/**
 * Apply answers (any number, sent in batches of VPC_UPCALL_BATCH_MAX, each
 * one vpc_ctl written straight into one buffer); one result per answer.  An
 * answer that cannot be encoded throws before anything of its batch is sent.
 */
export function answerUpcalls(answers: UpcallAnswer[]): UpcallResult[] {
  const out: UpcallResult[] = [];
  for (let i = 0; i < answers.length; i += VPC_UPCALL_BATCH_MAX) {
    const n = Math.min(VPC_UPCALL_BATCH_MAX, answers.length - i);
    const key = ansBuf.subarray(0, n * ANS_SIZE);
    key.fill(0);
    for (let j = 0; j < n; j++) writeAnswer(answers[i + j]!, key, j * ANS_SIZE);
    const res = ctlRaw(SYSTEM, VPC_OP_SYS_UPCALL_ANSWER, key, n * 4);
    for (let j = 0; j < n; j++) {
      const e = res.readInt32LE(j * 4);
      out.push(e === 0 ? null : abiErrnoName(e));
    }
  }
  return out;
}

export function upcallStats(): UpcallStats {
  const v = ctlGet(SYSTEM, VPC_OP_SYS_UPCALL_STATS, 'vpc_upcall_stats_t');
  return { pending: v.pending, undelivered: v.undelivered, held: v.held, readers: v.readers, delivered: v.delivered, requeued: v.requeued };
}

export type AgentState = 'degraded' | 'recovered';
const agentEvents: Record<AgentState, number> = { degraded: VPC_AGENT_EV_DEGRADED, recovered: VPC_AGENT_EV_RECOVERED };

/**
 * Tell the kernel the agent's state changed, so it posts a lifecycle event
 * (devctl DEGRADED/RECOVERED on FreeBSD, a log line of vpc-hostd).  The
 * detail may say why; characters devd would need quoted (spaces, quotes,
 * ...) become '_' and it is cut to fit.
 */
export function reportAgentState(state: AgentState, detail = ''): void {
  const event = agentEvents[state];
  if (event === undefined) throw new VpcArgumentError('state', `agent state must be degraded or recovered, not '${String(state)}'`);
  const clean = detail.replace(/[^A-Za-z0-9._:/@,+-]/g, '_').slice(0, VPC_AGENT_DETAIL_MAX - 1);
  const bytes = Array.from(Buffer.from(clean.padEnd(VPC_AGENT_DETAIL_MAX, '\0'), 'latin1'));
  ctlSet(SYSTEM, VPC_OP_SYS_AGENT_EVENT, { struct: 'vpc_agent_event_t', value: { event, detail: bytes } });
}
