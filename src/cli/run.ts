/**
 * How a vpcctl command ends: 0 when it did what was asked; 1 with one line
 * (errno name, op, object) when the kernel refused; 2 for usage errors.
 */
import { MappingError } from '../directory/mapping.ts';
import { VpcArgumentError, VpcError } from '../vpc/index.ts';
import { UsageError } from './args.ts';

export class OpFailed extends Error {}

export function fail(msg: string, code: 1 | 2): never {
  process.stderr.write(`vpcctl: ${msg}\n`);
  process.exit(code);
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
      if (e instanceof UsageError || e instanceof VpcArgumentError || e instanceof MappingError) fail(e.message, 2);
      if (e instanceof VpcError || e instanceof OpFailed) fail(e.message, 1);
      const err = e as NodeJS.ErrnoException;
      fail(err.code ? `${err.code}: ${err.message}` : err.message, 1);
    }
  };
}
