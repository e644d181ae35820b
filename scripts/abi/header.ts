// SPDX-License-Identifier: BSD-2-Clause
/**
 * What an ABI header declares, as clang-19 parses it: every struct and union
 * with its fields in order (names and declared types only: sizes and offsets
 * come from the C compiler, through kmod/build/abi_dump), every scalar
 * typedef, and every constant (object-like macro).  clang's AST, not a
 * parser of ours, so whatever C the header uses is read as a compiler reads
 * it.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';

export const CLANG = process.env.VPC_CLANG ?? 'clang-19';

export type FieldShape = 'scalar' | 'array' | 'nested';

export interface HeaderField {
  name: string;
  shape: FieldShape;
  /** The declared type; for an array, its element's (e.g. uint8_t, vpc_exact64_t). */
  ctype: string;
}

export interface HeaderRecord {
  /** How C names the type: a typedef name, or "struct tag". */
  ctype: string;
  /** The name the ABI uses for it: the typedef name, or the bare tag. */
  name: string;
  union: boolean;
  header: string;
  fields: HeaderField[];
  /** Other names of a field (the seed's `txn_t` for `txn`): [alias, field]. */
  aliases: Array<[string, string]>;
}

export interface HeaderConstant {
  name: string;
  header: string;
  /** The comment at the end of its #define line, if any. */
  comment: string | undefined;
}

export interface HeaderModel {
  records: HeaderRecord[];
  /** Typedefs of integer types (vpc_txn_t, vpc_exact64_t, ...). */
  typedefs: Array<{ name: string; header: string }>;
  constants: HeaderConstant[];
}

interface AstNode {
  id?: string;
  kind?: string;
  name?: string;
  tagUsed?: 'struct' | 'union';
  completeDefinition?: boolean;
  isImplicit?: boolean;
  loc?: unknown;
  type?: { qualType: string; desugaredQualType?: string };
  ownedTagDecl?: { id: string };
  inner?: AstNode[];
}

function clang(args: string[], includeDirs: string[]): string {
  return execFileSync(CLANG, ['-x', 'c', '-std=c11', ...includeDirs.map((d) => `-I${d}`), ...args], {
    encoding: 'utf8', maxBuffer: 256 * 1024 * 1024,
  });
}

/**
 * clang's JSON AST names a location's file only where it differs from the
 * location printed just before, so the file of a declaration is found by
 * walking every location in print order.
 */
function topLevelByFile(tu: AstNode, file: string): AstNode[] {
  let current = '';
  const track = (v: unknown): void => {
    if (v === null || typeof v !== 'object') return;
    if (Array.isArray(v)) {
      v.forEach(track);
      return;
    }
    const o = v as Record<string, unknown>;
    if (typeof o.file === 'string' && 'offset' in o) current = o.file;
    for (const [k, x] of Object.entries(o)) if (k !== 'includedFrom') track(x);
  };
  const out: AstNode[] = [];
  for (const node of tu.inner ?? []) {
    track(node.loc);
    if (current === file) out.push(node);
    track({ range: (node as Record<string, unknown>).range, inner: node.inner });
  }
  return out;
}

const recordTypeName = (qualType: string): boolean => /^(struct|union) /.test(qualType);

function fieldOf(where: string, name: string, qualType: string, records: Set<string>): HeaderField {
  if (qualType.includes('*')) throw new Error(`${where}.${name}: pointers have no place in an ABI struct (${qualType})`);
  const arr = /^(.+?)\s*\[(\d+)\]$/.exec(qualType);
  if (arr !== null) {
    const elem = arr[1]!;
    if (elem.includes('[') || records.has(elem) || recordTypeName(elem)) {
      throw new Error(`${where}.${name}: only one-dimensional arrays of integers are supported (${qualType})`);
    }
    return { name, shape: 'array', ctype: elem };
  }
  if (records.has(qualType) || recordTypeName(qualType)) {
    if (qualType.includes('(unnamed') || qualType.includes('(anonymous')) {
      throw new Error(`${where}.${name}: give the nested struct or union a type name of its own`);
    }
    return { name, shape: 'nested', ctype: qualType };
  }
  return { name, shape: 'scalar', ctype: qualType };
}

/**
 * An anonymous union inside a struct is accepted only as a set of aliases:
 * members of one type (vpc.h's VPC_TXN_FIELD, `txn_t` and `txn`).  The ABI
 * names the field after the last member, the others are its aliases.
 */
function aliasUnion(where: string, u: AstNode, records: Set<string>): { field: HeaderField; aliases: string[] } {
  const members = (u.inner ?? []).filter((n) => n.kind === 'FieldDecl');
  const types = new Set(members.map((m) => m.type!.qualType));
  if (u.tagUsed !== 'union' || members.length === 0 || types.size !== 1) {
    throw new Error(`${where}: an anonymous struct or union is only accepted as aliases of one type`);
  }
  const last = members[members.length - 1]!;
  return {
    field: fieldOf(where, last.name!, last.type!.qualType, records),
    aliases: members.slice(0, -1).map((m) => m.name!),
  };
}

