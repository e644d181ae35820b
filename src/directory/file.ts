// SPDX-License-Identifier: BSD-2-Clause
/**
 * The file directory, the embedded default: one JSON file
 *
 *   { "version": 1,
 *     "mappings": [ { "vni": 100, "mac": "02:00:00:00:02:02", "vtep": "198.51.100.2",
 *                     "ip": "10.0.0.2", "ip6": "2001:db8::2" } ] }
 *
 * (ip and ip6 are optional; an address has one MAC within a VNI.)
 *
 * A bad file is reported with its line and column and what is wrong; the
 * reader keeps the last good mappings.  Good files take a fast path
 * (JSON.parse); only a bad one is parsed again to find where it is wrong.  Writers take a lock file and replace
 * the file atomically (write, fsync, rename), so a reader never sees half a
 * file.  Every mapping of one load carries the file's modification time in
 * microseconds as its revision.
 */
import { closeSync, existsSync, fstatSync, fsyncSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { parseTree, printParseErrorCode, type Node, type ParseError } from 'jsonc-parser';
import {
  canonicalIp, checkMapping, ipKey, MappingConflictError, mappingIps, mappingKey, MappingError, type Mapping, type MappingInput,
} from './mapping.ts';
import { ipBytes } from './parse.ts';
import { DuplicateMappingError, MappingTable } from './table.ts';

export class DirectoryFileError extends Error {
  constructor(readonly file: string, readonly line: number, readonly column: number, readonly detail: string) {
    super(`${file}:${line}:${column}: ${detail}`);
    this.name = 'DirectoryFileError';
  }
}

function lineCol(text: string, offset: number): [number, number] {
  let line = 1;
  let col = 1;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text[i] === '\n') {
      line++;
      col = 1;
    } else col++;
  }
  return [line, col];
}

function value(n: Node | undefined): unknown {
  if (!n) return undefined;
  switch (n.type) {
    case 'object':
      return Object.fromEntries((n.children ?? []).map((p) => [p.children?.[0]?.value as string, value(p.children?.[1])]));
    case 'array':
      return (n.children ?? []).map(value);
    default:
      return n.value;
  }
}

/**
 * The file's mappings, checked, by the fast path: JSON.parse, then each
 * mapping checked in turn.  undefined when anything is wrong (then the slow
 * path below finds where, for the message).  Duplicates are not looked for.
 */
