// Per-domain query counts (server/domain-counts.ts): what drain() hands the flusher, and that the
// table's memory follows the cells answered, not a row of every (type, rcode) per domain.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DomainCounts } from '../../src/server/domain-counts.js';
import { domainIndex } from '../../src/snapshot/domain.js';
import { TYPE, RCODE } from '../../src/dns/constants.js';

const sum = (b: ReturnType<DomainCounts['drain']>): Map<string, number> => {
  const m = new Map<string, number>();
  b.domainIds.forEach((id, k) => {
    const key = `${id} ${b.qtypes[k]} ${b.rcodes[k]}`;
    m.set(key, (m.get(key) ?? 0) + b.counts[k]);
  });
  return m;
};

test('drain hands out each (domain, type, rcode) once with its count, then starts over', () => {
  const c = new DomainCounts();
  const a = domainIndex(900_001), b = domainIndex(900_002);
  for (let k = 0; k < 5; k++) c.count(a, TYPE.A, RCODE.NOERROR);
  c.count(a, TYPE.AAAA, RCODE.NXDOMAIN);
  c.count(b, TYPE.A, RCODE.NOERROR);
  c.count(b, 65280, RCODE.NOERROR); // a private-use type counts as other
  c.count(b, TYPE.MX, 9); // an rcode outside the counted ones too
  c.count(-1, TYPE.A, RCODE.NOERROR); // no domain: nothing
  assert.equal(c.cells, 5);
  const got = c.drain();
  assert.equal(got.counts.length, 5, 'one entry per cell');
  assert.deepEqual(sum(got), new Map([
    ['900001 A NOERROR', 5], ['900001 AAAA NXDOMAIN', 1], ['900002 A NOERROR', 1],
    ['900002 other NOERROR', 1], ['900002 MX other', 1],
  ]));
  assert.equal(c.cells, 0);
  assert.deepEqual(c.drain(), { domainIds: [], qtypes: [], rcodes: [], counts: [] });
  c.count(b, TYPE.A, RCODE.NOERROR);
  assert.deepEqual(sum(c.drain()), new Map([['900002 A NOERROR', 1]]), 'a drained cell starts again from zero');
});

test('200,000 domains answered once each: every count survives the table growing, in a few MiB', () => {
  const c = new DomainCounts();
  const n = 200_000;
  const idx = Array.from({ length: n }, (_, k) => domainIndex(1_000_000 + k));
  for (let k = 0; k < n; k++) c.count(idx[k], TYPE.A, RCODE.NOERROR);
  for (let k = 0; k < n; k += 2) c.count(idx[k], TYPE.A, RCODE.NOERROR);
  assert.equal(c.cells, n);
  // At most 48 octets a cell (12 octets a slot, at least a quarter of them used); a row of every
  // (type, rcode) per domain would be 560 octets each, 112 MB here.
  assert.ok(c.bytes <= 48 * n, `${c.bytes} octets for ${n} cells`);
  const got = c.drain();
  assert.equal(got.counts.length, n);
  const total = got.counts.reduce((s, x) => s + x, 0);
  assert.equal(total, n + n / 2);
  const byId = new Map(got.domainIds.map((id, k) => [id, got.counts[k]]));
  assert.equal(byId.get(1_000_000), 2);
  assert.equal(byId.get(1_000_001), 1);
  assert.equal(byId.get(1_000_000 + n - 2), 2);
  const size = c.bytes;
  for (let k = 0; k < n; k++) c.count(idx[k], TYPE.A, RCODE.NOERROR);
  assert.equal(c.bytes, size, 'the same traffic again fits the table it left');
});
