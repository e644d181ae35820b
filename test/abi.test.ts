/**
 * The ABI as the C compiler lays it out (kmod/build/abi_dump, built from
 * vpc.h) against koffi's layout in src/ffi: every struct's size and every
 * field's offset; and the generated op table is current.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { test } from 'node:test';
import { fieldsOf, sizeOf, structNames, type StructName } from '../src/ffi/index.ts';
import { dumpAbi, renderAbi } from '../scripts/gen-abi.ts';
import { root } from './helpers/paths.ts';

const dump = JSON.parse(dumpAbi()) as {
  structs: Record<string, { size: number; fields: Record<string, number> }>;
};

test('every C struct has a koffi twin of the same size and field offsets', () => {
  for (const [name, c] of Object.entries(dump.structs)) {
    assert.ok(structNames.includes(name as StructName), `${name} has no koffi type`);
    assert.equal(sizeOf(name as StructName), c.size, `sizeof(${name})`);
    const k = fieldsOf(name as StructName);
    for (const [field, off] of Object.entries(c.fields)) {
      assert.equal(k[field], off, `offsetof(${name}, ${field})`);
    }
  }
});

test('scalar ABI types have their C sizes', () => {
  assert.equal(sizeOf('vpc_txn_t'), 4);
  assert.equal(sizeOf('vpc_type_t'), 8);
});

test('src/ffi/abi.generated.ts matches the C op table (npm run gen:abi)', () => {
  const current = readFileSync(resolve(root, 'src/ffi/abi.generated.ts'), 'utf8');
  assert.equal(current, renderAbi(dumpAbi()), 'regenerate with `npm run gen:abi`');
});
