// Health gating in the snapshot, pure (snapshot/health.ts, build.ts): which records the answer
// path serves for a set of checks down, fail open, the objects kept when nothing changed (the
// response cache relies on Domain identity), and the seed file carrying gates and state.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSnapshot, applyDelta } from '../../src/snapshot/build.js';
import type { Snapshot } from '../../src/snapshot/snapshot.js';
import { resolve } from '../../src/answer/resolve.js';
import { formatRdata } from '../../src/dns/rdata.js';
import { TYPE } from '../../src/dns/constants.js';
import { writeSeed, readSeed } from '../../src/feed/seed.js';
import type { StoredRecord } from '../../src/snapshot/zone.js';

const rec = (owner: string, type: number, rdata: string, check?: number): StoredRecord => ({ owner, type, ttl: 30, rdata, ...(check ? { check } : {}) });
const records = [
  rec('@', TYPE.SOA, 'ns1 hostmaster 1 3600 600 86400 300'), rec('@', TYPE.NS, 'ns1'), rec('ns1', TYPE.A, '192.0.2.53'),
  rec('www', TYPE.A, '192.0.2.1', 1), rec('www', TYPE.A, '192.0.2.2', 2), rec('www', TYPE.A, '192.0.2.3'),
  rec('all', TYPE.A, '192.0.2.7', 1), rec('all', TYPE.A, '192.0.2.8', 2),
  rec('mail', TYPE.MX, '10 mx'), rec('mx', TYPE.A, '192.0.2.25', 1), rec('mx', TYPE.A, '192.0.2.26'),
];
const gates = records.filter((r) => r.check);
const domain = { id: 1, name: 'gate.example.', zone_id: 10, delegation_only: false, serial_offset: 0, pzc_zone_id: null, pzc_at: null };
const zones = () => new Map([[10, { records: records.map(({ check: _c, ...r }) => r), schedules: [], serial: 1, gates }]]);

function served(snap: Snapshot, name: string, type: number = TYPE.A): string[] {
  const keys = name.split('.');
  const a = resolve(snap, { keys, labels: keys, qtype: type }, Date.now());
  const sec = type === TYPE.A ? a.answer : a.additional;
  return sec.flatMap((e) => e.set.rrs.map((rr) => formatRdata(e.set.type, rr.parts as never))).sort();
}

test('records of down checks leave the answer; a whole RRset down is served whole; ungated records stay', () => {
  const up = buildSnapshot([domain], zones());
  assert.deepEqual(served(up, 'www.gate.example'), ['192.0.2.1', '192.0.2.2', '192.0.2.3']);
  const one = buildSnapshot([domain], zones(), undefined, [1]);
  assert.deepEqual(served(one, 'www.gate.example'), ['192.0.2.2', '192.0.2.3']);
  assert.deepEqual(served(one, 'all.gate.example'), ['192.0.2.8']);
  assert.deepEqual(served(one, 'mail.gate.example', TYPE.MX), ['192.0.2.26'], 'additional addresses are gated too');
  const both = buildSnapshot([domain], zones(), undefined, [1, 2]);
  assert.deepEqual(served(both, 'www.gate.example'), ['192.0.2.3'], 'the ungated record alone, not fail-open');
  assert.deepEqual(served(both, 'all.gate.example'), ['192.0.2.7', '192.0.2.8'], 'every record down: all served (fail open)');
  const zone = both.domains.get('gate.example.')!.zone;
  assert.equal(zone.ungated?.nodes.get('www')?.rrsets.get(TYPE.A)?.rrs.length, 3, 'the stored zone keeps every record (transfers)');
});

test('a state change through a delta: only gated zones change, and only when their answer does', () => {
  const s0 = buildSnapshot([domain], zones());
  const d0 = s0.domains.get('gate.example.');
  const delta = (down: number[]) => ({ domains: [], goneDomains: [], zones: new Map(), changedZones: [], down });
  const s1 = applyDelta(s0, delta([1]));
  assert.notEqual(s1.domains.get('gate.example.'), d0, 'a new Domain: cached answers of it are not reused');
  assert.deepEqual(served(s1, 'www.gate.example'), ['192.0.2.2', '192.0.2.3']);
  const s2 = applyDelta(s1, delta([1, 99]));
  assert.equal(s2.domains.get('gate.example.'), s1.domains.get('gate.example.'), 'a check no record names: the same Domain');
  const s3 = applyDelta(s2, delta([]));
  assert.deepEqual(served(s3, 'www.gate.example'), ['192.0.2.1', '192.0.2.2', '192.0.2.3']);
  assert.equal(s3.domains.get('gate.example.')!.zone, s0.domains.get('gate.example.')!.zone, 'back to the stored zone itself');
  // A zone edit while a check is down is compiled gated.
  const s4 = applyDelta(applyDelta(s3, delta([2])), { domains: [], goneDomains: [], zones: zones(), changedZones: [10] });
  assert.deepEqual(served(s4, 'www.gate.example'), ['192.0.2.1', '192.0.2.3']);
});

test('the seed file keeps the gates and the checks down', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'gp-seed-'));
  try {
    const snap = buildSnapshot([domain], zones(), undefined, [1]);
    await writeSeed(snap, 7, join(dir, 's.ndjson'));
    const back = await readSeed(join(dir, 's.ndjson'));
    assert.deepEqual(served(back.snap, 'www.gate.example'), ['192.0.2.2', '192.0.2.3']);
    assert.deepEqual([...back.snap.health.down], [1]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
