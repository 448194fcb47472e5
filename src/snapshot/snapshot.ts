// The immutable in-memory model the query path reads: domains by name and the zones they use.
// A change builds a new Snapshot (sharing every unchanged Domain and zone, and the bulk of the maps:
// see layered-map.ts) and the holder swaps the reference, so a query sees the old state or the new
// one, never a mix.
import type { Domain } from './domain.js';
import type { CompiledZone } from './zone.js';
import { LayeredMap } from './layered-map.js';

/** Generations handed out so far in this process. */
let generations = 0;

export class Snapshot {
  /** Unique in this process, rising: lets a cache remember which snapshot it saw without holding
   *  the snapshot (and every domain it had) alive. */
  readonly generation = ++generations;
  /** Length in labels of the longest domain name: bounds the suffix walk. After deletions it may
   *  exceed the longest left (a bound, never too small). */
  readonly maxLabels: number;
  /** Changes whenever a domain name is added: a name answered from `example.` may now belong to a
   *  new `sub.example.`, although the `example.` Domain object is unchanged (response cache). */
  readonly namesEpoch: number;

  constructor(
    readonly domains: LayeredMap<string, Domain>,
    readonly zones: LayeredMap<number, CompiledZone>,
    /** How many domains use each zone (as their zone or their PZC target): a zone is dropped when
     *  this falls to zero, without a walk over every domain. */
    readonly zoneRefs: LayeredMap<number, number>,
    maxLabels?: number,
    /** The previous snapshot's, when no domain name was added; otherwise a new one. */
    namesEpoch?: number,
  ) {
    this.namesEpoch = namesEpoch ?? this.generation;
    let m = maxLabels ?? 0;
    if (maxLabels === undefined) for (const d of domains.values()) if (d.labels.length > m) m = d.labels.length;
    this.maxLabels = m;
  }

  static empty(): Snapshot {
    return new Snapshot(LayeredMap.of(new Map()), LayeredMap.of(new Map()), LayeredMap.of(new Map()), 0);
  }

  /** The most specific served domain at or above the name (lower-case key labels, leftmost first). */
  findDomain(keys: readonly string[]): Domain | undefined {
    const n = keys.length;
    let suffix = '';
    let best: Domain | undefined;
    // Build suffixes right to left; the last hit is the longest (most specific) domain.
    for (let i = n - 1; i >= 0 && n - i <= this.maxLabels; i--) {
      suffix = keys[i] + '.' + suffix;
      const d = this.domains.get(suffix);
      if (d) best = d;
    }
    return best;
  }
}
