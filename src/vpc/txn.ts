// SPDX-License-Identifier: BSD-2-Clause
/**
 * The seed's retry loop: take a token, make changes under it, and start
 * over from a fresh token when someone else changed the object meanwhile
 * (ESTALE).  Changes must be safe to repeat: a retried "add uplink" may meet
 * EEXIST for the port it added on the previous attempt if that attempt's
 * later step went stale, so give ports ids or check before adding.
 */
import { VpcStaleError } from './errors.ts';

export interface TxnTarget {
  txn(): number;
}

export interface RetryOptions {
  /** Further attempts after the first (default 5). */
  retries?: number;
  /** Called before each retry, with the error that caused it. */
  onRetry?: (attempt: number, error: VpcStaleError) => void;
}

export function withTxn<T>(obj: TxnTarget, fn: (txn: number) => T, opts: RetryOptions = {}): T {
  const retries = opts.retries ?? 5;
  for (let attempt = 0; ; attempt++) {
    try {
      return fn(obj.txn());
    } catch (e) {
      if (!(e instanceof VpcStaleError) || attempt >= retries) throw e;
      opts.onRetry?.(attempt + 1, e);
    }
  }
}

export async function withTxnAsync<T>(obj: TxnTarget, fn: (txn: number) => Promise<T>, opts: RetryOptions = {}): Promise<T> {
  const retries = opts.retries ?? 5;
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn(obj.txn());
    } catch (e) {
      if (!(e instanceof VpcStaleError) || attempt >= retries) throw e;
      opts.onRetry?.(attempt + 1, e);
    }
  }
}