export function checkedMappings(text: string): MappingInput[] | undefined {
  let root: unknown;
  try {
    root = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (root === null || typeof root !== 'object' || Array.isArray(root)) return undefined;
  const o = root as Record<string, unknown>;
  for (const k of Object.keys(o)) if (k !== 'version' && k !== 'mappings') return undefined;
  if (o.version !== undefined && o.version !== 1) return undefined;
  if (!Array.isArray(o.mappings)) return undefined;
  const list = o.mappings as unknown[];
  const out = new Array<MappingInput>(list.length);
  const vteps = new Map<string, boolean>();     // a node hosts many MACs: check each VTEP once
  for (let i = 0; i < list.length; i++) {
    const m = quickCheck(list[i], vteps);
    if (!m) return undefined;
    out[i] = m;
  }
  return out;
}

const CANONICAL_MAC = /^[0-9a-f]{2}:[0-9a-f]{2}:[0-9a-f]{2}:[0-9a-f]{2}:[0-9a-f]{2}:[0-9a-f]{2}$/;

/**
 * checkMapping()'s rules, minus its messages, for the common case (a
 * canonical MAC, VTEPs that repeat); anything else goes through
 * checkMapping itself.  undefined: not a valid mapping.
 */
function quickCheck(v: unknown, vteps: Map<string, boolean>): MappingInput | undefined {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return undefined;
  const o = v as Record<string, unknown>;
  const { vni, mac, vtep, port, ip, ip6 } = o;
  let n = 3;
  if (port !== undefined) n++;
  if (ip !== undefined) n++;
  if (ip6 !== undefined) n++;
  if (typeof mac !== 'string' || typeof vtep !== 'string' || Object.keys(o).length !== n ||
      !('vni' in o) || !('mac' in o) || !('vtep' in o)) {
    return slowCheck(v);
  }
  if (typeof vni !== 'number' || !Number.isInteger(vni) || vni < 1 || vni > 0xffffff) return undefined;
  if (port !== undefined && (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535)) return undefined;
  if (!CANONICAL_MAC.test(mac)) return slowCheck(v);
  if ((parseInt(mac.slice(0, 2), 16) & 1) !== 0 || mac === '00:00:00:00:00:00') return undefined;
  let ok = vteps.get(vtep);
  if (ok === undefined) {
    ok = ipBytes(vtep) !== null;
    vteps.set(vtep, ok);
  }
  if (!ok) return undefined;
  const out: MappingInput = port === undefined ? { vni, mac, vtep } : { vni, mac, vtep, port };
  if (ip !== undefined) {
    const c = canonicalIp(ip, 4);
    if (c === undefined) return undefined;
    out.ip = c;
  }
  if (ip6 !== undefined) {
    const c = canonicalIp(ip6, 6);
    if (c === undefined) return undefined;
    out.ip6 = c;
  }
  return out;
}

function slowCheck(v: unknown): MappingInput | undefined {
  try {
    return checkMapping(v, 'mapping');
  } catch (e) {
    if (e instanceof MappingError) return undefined;
    throw e;
  }
}

/**
 * Parse a mapping file's text; throws DirectoryFileError with line and
 * column.  A good file takes the fast path (JSON.parse: a 200,000-entry file
 * in well under a second); only a bad one is parsed again with jsonc-parser,
 * whose syntax tree says where the problem is (and costs ten times as much).
 */
export function parseMappingFile(text: string, file: string, revision: bigint): Mapping[] {
  const fast = checkedMappings(text);
  if (fast) {
    const seen = new Set<string>();
    let dup = false;
    for (const m of fast) {
      const keys = [mappingKey(m.vni, m.mac), ...mappingIps(m).map((ip) => `ip:${ipKey(m.vni, ip)}`)];
      if (keys.some((k) => seen.has(k))) {
        dup = true;
        break;
      }
      for (const k of keys) seen.add(k);
    }
    if (!dup) return fast.map((m) => ({ ...m, revision }));
  }
  return parseWithPositions(text, file, revision);
}

/** The error of a bad file, with its line and column (the slow path). */
export function mappingFileError(text: string, file: string): DirectoryFileError | undefined {
  try {
    parseWithPositions(text, file, 0n);
  } catch (e) {
    if (e instanceof DirectoryFileError) return e;
    throw e;
  }
  return undefined;
}

/** The slow path: jsonc-parser's syntax tree, so every error has a position. */
function parseWithPositions(text: string, file: string, revision: bigint): Mapping[] {
  const errors: ParseError[] = [];
  const root = parseTree(text, errors, { allowTrailingComma: false, disallowComments: true });
  const fail = (offset: number, detail: string): never => {
    const [line, col] = lineCol(text, offset);
    throw new DirectoryFileError(file, line, col, detail);
  };
  if (errors.length > 0) fail(errors[0]!.offset, `not valid JSON: ${printParseErrorCode(errors[0]!.error)}`);
  if (!root || root.type !== 'object') fail(root?.offset ?? 0, 'expected an object {"version": 1, "mappings": [...]}');
  const props = new Map((root!.children ?? []).map((p) => [p.children?.[0]?.value as string, p]));
  for (const [k, p] of props) {
    if (k !== 'version' && k !== 'mappings') fail(p.offset, `unknown field "${k}" (expected version, mappings)`);
  }
  const version = props.get('version')?.children?.[1];
  if (version && version.value !== 1) fail(version.offset, `version: expected 1, got ${JSON.stringify(version.value)}`);
  const list = props.get('mappings')?.children?.[1];
  if (!list || list.type !== 'array') fail(list?.offset ?? root!.offset, 'mappings: expected an array of {vni, mac, vtep[, port, ip, ip6]}');
  const seen = new Map<string, number>();
  const seenIp = new Map<string, number>();
  return (list!.children ?? []).map((n, i) => {
    let m: MappingInput;
    try {
      m = checkMapping(value(n), `mappings[${i}]`);
    } catch (e) {
      if (!(e instanceof MappingError)) throw e;
      const field = e.field.split('.')[1];
      const at = field ? (n.children ?? []).find((p) => p.children?.[0]?.value === field) : undefined;
      return fail((at ?? n).offset, e.message);
    }
    const key = mappingKey(m.vni, m.mac);
    if (seen.has(key)) fail(n.offset, `mappings[${i}]: VNI ${m.vni} MAC ${m.mac} is already mapped by mappings[${seen.get(key)}]`);
    seen.set(key, i);
    for (const ip of mappingIps(m)) {
      const k = ipKey(m.vni, ip);
      const at = (n.children ?? []).find((p) => p.children?.[0]?.value === (ip.includes(':') ? 'ip6' : 'ip'));
      if (seenIp.has(k)) fail((at ?? n).offset, `mappings[${i}]: VNI ${m.vni} IP ${ip} is already mapped by mappings[${seenIp.get(k)}]: an IP has one MAC within a VNI`);
      seenIp.set(k, i);
    }
    return { ...m, revision };
  });
}

/** The revision a file's contents carry: its mtime in microseconds. */
export function fileRevision(path: string): bigint {
  return BigInt(Math.floor(statSync(path).mtimeMs * 1000));
}

export function readMappingFile(path: string): Mapping[] {
  if (!existsSync(path)) return [];
  return parseMappingFile(readFileSync(path, 'utf8'), path, fileRevision(path));
}

/**
 * A mapping file as a MappingTable (what the agent answers from; the file
 * loader's worker runs this).  No file is an empty directory.  The revision
 * is the mtime of the very file read: it is opened once, stat'ed and read
 * through the same descriptor, so a replacement racing the read is either
 * wholly in or wholly out.
 */
export function loadMappingTable(path: string): MappingTable {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return MappingTable.empty(BigInt(Date.now()) * 1000n);
    throw e;
  }
  let text: string;
  let revision: bigint;
  try {
    revision = BigInt(Math.floor(fstatSync(fd).mtimeMs * 1000));
    text = readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
  const fast = checkedMappings(text);
  if (fast) {
    try {
      return MappingTable.build(fast, revision);
    } catch (e) {
      if (!(e instanceof DuplicateMappingError)) throw e;
    }
  }
  throw mappingFileError(text, path) ?? new DirectoryFileError(path, 1, 1, 'not a mapping file');
}

/** Hold path.lock while fn runs; a lock left by a dead process is taken over. */
function withLock<T>(path: string, fn: () => T): T {
  const lock = `${path}.lock`;
  const deadline = Date.now() + 5000;
  for (;;) {
    try {
      const fd = openSync(lock, 'wx', 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const owner = Number(readFileSync(lock, 'utf8') || 0);
      let alive = owner > 0;
      try {
        if (alive) process.kill(owner, 0);
      } catch {
        alive = false;
      }
      if (!alive) {
        try { unlinkSync(lock); } catch { /* someone else took it over */ }
        continue;
      }
      if (Date.now() > deadline) throw new Error(`${lock}: held by process ${owner}`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
    }
  }
  try {
    return fn();
  } finally {
    try { unlinkSync(lock); } catch { /* already gone */ }
  }
}

function writeAtomically(path: string, text: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w', 0o644);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

function render(mappings: MappingInput[]): string {
  const rows = mappings
    .slice()
    .sort((a, b) => a.vni - b.vni || a.mac.localeCompare(b.mac))
    .map(({ vni, mac, vtep, port, ip, ip6 }) => `    ${JSON.stringify({ vni, mac, vtep, ...(port === undefined ? {} : { port }), ...(ip === undefined ? {} : { ip }), ...(ip6 === undefined ? {} : { ip6 }) })}`);
  return `{\n  "version": 1,\n  "mappings": [\n${rows.join(',\n')}\n  ]\n}\n`;
}

/**
 * Read-modify-write under the lock.  A change that would give an address
 * of a VNI to two MACs is refused (MappingConflictError) and nothing is
 * written.
 */
export function updateMappingFile(path: string, change: (current: Map<string, MappingInput>) => void): void {
  withLock(path, () => {
    const current = new Map(readMappingFile(path).map((m) => {
      const { revision: _revision, ...rest } = m;
      return [mappingKey(m.vni, m.mac), rest as MappingInput];
    }));
    const before = new Map<string, string>();
    for (const m of current.values()) for (const ip of mappingIps(m)) before.set(ipKey(m.vni, ip), m.mac);
    change(current);
    const owner = new Map<string, string>();
    for (const m of current.values()) {
      for (const ip of mappingIps(m)) {
        const k = ipKey(m.vni, ip);
        const other = owner.get(k);
        if (other !== undefined) {
          // Name the mapping that was there first.
          const first = before.get(k) === m.mac ? m.mac : other;
          throw new MappingConflictError(m.vni, ip, first, path);
        }
        owner.set(k, m.mac);
      }
    }
    writeAtomically(path, render([...current.values()]));
  });
}
