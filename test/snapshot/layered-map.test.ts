// The snapshot's maps are persistent (a base plus a layer of changes) and applyDelta no longer
// walks every domain: both checked against the plain versions they replace, on random changes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LayeredMap, SYNC_FOLD_MAX } from '../../src/snapshot/layered-map.js';
import { buildSnapshot, applyDelta, type ZoneSource } from '../../src/snapshot/build.js';
import type { DomainRow } from '../../src/snapshot/domain.js';
import type { Snapshot } from '../../src/snapshot/snapshot.js';

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test('LayeredMap behaves like a Map through sets, deletes and folds, and old versions stay as they were', () => {
  const r = rng(3);
  const plain = new Map<number, string>();
  for (let i = 0; i < 500; i++) plain.set(i, `v${i}`);
  let m = LayeredMap.of(new Map(plain));
  const history: Array<[LayeredMap<number, string>, Map<number, string>]> = [];
  for (let step = 0; step < 2000; step++) {
    const changes: Array<[number, string | undefined]> = [];
    for (let k = Math.floor(r() * 4); k >= 0; k--) {
      const key = Math.floor(r() * 700);
      changes.push([key, r() < 0.4 ? undefined : `s${step}`]);
    }
    m = m.with(changes);
    for (const [k, v] of changes) if (v === undefined) plain.delete(k); else plain.set(k, v);
    if (step % 97 === 0) history.push([m, new Map(plain)]);
    assert.equal(m.size, plain.size);
  }
  for (const [old, expect] of [...history, [m, plain] as [LayeredMap<number, string>, Map<number, string>]]) {
    assert.equal(old.size, expect.size);
    assert.deepEqual(new Map(old), expect);
    for (let k = 0; k < 700; k++) {
      assert.equal(old.get(k), expect.get(k));
      assert.equal(old.has(k), expect.has(k));
    }
  }
});

const soa = (serial: number) => ({ owner: '@', type: 6, ttl: 3600, rdata: `ns1 hostmaster ${serial} 7200 3600 1209600 300` });
const source = (n: number): ZoneSource => ({ records: [soa(n), { owner: '@', type: 2, ttl: 3600, rdata: 'ns1' }, { owner: 'ns1', type: 1, ttl: 60, rdata: `192.0.2.${n % 250}` }], schedules: [] });
const row = (id: number, name: string, zone: number, pzc: number | null = null): DomainRow =>
  ({ id, name, zone_id: zone, delegation_only: false, serial_offset: 0, pzc_zone_id: pzc, pzc_at: pzc === null ? null : new Date(Date.now() + 3_600_000) });

/** What the old applyDelta computed: every map copied, every domain walked for the zones in use. */
function expected(snap: Snapshot): { domains: Map<string, number>; zones: Set<number> } {
  const used = new Set<number>();
  for (const d of snap.domains.values()) { used.add(d.zoneId); if (d.pzc) used.add(d.pzc.zoneId); }
  return { domains: new Map([...snap.domains].map(([k, d]) => [k, d.zoneId])), zones: used };
}

test('applyDelta keeps exactly the zones some domain uses, as a full walk would', () => {
  const r = rng(9);
  const rows = new Map<string, DomainRow>();
  const sources = new Map<number, ZoneSource>();
  for (let i = 1; i <= 40; i++) { sources.set(i, source(i)); rows.set(`d${i}.test.`, row(i, `d${i}.test.`, i)); }
  let snap = buildSnapshot([...rows.values()], sources);
  let nextZone = 41;
  for (let step = 0; step < 300; step++) {
    const touched: DomainRow[] = [];
    const gone: string[] = [];
    const zones = new Map<number, ZoneSource>();
    const changed: number[] = [];
    const name = `d${1 + Math.floor(r() * 60)}.test.`;
    const x = r();
    if (x < 0.3) { // point the domain at another (maybe new) zone, sometimes with a PZC target
      const z = r() < 0.5 ? nextZone++ : 1 + Math.floor(r() * (nextZone - 1));
      const p = r() < 0.3 ? 1 + Math.floor(r() * (nextZone - 1)) : null;
      const d = row(step + 100, name, z, p);
      for (const id of [z, p]) if (id !== null && !snap.zones.has(id)) zones.set(id, source(id));
      rows.set(name, d); touched.push(d);
    } else if (x < 0.45) { // delete it
      if (rows.delete(name)) gone.push(name);
    } else { // change the records of a zone in use: every domain on it is read again
      const d = rows.get(name);
      if (!d) continue;
      changed.push(d.zone_id);
      zones.set(d.zone_id, source(step));
      for (const o of rows.values()) if (o.zone_id === d.zone_id || o.pzc_zone_id === d.zone_id) touched.push(o);
      for (const o of touched) if (o.pzc_zone_id !== null && o.pzc_zone_id !== d.zone_id && !snap.zones.has(o.pzc_zone_id)) zones.set(o.pzc_zone_id, source(o.pzc_zone_id));
    }
    const before = snap;
    const beforeView = expected(before);
    snap = applyDelta(snap, { domains: touched, goneDomains: gone, zones, changedZones: changed });
    const want = expected(snap);
    assert.deepEqual(new Map([...snap.domains].map(([k, d]) => [k, d.zoneId])), new Map([...rows.values()].map((d) => [d.name, d.zone_id])));
    assert.deepEqual(new Set(snap.zones.keys()), want.zones, `step ${step}`);
    for (const d of snap.domains.values()) assert.equal(snap.zones.get(d.zoneId), d.zone);
    assert.deepEqual(expected(before), beforeView, 'the old snapshot is untouched');
  }
});

