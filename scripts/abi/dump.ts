// SPDX-License-Identifier: BSD-2-Clause
/**
 * The ABI as the C compiler lays it out: the JSON kmod/build/abi_dump prints
 * (kmod/tools/abi_dump.c), typed.
 */
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';

/** An integer type as abi_dump names it; "char" is a byte of a string. */
export type IntType = 'int8' | 'uint8' | 'int16' | 'uint16' | 'int32' | 'uint32' | 'int64' | 'uint64' | 'char';

export interface DumpField {
  name: string;
  shape: 'scalar' | 'array' | 'nested';
  offset: number;
  size: number;
  /** An IntType (of the element, for an array), or the nested record's name. */
  type: string;
  /** Elements of an array; 1 otherwise. */
  count: number;
  /** The type as the header spells it (for an array, the element's). */
  ctype: string;
  /** Named _padN: must be zero, carries no meaning. */
  padding: boolean;
}

export interface DumpRecord {
  ctype: string;
  header: string;
  union: boolean;
  size: number;
  fields: DumpField[];
  /** Other names of a field: alias -> field. */
  aliases: Record<string, string>;
}

export interface DumpOp {
  op: number;
  name: string;
  /** Bit (1 << VPC_TYPE_*) per object type the op applies to; bit 0: VPC_HANDLE_NONE. */
  types: number;
  /** The key's type (a record or an integer type), or null: no key. */
  key: string | null;
  keysz: number;
  value: string | null;
  valsz: number;
  keyArray: boolean;
  valArray: boolean;
  mutating: boolean;
  privileged: boolean;
  /** What the glue probes the caller's buffers for before running it (vpc_opdesc_changes_state). */
  changesState: boolean;
  handleOff: number;
}

export interface AbiDump {
  records: Record<string, DumpRecord>;
  /** vpc.h's integer typedefs. */
  types: Record<string, { size: number; type: IntType }>;
  /** Every constant's value, as a decimal string (it may not fit a double). */
  constants: Record<string, string>;
  errnos: Record<string, number>;
  objectTypes: Record<string, number>;
  ops: DumpOp[];
}

export const INT_TYPES: readonly IntType[] = ['int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64', 'char'];

/** The stdint name of an integer type (char arrays are bytes: uint8_t). */
export function stdintName(t: IntType): string {
  return t === 'char' ? 'uint8_t' : `${t}_t`;
}

/** uint64_t -> uint64: the integer types an op may name as its key or value. */
export function intTypeOfStdint(name: string): IntType | undefined {
  const m = /^(u?int(?:8|16|32|64))_t$/.exec(name);
  return m === null ? undefined : (m[1] as IntType);
}

export function runAbiDump(buildDir: string): AbiDump {
  return JSON.parse(execFileSync(resolve(buildDir, 'abi_dump'), { encoding: 'utf8' })) as AbiDump;
}
