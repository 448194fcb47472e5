// The response cache on its own (src/server/response-cache.ts): a hit is the stored answer patched
// for the query, a key never returns another key's or an older answer, and eviction (by entry count
// and by slab space, through wrap-around and backward-shift deletion) keeps that true.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ResponseCache } from '../../src/server/response-cache.js';
import { buildSnapshot } from '../../src/snapshot/build.js';
import { buildQuery } from '../helpers/dig.js';

const snap = buildSnapshot([], new Map());

/** A stand-in response: the query itself (so the patched parts come out the same) and a payload. */
function response(query: Buffer, payload: Buffer): Buffer {
  return Buffer.concat([query, payload]);
}

test('a hit is the stored answer with the ID, RD and CD bits and question case of the query', () => {
  const cache = new ResponseCache(100, 1232);
  const q = buildQuery('www.example.', 'A', { id: 1, rd: true });
  const p = cache.probe(q, false)!;
  assert.equal(cache.get(p, q, snap), undefined, 'empty: a miss');
  const stored = response(q, Buffer.from('answer'));
  cache.set(p, stored, undefined, snap, 3);

  const asked = buildQuery('WwW.ExAmple.', 'A', { id: 0xbeef, rd: false });
  asked[3] |= 0x10; // CD
  const out = cache.get(cache.probe(asked, false)!, asked, snap)!;
  assert.ok(out, 'the same name in another case hits');
  assert.equal(out.readUInt16BE(0), 0xbeef);
  assert.equal(out[2] & 0x01, 0, 'RD as asked');
  assert.equal(out[3] & 0x10, 0x10, 'CD as asked');
  assert.equal(out.subarray(12, 12 + 16).toString('latin1'), asked.subarray(12, 12 + 16).toString('latin1'), 'question as asked');
  assert.equal(out.subarray(asked.length).toString(), 'answer');
  assert.equal(cache.hitRcode, 3);

  for (const other of [buildQuery('www.example.', 'AAAA', { id: 1 }), buildQuery('www.example.', 'A', { id: 1, edns: 600 }),
    buildQuery('www.example.', 'A', { id: 1, edns: null }), buildQuery('ww.example.', 'A', { id: 1 })]) {
    assert.equal(cache.get(cache.probe(other, false)!, other, snap), undefined, 'another type, size limit or name misses');
  }
  assert.equal(cache.get(cache.probe(q, true)!, q, snap), undefined, 'TCP (another size limit) misses');
  assert.equal(cache.get(p, q, buildSnapshot([], new Map())), undefined, 'after a snapshot change, a name no domain served misses');
});

test('many keys through a small cache: a hit is always the latest answer stored for its key', () => {
  // 50 entries and about 9 KiB of slab for 200 keys with answers of 0-600 octets: both limits evict.
  const cache = new ResponseCache(50, 1232, 0);
  const latest = new Map<number, Buffer>();
  const queries = Array.from({ length: 200 }, (_, i) => buildQuery(`k${i}.${'x'.repeat(i % 40)}.example.`, 'TXT', { id: 9 }));
  let seed = 7;
  const rand = (n: number) => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return seed % n; };
  let hits = 0;
  let misses = 0;
  const recent: number[] = [];
  for (let step = 0; step < 20_000; step++) {
    const k = rand(200);
    const q = queries[k];
    const probe = cache.probe(q, false)!;
    if (rand(3) === 0) {
      const payload = Buffer.alloc(rand(600), `${k}:${step}:`);
      const stored = response(q, payload);
      cache.set(probe, stored, undefined, snap, 0);
      latest.set(k, stored);
      // Eviction takes the oldest first, so the last five answers stored (under 4 KiB of the 9 KiB
      // slab) are all still found.
      recent.push(k);
      if (recent.length > 5) recent.shift();
      for (const r of recent) {
        assert.deepEqual(cache.get(cache.probe(queries[r], false)!, queries[r], snap), latest.get(r), `step ${step}: key ${r}, stored lately, is found`);
      }
    } else {
      const out = cache.get(probe, q, snap);
      if (out) {
        hits++;
        assert.deepEqual(out, latest.get(k), `step ${step}: key ${k} answers with its latest answer`);
      } else {
        misses++;
      }
    }
    assert.ok(cache.size <= 50);
  }
  assert.ok(hits > 1000 && misses > 1000, `both hits (${hits}) and evictions (${misses} misses) happened`);
});

