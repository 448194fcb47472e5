// The query path only reads (issue 16): a zone with RRset changes pending arrives in the snapshot
// with the zone as it will be after each of them already compiled, so the first query after T
// finds it instead of compiling it on the UDP handler.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildSnapshot, applyDelta } from '../../src/snapshot/build.js';
import { zoneAt } from '../../src/snapshot/zone.js';

const T1 = new Date(1_900_000_000_000);
const T2 = new Date(1_900_000_600_000);
const records = [
  { owner: '@', type: 6, ttl: 3600, rdata: 'ns1 h 1 3600 600 86400 300' },
  { owner: '@', type: 2, ttl: 3600, rdata: 'ns1' },
  { owner: 'www', type: 1, ttl: 300, rdata: '192.0.2.1' },
];
const schedules = [
  { owner: 'www', type: 1, ttl: 60, rdatas: ['192.0.2.2'], at: T1 },
  { owner: 'new', type: 1, ttl: 60, rdatas: ['192.0.2.3'], at: T2 },
];
const row = { id: 1, name: 'p.example.', zone_id: 1, delegation_only: false, serial_offset: 0, pzc_zone_id: null, pzc_at: null };

test('zones with pending RRset changes are compiled for every switch time when they arrive', () => {
  for (const snap of [
    buildSnapshot([row], new Map([[1, { records, schedules }]])),
    applyDelta(buildSnapshot([row], new Map([[1, { records, schedules: [] }]])),
      { domains: [], goneDomains: [], zones: new Map([[1, { records, schedules }]]), changedZones: [1] }),
  ]) {
    const zone = snap.zones.get(1)!;
    assert.equal(zone.derived?.size, 2, 'both switch times prepared');
    const after1 = zone.derived!.get(1)!;
    assert.equal(zoneAt(zone, T1.getTime()), after1, 'the first query after T1 finds the prepared zone');
    assert.equal(zoneAt(zone, T2.getTime() + 5000), zone.derived!.get(2));
    assert.equal(after1.nodes.get('www')!.rrsets.get(1)!.rrs[0].ttl, 60);
  }
});
