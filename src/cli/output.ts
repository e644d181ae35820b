// SPDX-License-Identifier: BSD-2-Clause
/**
 * vpcctl's output: --json prints a stable JSON shape (documented per command
 * in docs/vpcctl.md), otherwise a readable table or key/value list.
 */
let json = false;

export function setJson(on: boolean): void {
  json = on;
}

export function isJson(): boolean {
  return json;
}

function plain(v: unknown): unknown {
  if (typeof v === 'bigint') return v.toString();
  if (Array.isArray(v)) return v.map(plain);
  if (v !== null && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v).filter(([, x]) => x !== undefined).map(([k, x]) => [k, plain(x)]));
  }
  return v;
}

function cell(v: unknown): string {
  if (v === undefined || v === null) return '-';
  if (Array.isArray(v)) return v.length === 0 ? '-' : v.join(',');
  if (typeof v === 'object') return JSON.stringify(plain(v));
  return String(v);
}

export function table(rows: Array<Record<string, unknown>>, columns: string[]): string {
  const cells = rows.map((r) => columns.map((c) => cell(r[c])));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((x, i) => x.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(columns.map((c) => c.toUpperCase())), ...cells.map(line)].join('\n');
}

export function keyValues(o: Record<string, unknown>): string {
  const w = Math.max(...Object.keys(o).map((k) => k.length));
  return Object.entries(o).map(([k, v]) => `${k.padEnd(w)}  ${cell(v)}`).join('\n');
}

/** One object: key/value lines, or JSON. */
export function showOne(o: Record<string, unknown>): void {
  process.stdout.write(`${json ? JSON.stringify(plain(o), null, 2) : keyValues(o)}\n`);
}

/** A list: a table, or a JSON array. */
export function showList(rows: Array<Record<string, unknown>>, columns: string[]): void {
  process.stdout.write(`${json ? JSON.stringify(plain(rows), null, 2) : rows.length === 0 ? '(none)' : table(rows, columns)}\n`);
}

/** What a create prints: the new id (JSON: {"id": ...}). */
export function showId(id: string, extra: Record<string, unknown> = {}): void {
  process.stdout.write(`${json ? JSON.stringify(plain({ id, ...extra }), null, 2) : id}\n`);
}

/** Commands that change something and have nothing to show. */
export function showDone(o: Record<string, unknown> = {}): void {
  if (json) process.stdout.write(`${JSON.stringify(plain({ ok: true, ...o }), null, 2)}\n`);
}
