// PZC on the answer path with an injected clock: before T every TTL in every section is capped at
// the seconds left; from T the target zone is served with its own TTLs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildSnapshot } from '../../src/snapshot/build.js';
import { handleQuery } from '../../src/server/handle-query.js';
import { recordsFromText, type StoredRecord } from '../../src/store/records.js';
import { buildQuery, parseResponse, type Response } from '../helpers/dig.js';

function zone(lines: Array<[string, string, number, string[]]>): StoredRecord[] {
  return lines.flatMap(([owner, type, ttl, rd]) => recordsFromText(owner, type, ttl, rd));
}

const A = zone([
  ['@', 'SOA', 86400, ['ns1 hostmaster 1 3600 600 604800 7200']],
  ['@', 'NS', 172800, ['ns1', 'ns2.other.example.']],
  ['ns1', 'A', 172800, ['192.0.2.1']],
  ['www', 'CNAME', 3600, ['web']],
  ['web', 'A', 30, ['192.0.2.80']],
  ['mail', 'MX', 86400, ['10 mx1']],
  ['mx1', 'A', 86400, ['192.0.2.25']],
  ['*.apps', 'A', 600, ['192.0.2.60']],
  ['child', 'NS', 86400, ['ns.child']],
  ['ns.child', 'A', 86400, ['192.0.2.99']],
]);
const B = zone([
  ['@', 'SOA', 86400, ['ns1 hostmaster 1 3600 600 604800 7200']],
  ['@', 'NS', 172800, ['ns1']],
  ['ns1', 'A', 172800, ['198.51.100.1']],
  ['www', 'A', 300, ['198.51.100.80']],
]);
const T = 1_900_000_000; // Unix seconds
const snap = buildSnapshot(
  [{ id: 1, name: 'pzc.example.', zone_id: 1, delegation_only: false, serial_offset: 9, /* serves 1 + 9 = 10 */ pzc_zone_id: 2, pzc_at: new Date(T * 1000) }],
  new Map([[1, { records: A, schedules: [] }], [2, { records: B, schedules: [] }]]));

function ask(name: string, type: string, nowSec: number): Response {
  const out = handleQuery(buildQuery(name, type), false, { snapshot: () => snap, maxUdp: 1232, now: () => nowSec * 1000 });
  return parseResponse(out!);
}

const cases: Array<[string, string, string]> = [
  ['pzc.example.', 'SOA', 'apex SOA'],
  ['pzc.example.', 'NS', 'apex NS and its additional'],
  ['www.pzc.example.', 'A', 'CNAME chain'],
  ['mail.pzc.example.', 'MX', 'MX and additional'],
  ['x.apps.pzc.example.', 'A', 'wildcard'],
  ['host.child.pzc.example.', 'A', 'referral and glue'],
  ['nothing.pzc.example.', 'A', 'NXDOMAIN SOA'],
  ['web.pzc.example.', 'TXT', 'NODATA SOA'],
];

for (const before of [3600, 15, 1]) {
  test(`at T-${before} every TTL in every section is at most ${before}, lower TTLs untouched`, () => {
    for (const [name, type, what] of cases) {
      const r = ask(name, type, T - before);
      assert.ok(r.records.length > 0, `${what}: has records`);
      for (const rec of r.records) {
        assert.ok(rec.ttl <= before, `${what}: ${rec.section} ${rec.owner} ${rec.type} TTL ${rec.ttl} > ${before}`);
      }
    }
    const web = ask('www.pzc.example.', 'A', T - before).records.find((x) => x.type === 'A')!;
    assert.equal(web.ttl, Math.min(30, before), 'a TTL already below the cap is untouched');
    const soa = ask('nothing.pzc.example.', 'A', T - before).records[0];
    assert.equal(soa.ttl, Math.min(7200, before), 'negative SOA: min(SOA TTL, MINIMUM), then capped');
  });
}

test('the cap counts down within a second: at T-0.4 s the TTLs are 0', () => {
  const r = handleQuery(buildQuery('web.pzc.example.', 'A'), false, { snapshot: () => snap, maxUdp: 1232, now: () => T * 1000 - 400 });
  const rec = parseResponse(r!).records[0];
  assert.equal(rec.ttl, 0);
  assert.equal(rec.rdata, '192.0.2.80', 'still zone A before T');
});

for (const after of [0, 1]) {
  test(`at T+${after} the target zone is served, with its own TTLs`, () => {
    const www = ask('www.pzc.example.', 'A', T + after);
    assert.deepEqual(www.answer, ['www.pzc.example. A 300 198.51.100.80']);
    const soa = ask('pzc.example.', 'SOA', T + after);
    assert.equal(soa.records[0].ttl, 86400);
    assert.equal(soa.records[0].rdata.split(' ')[2], '11', 'the serial the scheduler will write');
    assert.equal(ask('mail.pzc.example.', 'MX', T + after).rcode, 'NXDOMAIN');
  });
}

test('far from T the cap does not bite: TTLs are as stored', () => {
  const r = ask('pzc.example.', 'NS', T - 10 * 86400);
  assert.ok(r.answer.every((a) => a.includes(' 172800 ')));
});
