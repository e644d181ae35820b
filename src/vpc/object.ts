// SPDX-License-Identifier: BSD-2-Clause
/**
 * What every vpc object has: a handle (a descriptor in this process), an id,
 * a type; transactions, commit, destroy, info.  A handle closed here is never
 * used again: its number may already belong to another file.
 */
import {
  backend, errnoNumber, OBJECT_TYPES, VPC_ABI_VERSION, VPC_FLAG_CREATE, VPC_FLAG_DEFAULT, VPC_FLAG_OPEN,
  VPC_OP_COMMIT, VPC_OP_DESTROY, VPC_OP_GET_INFO, VPC_OP_GET_TXN,
  VPC_OBJ_COMMITTED, VPC_OBJ_OWNED, VPC_OBJ_PLUGGED,
} from '../ffi/index.ts';
import { VpcBadHandleError, vpcError } from './errors.ts';
import { idBytes, idFromBytes, isNilId, type Id } from './ids.ts';
import { closeHandle, ctlGet, ctlSet, txnKey, type Target } from './kernel.ts';

export type ObjectType = 'vmnic' | 'switch' | 'port' | 'router' | 'nat' | 'link' | 'vcc';

/**
 * The API's name for each object type of vpc.h (VPC_TYPE_NIC is a 'vmnic');
 * the numbers come from vpc.h, and a VPC_TYPE_* added there does not compile
 * here until it has a name.
 */
const apiNames: { readonly [C in keyof typeof OBJECT_TYPES]: ObjectType } = {
  NIC: 'vmnic', SWITCH: 'switch', SWPORT: 'port', ROUTER: 'router', NAT: 'nat', LINK: 'link', VCC: 'vcc',
};
const typeEntries = Object.entries(apiNames).map(([c, name]) => [OBJECT_TYPES[c as keyof typeof OBJECT_TYPES], name] as const);
export const typeNames: Readonly<Record<number, ObjectType>> = Object.fromEntries(typeEntries);
export const typeNumbers = Object.fromEntries(typeEntries.map(([n, name]) => [name, n])) as Readonly<Record<ObjectType, number>>;

export interface TxnOption {
  /** A token from txn(); 0 or absent: unconditional. */
  txn?: number | undefined;
}

export interface ObjectInfo {
  id: Id;
  type: ObjectType;
  parentId: Id | undefined;
  generation: number;
  committed: boolean;
  owned: boolean;
  plugged: boolean;
  handles: number;
  serial: number;
}

export function objectInfoFrom(v: {
  id: number[]; parent_id: number[]; type: number; generation: number; flags: number;
  handles: number; serial: number;
}): ObjectInfo {
  return {
    id: idFromBytes(v.id),
    type: typeNames[(v.type >> 8) & 0xff] ?? 'vmnic',
    parentId: isNilId(v.parent_id) ? undefined : idFromBytes(v.parent_id),
    generation: v.generation,
    committed: (v.flags & VPC_OBJ_COMMITTED) !== 0,
    owned: (v.flags & VPC_OBJ_OWNED) !== 0,
    plugged: (v.flags & VPC_OBJ_PLUGGED) !== 0,
    handles: v.handles,
    serial: v.serial,
  };
}

export abstract class VpcObject {
  #handle: number;
  readonly id: Id;
  abstract readonly type: ObjectType;

  protected constructor(handle: number, id: Id) {
    this.#handle = handle;
    this.id = id;
  }

  /** The descriptor, for passing to another process; -1 once closed. */
  get handle(): number {
    return this.#handle;
  }

  get closed(): boolean {
    return this.#handle < 0;
  }

  protected target(op = 'vpc_ctl'): Target {
    if (this.#handle < 0) {
      throw new VpcBadHandleError(errnoNumber('EBADF'), { op, objectId: this.id, objectType: this.type },
        'this handle was closed');
    }
    return { handle: this.#handle, id: this.id, typeName: this.type };
  }

  /** A fresh transaction token bound to the object's current generation. */
  txn(): number {
    return ctlGet(this.target('VPC_OP_GET_TXN'), VPC_OP_GET_TXN, 'vpc_txn_t');
  }

  info(): ObjectInfo {
    return objectInfoFrom(ctlGet(this.target('VPC_OP_GET_INFO'), VPC_OP_GET_INFO, 'vpc_obj_info_t'));
  }

  /** Make the object outlive its handles. */
  commit(opts: TxnOption = {}): void {
    ctlSet(this.target('VPC_OP_COMMIT'), VPC_OP_COMMIT, txnKey(opts.txn));
  }

  /** Remove the object now; other handles to it see EIDRM. The handle stays open. */
  destroy(opts: TxnOption = {}): void {
    ctlSet(this.target('VPC_OP_DESTROY'), VPC_OP_DESTROY, txnKey(opts.txn));
  }

  /** Release the handle; an uncommitted object with no other handle goes. */
  close(): void {
    if (this.#handle < 0) return;
    const h = this.#handle;
    this.#handle = -1;
    const errno = closeHandle(h);
    if (errno !== 0) throw vpcError(errno, { op: 'close', objectId: this.id, objectType: this.type });
  }
}

export type OpenMode = 'create' | 'open' | 'default';
const modeFlags: Record<OpenMode, number> = {
  create: VPC_FLAG_CREATE, open: VPC_FLAG_OPEN, default: VPC_FLAG_DEFAULT,
};

/** The type word of vpc_open: version in bits 0-3, object type in bits 8-15. */
export function typeWord(type: ObjectType): number {
  return VPC_ABI_VERSION | (typeNumbers[type] << 8);
}

/** vpc_open(); throws VpcError (EEXIST, ENOENT, EINVAL, EPERM...). */
export function openHandle(id: Id, type: ObjectType, mode: OpenMode): number {
  const h = backend().open(idBytes(id), typeWord(type), modeFlags[mode]);
  if (h < 0) throw vpcError(-h, { op: 'vpc_open', objectId: id, objectType: type });
  return h;
}
