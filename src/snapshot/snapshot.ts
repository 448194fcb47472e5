// The immutable in-memory model the query path reads: domains by name and the zones they use.
// A change builds a new Snapshot (sharing every unchanged entry and zone, and the bulk of the maps:
// see layered-map.ts) and the holder swaps the reference, so a query sees the old state or the new
// one, never a mix. Domains are stored as entries and bound to their zones on lookup (domain.ts):
// a zone edit replaces one zone, whatever the number of domains served from it.
import { bindDomain, type Domain, type DomainEntry } from './domain.js';
import type { CompiledZone } from './zone.js';
import { LayeredMap } from './layered-map.js';

/** Generations handed out so far in this process. */
let generations = 0;

/** The last binding of each entry, kept while the entry lives: the same Domain object comes back
 *  as long as its entry and zones are the same (the response cache compares Domain identity). */
const bound = new WeakMap<DomainEntry, Domain>();

/** Domains by name, bound to this snapshot's zones. */
export class BoundDomains {
  constructor(private readonly entries: LayeredMap<string, DomainEntry>, private readonly zones: LayeredMap<number, CompiledZone>) {}

  get size(): number { return this.entries.size; }

  get(name: string): Domain | undefined {
    const e = this.entries.get(name);
    return e ? this.bind(e) : undefined;
  }

  has(name: string): boolean { return this.entries.has(name); }

  *[Symbol.iterator](): IterableIterator<[string, Domain]> {
    for (const [name, e] of this.entries) { const d = this.bind(e); if (d) yield [name, d]; }
  }

  *values(): IterableIterator<Domain> {
    for (const e of this.entries.values()) { const d = this.bind(e); if (d) yield d; }
  }

  /** Undefined when the zone is missing (cannot happen with a consistent read; never serve half a
   *  domain). */
  bind(e: DomainEntry): Domain | undefined {
    const zone = this.zones.get(e.zoneId);
    if (!zone) return undefined;
    const pzcZone = e.pzcZoneId !== undefined ? this.zones.get(e.pzcZoneId) : undefined;
    const last = bound.get(e);
    if (last && last.zone === zone && (last.pzc?.zone ?? undefined) === pzcZone) return last;
    const d = bindDomain(e, zone, pzcZone);
    bound.set(e, d);
    return d;
  }
}

export interface SnapshotHealth {
  readonly down: ReadonlySet<number>;
  readonly gatedZones: ReadonlySet<number>;
}

const NO_HEALTH: SnapshotHealth = { down: new Set(), gatedZones: new Set() };

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
  readonly domains: BoundDomains;

  constructor(
    readonly entries: LayeredMap<string, DomainEntry>,
    readonly zones: LayeredMap<number, CompiledZone>,
    /** How many domains use each zone (as their zone or their PZC target): a zone is dropped when
     *  this falls to zero, without a walk over every domain. */
    readonly zoneRefs: LayeredMap<number, number>,
    maxLabels?: number,
    /** The previous snapshot's, when no domain name was added; otherwise a new one. */
    namesEpoch?: number,
    /** Health checks that are down (their records are left out: snapshot/health.ts), and the zones
     *  whose records name a check; `zones` holds those zones gated by `down`. */
    readonly health: SnapshotHealth = NO_HEALTH,
  ) {
    this.namesEpoch = namesEpoch ?? this.generation;
    this.domains = new BoundDomains(entries, zones);
    let m = maxLabels ?? 0;
    if (maxLabels === undefined) for (const d of entries.values()) if (d.labels.length > m) m = d.labels.length;
    this.maxLabels = m;
  }

  /** Whether one of the maps is due a fold in steps (layered-map.ts foldSteps). */
  get foldDue(): boolean { return this.entries.foldDue || this.zones.foldDue || this.zoneRefs.foldDue; }

  /** Folds the maps that are due, in steps (the caller turns the event loop between them). The
   *  result moves a later snapshot, built from this one by changes meanwhile, onto the folded
   *  maps: the same content, smaller layers; undefined when that snapshot is not on this one's
   *  bases any more (reloaded, or folded in a change). */
  *foldSteps(): Generator<void, (later: Snapshot) => Snapshot | undefined> {
    const entries = this.entries.foldDue ? yield* this.entries.foldSteps() : undefined;
    const zones = this.zones.foldDue ? yield* this.zones.foldSteps() : undefined;
    const zoneRefs = this.zoneRefs.foldDue ? yield* this.zoneRefs.foldSteps() : undefined;
    return (later) => {
      const e = entries ? later.entries.rebase(entries, this.entries) : later.entries;
      const z = zones ? later.zones.rebase(zones, this.zones) : later.zones;
      const r = zoneRefs ? later.zoneRefs.rebase(zoneRefs, this.zoneRefs) : later.zoneRefs;
      if (!e || !z || !r) return undefined;
      return new Snapshot(e, z, r, later.maxLabels, later.namesEpoch, later.health);
    };
  }

  static empty(): Snapshot {
    return new Snapshot(LayeredMap.of(new Map()), LayeredMap.of(new Map()), LayeredMap.of(new Map()), 0);
  }

  /** The most specific served domain at or above the name (lower-case key labels, leftmost first). */
  findDomain(keys: readonly string[]): Domain | undefined {
    const n = keys.length;
    let suffix = '';
    let best: DomainEntry | undefined;
    // Build suffixes right to left; the last hit is the longest (most specific) domain.
    for (let i = n - 1; i >= 0 && n - i <= this.maxLabels; i--) {
      suffix = keys[i] + '.' + suffix;
      const d = this.entries.get(suffix);
      if (d) best = d;
    }
    return best ? this.domains.bind(best) : undefined;
  }
}
