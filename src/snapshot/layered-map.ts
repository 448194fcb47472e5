// An immutable map made of a large shared base and a small layer of changes made since. A change
// copies only the layer (at most about sqrt(size) entries) and shares the base, so a journal
// catch-up that touches one domain no longer copies 100,000 entries; once the layer has grown to
// sqrt(size) entries it is folded into a new base (a full copy every sqrt(n) changes: each change
// costs O(sqrt(n)) amortized). Reads look in the layer first, and only when it is not empty.
// Values are never undefined: `undefined` in a change means "delete".

const GONE = Symbol('gone');
type Slot<V> = V | typeof GONE;

export class LayeredMap<K, V> implements ReadonlyMap<K, V> {
  private constructor(
    private readonly base: ReadonlyMap<K, V>,
    private readonly top: ReadonlyMap<K, Slot<V>>,
    readonly size: number,
  ) {}

  /** Takes `m` as the base: the caller must not change it afterwards. */
  static of<K, V>(m: Map<K, V>): LayeredMap<K, V> {
    return new LayeredMap<K, V>(m, new Map(), m.size);
  }

  get(k: K): V | undefined {
    if (this.top.size !== 0) {
      const t = this.top.get(k);
      if (t !== undefined) return t === GONE ? undefined : t;
    }
    return this.base.get(k);
  }

  has(k: K): boolean { return this.get(k) !== undefined; }

  /** A new map with `changes` applied in order (value undefined: delete); this one is unchanged.
   *  `fold`: fold the layer into a new base now, so that values deleted from the base are no longer
   *  reachable (a tombstone in the layer leaves the value in the shared base until the next fold;
   *  for a large deleted zone that is memory worth a copy of the map). */
  with(changes: Iterable<readonly [K, V | undefined]>, fold = false): LayeredMap<K, V> {
    const top = new Map<K, Slot<V>>(this.top);
    let size = this.size;
    for (const [k, v] of changes) {
      const had = (top.has(k) ? top.get(k) !== GONE : this.base.has(k));
      if (v === undefined) {
        if (!had) continue;
        // A key only in the layer can go; one in the base needs a tombstone.
        if (this.base.has(k)) top.set(k, GONE); else top.delete(k);
        size--;
      } else {
        top.set(k, v);
        if (!had) size++;
      }
    }
    if (fold || top.size * top.size > Math.max(this.base.size, 4096)) {
      const flat = new Map(this.base);
      for (const [k, v] of top) if (v === GONE) flat.delete(k); else flat.set(k, v);
      return new LayeredMap<K, V>(flat, new Map(), flat.size);
    }
    return new LayeredMap<K, V>(this.base, top, size);
  }

  *entries(): MapIterator<[K, V]> {
    const top = this.top;
    for (const e of this.base) if (top.size === 0 || !top.has(e[0])) yield e;
    for (const [k, v] of top) if (v !== GONE) yield [k, v];
  }
  *keys(): MapIterator<K> { for (const [k] of this.entries()) yield k; }
  *values(): MapIterator<V> { for (const [, v] of this.entries()) yield v; }
  [Symbol.iterator](): MapIterator<[K, V]> { return this.entries(); }
  forEach(fn: (value: V, key: K, map: ReadonlyMap<K, V>) => void): void {
    for (const [k, v] of this.entries()) fn(v, k, this);
  }
}
