// The immutable in-memory model the query path reads: domains by name and the zones they use.
// A change builds a new Snapshot (copying the maps, sharing every unchanged Domain and zone) and
// the holder swaps the reference, so a query sees the old state or the new one, never a mix.
import type { Domain } from './domain.js';
import type { CompiledZone } from './zone.js';

export class Snapshot {
  /** Length in labels of the longest domain name: bounds the suffix walk. */
  readonly maxLabels: number;

  constructor(
    readonly domains: ReadonlyMap<string, Domain>,
    readonly zones: ReadonlyMap<number, CompiledZone>,
    readonly builtAt: number,
  ) {
    let m = 0;
    for (const d of domains.values()) if (d.labels.length > m) m = d.labels.length;
    this.maxLabels = m;
  }

  static empty(): Snapshot {
    return new Snapshot(new Map(), new Map(), Date.now());
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
