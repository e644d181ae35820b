// SPDX-License-Identifier: BSD-2-Clause
/**
 * Read a switch table that may be big (65,536 pushed entries) a page at a
 * time, with a turn of the event loop whenever a slice of pages has taken
 * SLICE_MS, so upcalls are answered while it is read.  The kernel says when
 * the table was resized between two pages (VpcStaleError): the read starts
 * over; after a few such restarts (a table growing the whole time) it is
 * read in one go, which no resize can interrupt.
 */
import { VpcStaleError, type DumpPage } from '../vpc/index.ts';

/** A turn of the event loop once a slice of pages has taken this long. */
const SLICE_MS = 4;
/** Restarts of a paged read before the table is read in one go. */
const RESTARTS = 4;

const turn = () => new Promise<void>((r) => setImmediate(r));

/**
 * Hand every entry to each(): page(marker) reads one page, all() the whole
 * table in one call; restart() is called before a read starts over, to
 * forget what each() was given.
 */
export async function readPaged<T>(
  page: (marker: number) => DumpPage<T>, all: () => T[], each: (e: T) => void, restart: () => void,
): Promise<void> {
  for (let attempt = 0; attempt < RESTARTS; attempt++) {
    try {
      let marker: number | undefined = 0;
      let t0 = performance.now();
      while (marker !== undefined) {
        const p: DumpPage<T> = page(marker);
        for (const e of p.entries) each(e);
        marker = p.next;
        if (marker !== undefined && performance.now() - t0 >= SLICE_MS) {
          await turn();
          t0 = performance.now();
        }
      }
      return;
    } catch (e) {
      if (!(e instanceof VpcStaleError)) throw e;
      restart();
    }
  }
  for (const e of all()) each(e);
}
