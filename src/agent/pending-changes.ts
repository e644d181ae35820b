// SPDX-License-Identifier: BSD-2-Clause
/**
 * Changes waiting to be applied, by VNI and then by key (a MAC, an
 * address): the last one for a key wins, and a batch comes out already
 * grouped by VNI.  Keyed in two levels rather than by a "vni/key" string,
 * so a 200,000-mapping reload makes no string per change.
 */
export class PendingChanges<C extends { vni: number }> {
  readonly #byVni = new Map<number, Map<string, C>>();
  #size = 0;

  get size(): number {
    return this.#size;
  }

  set(key: string, c: C): void {
    let m = this.#byVni.get(c.vni);
    if (!m) {
      m = new Map();
      this.#byVni.set(c.vni, m);
    }
    if (!m.has(key)) this.#size++;
    m.set(key, c);
  }

  /** Take up to max changes, oldest VNI first, grouped by VNI. */
  take(max: number): Map<number, C[]> {
    const out = new Map<number, C[]>();
    let n = 0;
    for (const [vni, m] of this.#byVni) {
      if (n >= max) break;
      const l: C[] = [];
      for (const [key, c] of m) {
        if (n >= max) break;
        l.push(c);
        m.delete(key);
        n++;
      }
      if (m.size === 0) this.#byVni.delete(vni);
      out.set(vni, l);
    }
    this.#size -= n;
    return out;
  }
}
