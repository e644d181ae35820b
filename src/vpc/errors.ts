// SPDX-License-Identifier: BSD-2-Clause
/**
 * Errors of the vpc API: one class per errno a caller may want to catch, all
 * carrying the errno's number and name, the op and the object it concerned.
 */
import { errnoName } from '../ffi/index.ts';

const explain: Record<string, string> = {
  EPERM: 'not permitted (needs a privileged handle)',
  ENOENT: 'no such object',
  EBADF: 'not an open vpc handle',
  EEXIST: 'already exists',
  EINVAL: 'invalid argument',
  ENOTTY: 'operation does not apply to this object type',
  EOPNOTSUPP: 'not supported',
  ESTALE: 'changed by someone else since the transaction token was issued',
  EIDRM: 'the object was destroyed',
  EBUSY: 'in use',
  ENOSPC: 'no room left',
  ERANGE: 'buffer too small or value out of range',
  E2BIG: 'argument too large',
  EALREADY: 'already done',
  ENOMEM: 'out of memory',
  EMFILE: 'out of descriptors (the vpc kernel\'s, or this process\'s)',
  EACCES: 'permission denied: the vpc kernel is not open to this user (run as root, or as vpc-hostd\'s user)',
  EAGAIN: 'the kernel is busy with earlier work (removing interfaces); try again shortly',
  ECONNREFUSED: 'the vpc kernel is not reachable',
  ECONNRESET: 'the vpc kernel went away',
};

export interface VpcErrorContext {
  op: string;
  objectId?: string | undefined;
  objectType?: string | undefined;
  /** For ERANGE: the bytes the kernel said it needs. */
  needed?: number | undefined;
}

export class VpcError extends Error {
  readonly errno: number;
  readonly code: string;
  readonly op: string;
  readonly objectId: string | undefined;
  readonly needed: number | undefined;

  constructor(errno: number, ctx: VpcErrorContext, detail?: string) {
    const code = errnoName(errno);
    const what = ctx.objectId ? ` on ${ctx.objectType ?? 'object'} ${ctx.objectId}` : '';
    super(`${code}: ${ctx.op}${what}: ${detail ?? explain[code] ?? 'failed'}`);
    this.name = new.target.name;
    this.errno = errno;
    this.code = code;
    this.op = ctx.op;
    this.objectId = ctx.objectId;
    this.needed = ctx.needed;
  }
}

export class VpcPermissionError extends VpcError {}
export class VpcNotFoundError extends VpcError {}
export class VpcExistsError extends VpcError {}
export class VpcInvalidError extends VpcError {}
export class VpcStaleError extends VpcError {}
export class VpcBusyError extends VpcError {}
export class VpcBadHandleError extends VpcError {}
export class VpcRemovedError extends VpcError {}
export class VpcNotSupportedError extends VpcError {}
export class VpcNoSpaceError extends VpcError {}
export class VpcRangeError extends VpcError {}
/** Refused for now, nothing changed: the same call may succeed shortly. */
export class VpcTryAgainError extends VpcError {}
/** The kernel (vpc-hostd, or the module) cannot be reached. */
export class VpcUnavailableError extends VpcError {}

const byCode: Record<string, new (errno: number, ctx: VpcErrorContext, detail?: string) => VpcError> = {
  EPERM: VpcPermissionError,
  EACCES: VpcPermissionError,
  ENOENT: VpcNotFoundError,
  EEXIST: VpcExistsError,
  EINVAL: VpcInvalidError,
  E2BIG: VpcInvalidError,
  ESTALE: VpcStaleError,
  EBUSY: VpcBusyError,
  EBADF: VpcBadHandleError,
  EIDRM: VpcRemovedError,
  ENOTTY: VpcNotSupportedError,
  EOPNOTSUPP: VpcNotSupportedError,
  ENOSPC: VpcNoSpaceError,
  ERANGE: VpcRangeError,
  EAGAIN: VpcTryAgainError,
  ECONNREFUSED: VpcUnavailableError,
  ECONNRESET: VpcUnavailableError,
};

export function vpcError(errno: number, ctx: VpcErrorContext, detail?: string): VpcError {
  const Cls = byCode[errnoName(errno)] ?? VpcError;
  return new Cls(errno, ctx, detail);
}