function recordOf(node: AstNode, ctype: string, header: string, records: Set<string>): HeaderRecord {
  const rec: HeaderRecord = {
    ctype, name: ctype.replace(/^(struct|union) /, ''), union: node.tagUsed === 'union', header, fields: [], aliases: [],
  };
  let nested: AstNode | undefined;
  for (const n of node.inner ?? []) {
    if (n.kind === 'RecordDecl') {
      nested = n;
    } else if (n.kind === 'FieldDecl' && n.isImplicit === true) {
      if (nested === undefined) throw new Error(`${ctype}: an implicit field without its anonymous record`);
      const { field, aliases } = aliasUnion(ctype, nested, records);
      rec.fields.push(field);
      for (const a of aliases) rec.aliases.push([a, field.name]);
      nested = undefined;
    } else if (n.kind === 'FieldDecl') {
      rec.fields.push(fieldOf(ctype, n.name!, n.type!.qualType, records));
    }
  }
  return rec;
}

function readDeclarations(path: string, includeDirs: string[]): Omit<HeaderModel, 'constants'> {
  const tu = JSON.parse(clang(['-Xclang', '-ast-dump=json', '-fsyntax-only', path], includeDirs)) as AstNode;
  const header = basename(path);
  const records = new Set<string>();
  for (const n of tu.inner ?? []) {
    if (n.kind === 'TypedefDecl' && recordTypeName(n.type!.qualType)) records.add(n.name!);
  }
  const mine = topLevelByFile(tu, path);
  const out: Omit<HeaderModel, 'constants'> = { records: [], typedefs: [] };
  const pending = new Map<string, AstNode>();
  const flushPending = (): void => {
    for (const n of pending.values()) out.records.push(recordOf(n, `${n.tagUsed!} ${n.name!}`, header, records));
    pending.clear();
  };
  for (const n of mine) {
    if (n.kind === 'RecordDecl' && n.completeDefinition === true) {
      flushPending();
      pending.set(n.id!, n);
    } else if (n.kind === 'TypedefDecl') {
      const owned = n.inner?.[0]?.ownedTagDecl?.id;
      const rec = owned === undefined ? undefined : pending.get(owned);
      if (rec !== undefined) {
        pending.delete(owned!);
        out.records.push(recordOf(rec, n.name!, header, records));
      } else if (!records.has(n.name!)) {
        out.typedefs.push({ name: n.name!, header });
      }
    }
  }
  flushPending();
  return out;
}

/**
 * Object-like macros the header itself defines (not its includes), through
 * the preprocessor so that conditionals are honoured.  A macro whose body
 * declares something (VPC_TXN_FIELD's union) is not a value; names starting
 * with '_' are include guards.
 */
function readConstants(path: string, includeDirs: string[]): HeaderConstant[] {
  const header = basename(path);
  const lines = readFileSync(path, 'utf8').split('\n');
  /* The comment that starts on its #define line, also when it runs on over
   * the next lines (each continuation joined with a space). */
  const commentOf = (name: string): string | undefined => {
    const at = lines.findIndex((l) => new RegExp(`^#\\s*define\\s+${name}\\b`).test(l));
    if (at < 0) return undefined;
    const open = /\/\*\s*(.*)$/.exec(lines[at]!);
    if (open === null) return undefined;
    let text = open[1]!;
    for (let i = at + 1; !text.includes('*/') && i < lines.length; i++) text += ` ${lines[i]!.trim().replace(/^\*\s?/, '')}`;
    const end = text.indexOf('*/');
    return end < 0 ? undefined : text.slice(0, end).replace(/\s+/g, ' ').trim();
  };
  let file = '';
  const out: HeaderConstant[] = [];
  for (const line of clang(['-E', '-dD', path], includeDirs).split('\n')) {
    const marker = /^# \d+ "(.*)"/.exec(line);
    if (marker !== null) {
      file = marker[1]!;
      continue;
    }
    const def = /^#define ([A-Za-z_][A-Za-z0-9_]*)( (.*))?$/.exec(line);
    if (def === null || file !== path) continue;
    const [, name, , body] = def;
    if (name!.startsWith('_') || body === undefined || body.trim() === '' || body.includes('{')) continue;
    out.push({ name: name!, header, comment: commentOf(name!) });
  }
  return out;
}

/** One header, read through clang. */
export function readHeader(path: string, includeDirs: string[]): HeaderModel {
  return { ...readDeclarations(path, includeDirs), constants: readConstants(path, includeDirs) };
}
