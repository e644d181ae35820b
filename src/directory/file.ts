/**
 * The file directory, the embedded default: one JSON file
 *
 *   { "version": 1,
 *     "mappings": [ { "vni": 100, "mac": "02:00:00:00:02:02", "vtep": "198.51.100.2" } ] }
 *
 * A bad file is reported with its line and column and what is wrong; the
 * reader keeps the last good mappings.  Writers take a lock file and replace
 * the file atomically (write, fsync, rename), so a reader never sees half a
 * file.  Every mapping of one load carries the file's modification time in
 * microseconds as its revision.
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { parseTree, printParseErrorCode, type Node, type ParseError } from 'jsonc-parser';
import { checkMapping, mappingKey, MappingError, type Mapping, type MappingInput } from './mapping.ts';

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

/** Parse a mapping file's text; throws DirectoryFileError with line and column. */
export function parseMappingFile(text: string, file: string, revision: bigint): Mapping[] {
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
  if (!list || list.type !== 'array') fail(list?.offset ?? root!.offset, 'mappings: expected an array of {vni, mac, vtep[, port]}');
  const seen = new Map<string, number>();
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
    .map(({ vni, mac, vtep, port }) => `    ${JSON.stringify(port === undefined ? { vni, mac, vtep } : { vni, mac, vtep, port })}`);
  return `{\n  "version": 1,\n  "mappings": [\n${rows.join(',\n')}\n  ]\n}\n`;
}

/** Read-modify-write under the lock. */
export function updateMappingFile(path: string, change: (current: Map<string, MappingInput>) => void): void {
  withLock(path, () => {
    const current = new Map(readMappingFile(path).map((m) => {
      const { revision: _revision, ...rest } = m;
      return [mappingKey(m.vni, m.mac), rest as MappingInput];
    }));
    change(current);
    writeAtomically(path, render([...current.values()]));
  });
}