test('an answer too big to keep is not kept, and a later small one for the key is', () => {
  const cache = new ResponseCache(10, 1232);
  const q = buildQuery('big.example.', 'TXT', { id: 1 });
  cache.set(cache.probe(q, true)!, response(q, Buffer.alloc(5000)), undefined, snap, 0);
  assert.equal(cache.get(cache.probe(q, true)!, q, snap), undefined);
  cache.set(cache.probe(q, true)!, response(q, Buffer.alloc(50, 1)), undefined, snap, 0);
  assert.equal(cache.get(cache.probe(q, true)!, q, snap)?.length, q.length + 50);
});

test('a query whose only option is a COOKIE is keyed apart from one without, whatever its cookie; other options are not cached', () => {
  const cache = new ResponseCache(100, 1232);
  /** The query with an OPT record carrying `options` (code, data). */
  const withOptions = (options: Array<[number, Buffer]>) => {
    const q = buildQuery('www.example.', 'A', { id: 1 });
    const data = Buffer.concat(options.map(([code, d]) => Buffer.concat([Buffer.from([code >> 8, code & 0xff, d.length >> 8, d.length & 0xff]), d])));
    q.writeUInt16BE(data.length, q.length - 2); // the OPT record's RDLENGTH (it is the last record)
    return Buffer.concat([q, data]);
  };
  const plain = buildQuery('www.example.', 'A', { id: 1 });
  const a = withOptions([[10, Buffer.alloc(8, 0xa1)]]);
  const pa = cache.probe(a, false)!;
  assert.ok(pa, 'a client cookie alone is cacheable');
  assert.equal(a.subarray(pa.cookieAt, pa.cookieAt + pa.cookieLen).toString('hex'), 'a1'.repeat(8), 'the probe finds the option data');
  cache.set(pa, response(a, Buffer.from('cookie answer')), undefined, snap, 0);
  assert.equal(cache.get(cache.probe(plain, false)!, plain, snap), undefined, 'no cookie: another key');
  for (const other of [withOptions([[10, Buffer.alloc(8, 0xb2)]]), withOptions([[10, Buffer.alloc(24, 0xc3)]]), withOptions([[10, Buffer.alloc(40, 0xc3)]])]) {
    const p = cache.probe(other, false)!;
    assert.equal(p.cookieLen, other.length - p.cookieAt);
    assert.ok(cache.get(p, other, snap), 'another client or server cookie: the same key');
  }
  for (const [why, q] of [['FORMERR length', withOptions([[10, Buffer.alloc(12)]])], ['NSID', withOptions([[3, Buffer.alloc(0)]])],
    ['cookie and NSID', withOptions([[10, Buffer.alloc(8)], [3, Buffer.alloc(0)]])], ['41 octets', withOptions([[10, Buffer.alloc(41)]])]] as const) {
    assert.equal(cache.probe(q, false), undefined, `${why}: the full path`);
  }
});

test('scratch hits (the native UDP path) are the same bytes in memory get() reuses, not a Buffer of their own', () => {
  const cache = new ResponseCache(100, 1232);
  const q = buildQuery('scratch.example.', 'A', { id: 1 });
  const p = cache.probe(q, false)!;
  cache.set(p, response(q, Buffer.from('scratch answer')), undefined, snap, 0);
  const own = cache.get(p, q, snap)!;
  const a = cache.get(p, q, snap, true)!;
  assert.deepEqual(Buffer.from(a), own, 'the same answer either way');
  const b = cache.get(cache.probe(q, false)!, q, snap, true)!;
  // One ArrayBuffer for every scratch hit: no memory outside the V8 heap per answer, which would
  // make V8 start full marks of the heap for "external memory pressure".
  assert.equal(a.buffer, b.buffer);
  assert.notEqual(own.buffer, a.buffer);
});
