// SPDX-License-Identifier: BSD-2-Clause
/**
 * How a vpcctl command ends: 0 when it did what was asked; 1 with one line
 * (errno name, op, object) when the kernel refused; 2 for usage errors.
 * With --json, a failure also prints one JSON object on stdout, where the
 * command's output would have gone:
 *   {"error": {"code": "EEXIST", "errno": 17, "message": "...", "op": "...", "objectId": "..."}}
 * (errno, op and objectId are left out when there is none), so automation
 * reads stdout as JSON whatever happened and never parses prose; the one
 * line still goes to stderr for people.
 */
import { constants } from 'node:os';
import { MappingError } from '../directory/mapping.ts';
import { VpcArgumentError, VpcError } from '../vpc/index.ts';
import { UsageError } from './args.ts';
import { isJson } from './output.ts';

export interface FailureContext {
  code?: string;
  op?: string;
  objectId?: string;
  /** Fields printed beside "error" in the JSON object (e.g. status's reachable: false). */
  extra?: Record<string, unknown>;
}

/** A failure the command itself detected; its message starts with the errno name when there is one. */
export class OpFailed extends Error {
  constructor(message: string, readonly ctx: FailureContext = {}) {
    super(message);
  }
}

export interface JsonError {
  code: string;
  errno?: number;
  message: string;
  op?: string;
  objectId?: string;
}

const errnos = constants.errno as Record<string, number>;

/** The JSON error object of a failure (what --json prints). */
export function jsonError(message: string, ctx: FailureContext & { errno?: number }): JsonError {
  const code = ctx.code ?? /^(E[A-Z0-9]+): /.exec(message)?.[1] ?? 'EIO';
  const errno = ctx.errno ?? errnos[code];
  return {
    code, ...(errno !== undefined ? { errno } : {}), message,
    ...(ctx.op !== undefined ? { op: ctx.op } : {}), ...(ctx.objectId !== undefined ? { objectId: ctx.objectId } : {}),
  };
}

/** The one line on stderr, the JSON object on stdout with --json, then the exit status. */
export function fail(msg: string, code: 1 | 2, ctx: FailureContext & { errno?: number } = {}): never {
  if (isJson()) {
    process.stdout.write(`${JSON.stringify({ ...(ctx.extra ?? {}), error: jsonError(msg, ctx) }, null, 2)}\n`);
  }
  process.stderr.write(`vpcctl: ${msg}\n`);
  process.exit(code);
}

/** What a caught error says, as fail() takes it. */
export function describe(e: unknown): { msg: string; code: 1 | 2; ctx: FailureContext & { errno?: number } } {
  if (e instanceof UsageError || e instanceof VpcArgumentError || e instanceof MappingError) {
    return { msg: e.message, code: 2, ctx: { code: 'EINVAL', op: 'usage' } };
  }
  if (e instanceof VpcError) {
    return { msg: e.message, code: 1, ctx: { code: e.code, errno: e.errno, op: e.op, ...(e.objectId ? { objectId: e.objectId } : {}) } };
  }
  if (e instanceof OpFailed) return { msg: e.message, code: 1, ctx: e.ctx };
  const err = e as NodeJS.ErrnoException;
  const code = typeof err.code === 'string' && /^E[A-Z0-9]+$/.test(err.code) ? err.code : undefined;
  return {
    msg: code && !err.message.startsWith(code) ? `${code}: ${err.message}` : err.message, code: 1,
    ctx: { ...(code ? { code } : {}), ...(typeof err.syscall === 'string' ? { op: err.syscall } : {}) },
  };
}

/**
 * Wrap a handler: map errors to the exit codes above.  The coercers have
 * already checked every argument, so the handler takes them as declared
 * (yargs' inferred types would still say "maybe undefined").
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function run<A>(fn: (argv: A) => void | Promise<void>): (argv: any) => Promise<void> {
  return async (argv: A) => {
    try {
      await fn(argv);
    } catch (e) {
      const d = describe(e);
      fail(d.msg, d.code, d.ctx);
    }
  };
}

/**
 * Run fn on an object a command opened (or created) and close it however fn
 * ends: a value, a throw, or a promise that settles.  A command holds no
 * handle past its work, and an uncommitted object it created goes with the
 * handle when fn fails (the kernel's rule for uncommitted objects).
 */
export function using<T extends { close(): void }, R>(obj: T, fn: (obj: T) => R): R {
  let settlesLater = false;
  try {
    const r = fn(obj);
    if (r instanceof Promise) {
      settlesLater = true;
      return r.finally(() => obj.close()) as R;
    }
    return r;
  } finally {
    if (!settlesLater) obj.close();
  }
}
