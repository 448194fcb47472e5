// The merge of included zones, as pure code (src/snapshot/includes.ts): override per owner and
// type, include order, chains, the CNAME rule, and scheduled RRset changes on the effective result.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { flattenZone, includeOrder, mergeRecords } from '../../src/snapshot/includes.js';
import { compileZone, zoneAt } from '../../src/snapshot/zone.js';
import type { StoredRecord, ScheduledRRset } from '../../src/snapshot/zone.js';

const r = (owner: string, type: number, rdata: string, ttl = 300): StoredRecord => ({ owner, type, ttl, rdata });
const show = (rs: readonly StoredRecord[]) => rs.map((x) => `${x.owner} ${x.type} ${x.rdata}`).sort();
const A = 1, MX = 15, TXT = 16, CNAME = 5;

test('the including zone overrides per owner and type; what it lacks comes from the includes', () => {
  const own = [r('www', A, '192.0.2.1')];
  const base = [r('www', A, '198.51.100.1'), r('www', TXT, '"base"'), r('@', MX, '10 mail')];
  assert.deepEqual(show(mergeRecords([own, base])), ['@ 15 10 mail', 'www 1 192.0.2.1', 'www 16 "base"']);
});

test('the first include wins among includes; chains flatten depth first', () => {
  const lists = new Map<number, number[]>([[1, [2, 3]], [2, [4]], [3, [4]]]);
  assert.deepEqual(includeOrder(1, (z) => lists.get(z)), [2, 4, 3], 'an include\'s own includes come right after it, each zone once');
  const two = [r('a', A, '192.0.2.2')];
  const four = [r('a', A, '192.0.2.4'), r('b', A, '192.0.2.4'), r('c', A, '192.0.2.4')];
  const three = [r('b', A, '192.0.2.3'), r('c', A, '192.0.2.3'), r('d', A, '192.0.2.3')];
  assert.deepEqual(show(mergeRecords([[], two, four, three])), ['a 1 192.0.2.2', 'b 1 192.0.2.4', 'c 1 192.0.2.4', 'd 1 192.0.2.3']);
});

test('a cycle in the lists (refused when written) cannot loop the walk', () => {
  const lists = new Map<number, number[]>([[1, [2]], [2, [1]]]);
  assert.deepEqual(includeOrder(1, (z) => lists.get(z)), [2]);
});

test('CNAME stays alone: the first source with data at an owner decides', () => {
  // The zone has an A at www: the base's CNAME there is not served beside it.
  assert.deepEqual(show(mergeRecords([[r('www', A, '192.0.2.1')], [r('www', CNAME, 'elsewhere.example.')]])), ['www 1 192.0.2.1']);
  // The zone has a CNAME at www: the base's other data there is not served beside it.
  assert.deepEqual(show(mergeRecords([[r('www', CNAME, 'x.example.')], [r('www', A, '198.51.100.1'), r('www', TXT, '"t"')]])), ['www 5 x.example.']);
});

test('scheduled changes keep their meaning on the effective records', () => {
  const t1 = new Date(Date.UTC(2030, 0, 1, 0, 0, 10));
  const t2 = new Date(Date.UTC(2030, 0, 1, 0, 0, 20));
  const own = { records: [r('www', A, '192.0.2.1')], schedules: [
    // The zone drops its own www at t2: the base's shows through again.
    { owner: 'www', type: A, ttl: 300, rdatas: [], at: t2 } satisfies ScheduledRRset] };
  const base = { records: [r('www', A, '198.51.100.1'), r('mail', A, '198.51.100.25')], schedules: [
    // Hidden by the zone's own www until t2: it must not win at t1.
    { owner: 'www', type: A, ttl: 300, rdatas: ['198.51.100.2'], at: t1 },
    { owner: 'mail', type: A, ttl: 300, rdatas: ['198.51.100.26'], at: t1 }] };
  const eff = flattenZone(own, [base]);
  const zone = compileZone(1, eff.records, eff.schedules);
  const at = (d: Date, owner: string) => {
    const z = zoneAt(zone, d.getTime());
    const set = z.nodes.get(owner)?.rrsets.get(A);
    return set?.rrs.map((x) => [...(x.parts[0] as Uint8Array)].join('.'));
  };
  assert.deepEqual(at(new Date(t1.getTime() - 1000), 'www'), ['192.0.2.1']);
  assert.deepEqual(at(t1, 'www'), ['192.0.2.1'], 'the base\'s change is hidden by the override');
  assert.deepEqual(at(t1, 'mail'), ['198.51.100.26'], 'the base\'s change where nothing overrides it');
  assert.deepEqual(at(t2, 'www'), ['198.51.100.2'], 'the override gone: the base as changed at t1');
  assert.ok(zone.pending.get('www')?.get(A) !== undefined, 'www is pending (the PZC TTL cap applies)');
});

test('no includes: the zone as it is', () => {
  const own = { records: [r('www', A, '192.0.2.1')], schedules: [] };
  assert.equal(flattenZone(own, []), own);
});
