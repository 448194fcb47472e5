// An immutable map made of a large shared base and a small layer of changes made since. A change
// copies only the layer (at most about sqrt(size) entries) and shares the base, so a journal
// catch-up that touches one domain no longer copies 100,000 entries; once the layer has grown to
// sqrt(size) entries it is folded into a new base (a full copy every sqrt(n) changes: each change
// costs O(sqrt(n)) amortized). Reads look in the layer first, and only when it is not empty.
// Values are never undefined: `undefined` in a change means "delete".
//
// A large base is not copied inside a change: a copy of a million entries takes about a second,
// which stopped the worker's answers and edits that long every thousand edits or so at 1M domains.
// Instead the holder (feed/change-feed.ts) folds it in steps between answers (foldSteps) while
// changes go on, and moves the map it has by then onto the folded base (rebase).

const GONE = Symbol('gone');
type Slot<V> = V | typeof GONE;

/** Bases up to this size are folded inside a change (a copy of some milliseconds). */
export const SYNC_FOLD_MAX = 50_000;
/** A larger base is folded inside a change anyway once its layer is this many times past due (the
 *  holder did not fold it in steps: a bound on the cost of each change's layer copy). */
const OVERDUE = 4;

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
    const due = dueness(top.size, this.base.size);
    if (fold || (due > 1 && this.base.size <= SYNC_FOLD_MAX) || due > OVERDUE * OVERDUE) {
      const flat = new Map(this.base);
      for (const [k, v] of top) if (v === GONE) flat.delete(k); else flat.set(k, v);
      return new LayeredMap<K, V>(flat, new Map(), flat.size);
    }
    return new LayeredMap<K, V>(this.base, top, size);
  }

  /** Whether the layer has outgrown its base and the base is too large to fold inside a change:
   *  time for foldSteps(). */
  get foldDue(): boolean { return this.base.size > SYNC_FOLD_MAX && dueness(this.top.size, this.base.size) > 1; }

  /** This map folded into a new base of its own, built `slice` base entries per step (the caller
   *  turns the event loop between steps); the map itself is left as it is. */
  *foldSteps(slice = 20_000): Generator<void, LayeredMap<K, V>> {
    const flat = new Map<K, V>();
    let n = 0;
    for (const [k, v] of this.base) {
      flat.set(k, v);
      if (++n % slice === 0) yield;
    }
    for (const [k, v] of this.top) if (v === GONE) flat.delete(k); else flat.set(k, v);
    return new LayeredMap<K, V>(flat, new Map(), flat.size);
  }

  /** This map on the base of `folded`, a fold of `from` (an earlier version on the same base):
   *  the same entries, with a layer of only what differs from the folded base. Undefined when this
   *  map is not on `from`'s base any more (it was folded meanwhile). */
  rebase(folded: LayeredMap<K, V>, from: LayeredMap<K, V>): LayeredMap<K, V> | undefined {
    if (from.base !== this.base || folded.top.size !== 0) return undefined;
    const base = folded.base;
    const top = new Map<K, Slot<V>>();
    for (const [k, v] of this.top) {
      const b = base.get(k);
      if (v === GONE ? b !== undefined : b !== v) top.set(k, v);
    }
    // Keys `from` had in its layer and this map no longer has there (set in the layer, then
    // deleted from it): their value here is the old base's, which the folded base may not hold.
    for (const k of from.top.keys()) {
      if (this.top.has(k)) continue;
      const here = this.base.get(k);
      const b = base.get(k);
      if (here === undefined) { if (b !== undefined) top.set(k, GONE); } else if (b !== here) top.set(k, here);
    }
    return new LayeredMap<K, V>(base, top, this.size);
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

/** How far past due a layer is: above 1, it should be folded (top.size > sqrt(base size)). */
function dueness(top: number, base: number): number {
  return (top * top) / Math.max(base, 4096);
}