/** A large base (not folded inside a change), random changes, a fold in steps begun at one version
 *  while changes go on, and the latest version moved onto the folded base. */
test('a large LayeredMap folds in steps while it changes, and rebase keeps every entry', () => {
  const r = rng(11);
  const n = SYNC_FOLD_MAX + 2000;
  const plain = new Map<number, string>();
  for (let i = 0; i < n; i++) plain.set(i, `v${i}`);
  let m = LayeredMap.of(new Map(plain));
  const change = (step: number): void => {
    const changes: Array<[number, string | undefined]> = [];
    for (let k = Math.floor(r() * 3); k >= 0; k--) {
      // Mostly keys of the base; some new ones, set and deleted again within the layer.
      const key = r() < 0.8 ? Math.floor(r() * n) : n + Math.floor(r() * 50);
      changes.push([key, r() < 0.35 ? undefined : `s${step}`]);
    }
    m = m.with(changes);
    for (const [k, v] of changes) if (v === undefined) plain.delete(k); else plain.set(k, v);
  };
  let step = 0;
  while (!m.foldDue) {
    change(step++);
    assert.ok(step < 2000, 'a layer past sqrt(size) is due a fold');
  }
  assert.equal(m.size, plain.size);
  const from = m;
  const fromView = new Map(plain);
  const steps = from.foldSteps(5000);
  let yields = 0;
  let res = steps.next();
  while (!res.done) {
    yields++;
    for (let k = 0; k < 5; k++) change(step++); // changes between the steps, as edits arrive
    res = steps.next();
  }
  assert.ok(yields >= Math.floor(n / 5000), `${yields} steps`);
  const folded = res.value;
  assert.deepEqual(new Map(folded), fromView, 'the fold is the map it began from');
  const moved = m.rebase(folded, from);
  assert.ok(moved, 'the latest version is still on the old base');
  assert.equal(moved.size, plain.size);
  assert.deepEqual(new Map(moved), plain);
  for (let k = 0; k < n + 50; k++) assert.equal(moved.get(k), plain.get(k), `key ${k}`);
  assert.equal(moved.foldDue, false, 'the layer holds only the changes made during the fold');
  assert.deepEqual(new Map(from), fromView, 'the version the fold began from is unchanged');
  // Changes go on from the moved map.
  m = moved;
  for (let k = 0; k < 300; k++) change(step++);
  assert.equal(m.size, plain.size);
  assert.deepEqual(new Map(m), plain);
  // A map folded inside a change meanwhile is on another base: nothing to move.
  const forced = m.with([], true);
  assert.equal(forced.rebase(folded, from), undefined);
});

test('a large map is folded inside a change only once its layer is far past due', () => {
  const base = new Map<number, number>();
  for (let i = 0; i < SYNC_FOLD_MAX * 2; i++) base.set(i, i);
  let m = LayeredMap.of(base);
  let changes = 0;
  while (!m.foldDue) m = m.with([[changes, -1 - changes++]]);
  const due = changes; // about sqrt(100,000)
  while (m.foldDue) m = m.with([[changes, -1 - changes++]]);
  // Nobody folded it in steps: folded inside the change at 4 times sqrt(size).
  assert.ok(changes > 3.5 * due && changes < 4.5 * due, `${due} changes made it due, folded after ${changes}`);
  for (let i = 0; i < changes; i++) assert.equal(m.get(i), -1 - i);
  assert.equal(m.get(changes), changes);
});

test('a snapshot of 51,000 domains folds in steps between deltas and answers the same', () => {
  const count = SYNC_FOLD_MAX + 1000;
  const rows = new Map<string, DomainRow>();
  for (let i = 0; i < count; i++) rows.set(`d${i}.test.`, row(i + 1, `d${i}.test.`, 1 + (i % 3)));
  const sources = new Map<number, ZoneSource>([[1, source(1)], [2, source(2)], [3, source(3)]]);
  let snap = buildSnapshot([...rows.values()], sources);
  let id = count + 1;
  const delta = (i: number): void => {
    // A new domain, one moved to another zone, one gone.
    const added = row(id++, `n${i}.test.`, 1 + (i % 3));
    const moved = row(id++, `d${(i * 7919) % count}.test.`, 1 + ((i + 1) % 3));
    const gone = `d${(i * 104729 + 13) % count}.test.`;
    rows.set(added.name, added);
    rows.set(moved.name, moved);
    const goneDomains = rows.delete(gone) ? [gone] : [];
    snap = applyDelta(snap, { domains: [added, moved].filter((d) => rows.has(d.name)), goneDomains, zones: new Map(), changedZones: [] });
  };
  let i = 0;
  while (!snap.foldDue) delta(i++);
  const steps = snap.foldSteps();
  let res = steps.next();
  while (!res.done) { delta(i++); res = steps.next(); }
  const moved = res.value(snap);
  assert.ok(moved);
  assert.equal(moved.foldDue, false);
  assert.equal(moved.namesEpoch, snap.namesEpoch, 'the same names: cached answers stay valid');
  const want = new Map([...rows.values()].map((d) => [d.name, d.zone_id]));
  assert.deepEqual(new Map([...moved.domains].map(([k, d]) => [k, d.zoneId])), want);
  assert.deepEqual(new Set(moved.zones.keys()), new Set([1, 2, 3]));
  for (const name of [...want.keys()].slice(-50)) assert.equal(moved.findDomain(name.slice(0, -1).split('.'))?.name, name);
});
