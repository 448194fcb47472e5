// The packed form the store reads zones in (snapshot/packed.ts) compiles to the same zone as the
// records it packs, through the node cache or not; a zone whose data holds the record separator is
// read as rows instead, and served the same.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { compileZone, compilePackedZone, CompileCache, type CompiledZone, type StoredRecord } from '../../src/snapshot/zone.js';
import { RS, US, packedIntact, unpack, unpackDomains, type PackedRecords } from '../../src/snapshot/packed.js';
import type { DomainRow } from '../../src/snapshot/domain.js';
import { loadAll } from '../../src/store/load.js';
import { compileLarge, largeZones, LARGE_ZONE_RECORDS, NODES_PER_STEP, buildSnapshot, applyDelta, type ZoneSource } from '../../src/snapshot/build.js';
import { freshDatabase } from '../helpers/db.js';

/** As store/load.ts packs them: sorted by owner, then type, then the order given. */
function pack(records: readonly StoredRecord[]): PackedRecords {
  const sorted = records.map((r, i) => ({ r, i })).sort((a, b) =>
    (a.r.owner < b.r.owner ? -1 : a.r.owner > b.r.owner ? 1 : 0) || a.r.type - b.r.type || a.i - b.i).map((x) => x.r);
  return {
    text: sorted.map((r) => [r.owner, r.type, r.ttl, r.rdata].join(US)).join(RS),
    count: sorted.length, maxTtl: Math.max(0, ...sorted.map((r) => r.ttl)),
  };
}

/** Everything the lookup reads of a zone, as plain data. */
function shape(z: CompiledZone): unknown {
  const nodes = [...z.nodes].sort(([a], [b]) => (a < b ? -1 : 1)).map(([key, n]) => ({
    key, labels: n.name.keys, cut: n.cut,
    sets: [...n.rrsets.values()].sort((a, b) => a.type - b.type).map((s) => ({
      type: s.type, compress: s.compress,
      rrs: s.rrs.map((rr) => ({ ttl: rr.ttl, parts: rr.parts.map((p) => (p instanceof Uint8Array ? [...p] : { ...p })) })),
    })),
  }));
  return { id: z.id, serial: z.serial, nodes, ents: [...z.ents].sort(), wildcard: z.hasWildcard, dname: z.hasDname, maxTtl: z.maxTtl };
}

const SOA: StoredRecord = { owner: '@', type: 6, ttl: 3600, rdata: 'ns1.example.net. hostmaster 7 7200 3600 1209600 300' };
function zone(i: number): StoredRecord[] {
  return [
    SOA,
    { owner: '@', type: 2, ttl: 3600, rdata: 'ns1.example.net.' },
    { owner: '@', type: 2, ttl: 3600, rdata: 'ns2.example.net.' },
    { owner: '@', type: 1, ttl: 300, rdata: `192.0.2.${i % 3}` },
    { owner: '@', type: 28, ttl: 300, rdata: `2001:db8::${i}` },
    { owner: '@', type: 16, ttl: 3600, rdata: '"v=spf1 mx -all"' },
    { owner: 'www', type: 5, ttl: 300, rdata: '@' },
    { owner: 'mail', type: 1, ttl: 300, rdata: '198.51.100.1' },
    { owner: 'mail', type: 1, ttl: 300, rdata: `198.51.100.${2 + (i % 2)}` },
    { owner: '_sip._udp', type: 33, ttl: 3600, rdata: '10 5 5060 sip' },
    { owner: '*.app', type: 1, ttl: 60, rdata: '192.0.2.9' },
    // An owner of 13 characters and more (a V8 sliced string when cut from the text).
    { owner: 'autodiscover-long.deep.below', type: 16, ttl: 120, rdata: `"x${i}" "unit${US}sep"` },
    { owner: 'child', type: 2, ttl: 86400, rdata: 'ns.child' },
    { owner: 'ns.child', type: 1, ttl: 86400, rdata: '192.0.2.53' },
    { owner: 'mail', type: 15, ttl: 3600, rdata: '10 mail' },
  ];
}

test('compilePackedZone gives the zone compileZone gives, with a cache shared across zones and without', () => {
  const shared = new CompileCache();
  const sharedPacked = new CompileCache();
  for (let i = 0; i < 12; i++) {
    const records = zone(i);
    const p = pack(records);
    assert.ok(packedIntact(p.text, p.count));
    const plain = compileZone(i, records, [], undefined, shared, 40 + i);
    assert.deepEqual(shape(compilePackedZone(i, p, undefined, sharedPacked, 40 + i)), shape(plain), `zone ${i}, shared cache`);
    assert.deepEqual(shape(compilePackedZone(i, p, undefined, new CompileCache(), 40 + i)), shape(plain), `zone ${i}, own cache`);
  }
  // RRset order within a node is the packed order (type, then as added).
  const z = compilePackedZone(1, pack(zone(1)));
  assert.deepEqual(z.nodes.get('mail')!.rrsets.get(1)!.rrs.map((rr) => [...(rr.parts[0] as Uint8Array)]), [[198, 51, 100, 1], [198, 51, 100, 3]]);
  assert.deepEqual([...z.ents].sort(), ['_udp', 'app', 'below', 'deep.below']);
  assert.equal(z.nodes.get('child')!.cut, true);
  assert.equal(z.maxTtl, 86400);
  // Without a given serial, the apex SOA's.
  assert.equal(compilePackedZone(1, pack(zone(1))).serial, 7);
});

test('a record that does not parse is reported and left out the same way in both forms', () => {
  const records = [...zone(1), { owner: 'bad', type: 1, ttl: 60, rdata: '999.1.1.1' }, { owner: 'mail', type: 1, ttl: 60, rdata: 'nope' }];
  const seen: string[][] = [[], []];
  const plain = compileZone(1, records, [], (r) => seen[0].push(`${r.owner} ${r.rdata}`));
  const packed = compilePackedZone(1, pack(records), (r) => seen[1].push(`${r.owner} ${r.rdata}`));
  assert.deepEqual(shape(packed), shape(plain));
  assert.deepEqual(seen[1].sort(), seen[0].sort());
  assert.deepEqual(seen[0].sort(), ['bad 999.1.1.1', 'mail nope']);
  assert.equal(packed.nodes.has('bad'), false);
  assert.equal(packed.nodes.get('mail')!.rrsets.get(1)!.rrs.length, 2, 'the node keeps the records that parse');
});

test('packedIntact counts records, so a separator inside the data is caught; unpack round-trips', () => {
  const records = zone(3);
  const p = pack(records);
  assert.equal(unpack(p).length, records.length);
  assert.deepEqual(new Set(unpack(p).map((r) => JSON.stringify(r))), new Set(records.map((r) => JSON.stringify(r))));
  const withRs = pack([...records, { owner: 'x', type: 16, ttl: 60, rdata: `"a${RS}b"` }]);
  assert.equal(packedIntact(withRs.text, withRs.count), false);
  assert.equal(packedIntact('', 0), true);
});

const db = await freshDatabase();
after(() => db.drop());

test('loadAll packs each zone; a zone whose rdata holds U+001E is read as rows and compiles the same', async () => {
  const c = await db.pool.connect();
  try {
    const t = (await c.query<{ id: number }>("INSERT INTO tenants (name) VALUES ('packed') RETURNING id")).rows[0].id;
    const ids: number[] = [];
    for (const [name, extra] of [['plain', 'plain'], ['odd', `odd${RS}one`]] as const) {
      const z = (await c.query<{ id: number }>('INSERT INTO zones (tenant_id, name) VALUES ($1, $2) RETURNING id', [t, name])).rows[0].id;
      ids.push(z);
      for (const r of [...zone(5), { owner: 'txt', type: 16, ttl: 60, rdata: `"${extra}"` }]) {
        await c.query('INSERT INTO records (zone_id, owner, type, ttl, rdata) VALUES ($1, $2, $3, $4, $5)', [z, r.owner, r.type, r.ttl, r.rdata]);
      }
      await c.query('INSERT INTO domains (tenant_id, name, zone_id) VALUES ($1, $2, $3)', [t, `${name}.example.`, z]);
    }
  } finally {
    c.release();
  }
  const got = new Map<number, { packed: boolean; records: number; zone: CompiledZone }>();
  const cache = new CompileCache();
  await loadAll(db.pool, (batch) => {
    for (const [id, z] of batch) {
      got.set(id, {
        packed: z.packed !== undefined, records: z.packed ? z.packed.count : z.records.length,
        zone: z.packed ? compilePackedZone(id, z.packed, undefined, cache, z.serial) : compileZone(id, z.records, z.schedules, undefined, cache, z.serial),
      });
    }
  });
  const [plain, odd] = [...got.values()];
  assert.deepEqual([plain.packed, odd.packed], [true, false]);
  assert.deepEqual([plain.records, odd.records], [16, 16]);
  const txt = (z: CompiledZone) => [...(z.nodes.get('txt')!.rrsets.get(16)!.rrs[0].parts[0] as Uint8Array)];
  assert.deepEqual(txt(odd.zone), [7, ...Buffer.from(`odd${RS}one`)]);
  assert.deepEqual(txt(plain.zone), [5, ...Buffer.from('plain')]);
  // Everything but the TXT node is the same zone in both forms.
  const strip = (z: CompiledZone) => {
    const s = shape(z) as { nodes: Array<{ key: string }>; id: number };
    return { ...s, id: 0, nodes: s.nodes.filter((n) => n.key !== 'txt') };
  };
  assert.deepEqual(strip(odd.zone), strip(plain.zone));
});

test('a large zone compiles in steps (compileLarge) to the zone compiled at once; largeZones picks only those', () => {
  const records: StoredRecord[] = [SOA, { owner: '@', type: 2, ttl: 3600, rdata: 'ns1.example.net.' }];
  for (let i = 0; i < LARGE_ZONE_RECORDS; i++) records.push({ owner: `h${i}`, type: 1, ttl: 60, rdata: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}` });
  const big: ZoneSource = { records: [], schedules: [], packed: pack(records), serial: 9 };
  const small: ZoneSource = { records: [], schedules: [], packed: pack(zone(1)), serial: 9 };
  const pending: ZoneSource = { ...big, schedules: [{ owner: 'x', type: 1, ttl: 60, rdatas: ['192.0.2.1'], at: new Date(Date.now() + 60_000) }] };
  assert.deepEqual(largeZones(new Map([[1, big], [2, small], [3, pending]])), [1]);
  const steps = compileLarge(1, big);
  let n = 0;
  let r = steps.next();
  while (!r.done) { n++; r = steps.next(); }
  // One node per record but the apex's: a step per NODES_PER_STEP of them at least.
  assert.ok(n >= Math.floor(LARGE_ZONE_RECORDS / NODES_PER_STEP), `${n} steps for ${records.length} records`);
  // One record fewer than the threshold (the SOA and NS count): compiled at once.
  const under: ZoneSource = { ...big, packed: pack(records.slice(0, LARGE_ZONE_RECORDS - 1)) };
  assert.deepEqual(largeZones(new Map([[4, under]])), []);
  assert.deepEqual(shape(r.value), shape(compileZone(1, records, [], undefined, undefined, 9)));
});

test('an RRset is never another one: RR numbers are not reused when the cache forgets them (past 65,536 RRs)', () => {
  // RRsets of two RRs: those are keyed by RR numbers (an RRset of one RR by the RR itself).
  const cache = new CompileCache();
  const first = [cache.rr(1, 60, '10.0.0.1'), cache.rr(1, 60, '10.0.0.2')];
  assert.equal(cache.rrset(1, first).rrs[0], first[0]);
  // RRs made without RRsets (as in RRsets whose TTLs disagree) until the number map starts over.
  for (let i = 1; i < 65_536; i++) cache.rr(1, 60, `11.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
  const later = [cache.rr(1, 60, '192.0.2.98'), cache.rr(1, 60, '192.0.2.99')];
  assert.equal(cache.rrset(1, later).rrs[0], later[0], 'not the RRset of the RRs that had their numbers');
});

test('an RRset of one RR is interned by that RR: equal RRsets under other owners and in other zones are one object', () => {
  const cache = new CompileCache();
  const a = compileZone(1, [SOA, { owner: 'www', type: 1, ttl: 60, rdata: '192.0.2.1' }, { owner: 'mail', type: 1, ttl: 60, rdata: '192.0.2.1' }], [], undefined, cache);
  const b = compileZone(2, [SOA, { owner: 'web', type: 1, ttl: 60, rdata: '192.0.2.1' }, { owner: 'ftp', type: 1, ttl: 300, rdata: '192.0.2.1' }], [], undefined, cache);
  const set = (z: CompiledZone, owner: string) => z.nodes.get(owner)!.rrsets.get(1)!;
  assert.equal(set(a, 'www'), set(a, 'mail'));
  assert.equal(set(a, 'www'), set(b, 'web'));
  assert.notEqual(set(b, 'ftp'), set(b, 'web'), 'another TTL is another RR');
  assert.equal(set(b, 'ftp').rrs[0].ttl, 300);
  // A type is part of the RR: the same text as TXT and as A are not one RRset.
  const c = compileZone(3, [SOA, { owner: 'x', type: 16, ttl: 60, rdata: '"192.0.2.1"' }], [], undefined, cache);
  assert.equal(set(c, 'x'), undefined);
  assert.equal(c.nodes.get('x')!.rrsets.get(16)!.type, 16);
});

test('a zone with an owner holding U+001F (written by plain SQL) is read as rows, its other records served as usual', async () => {
  const c = await db.pool.connect();
  let zoneId: number;
  try {
    const t = (await c.query<{ id: number }>("INSERT INTO tenants (name) VALUES ('packed-us') RETURNING id")).rows[0].id;
    zoneId = (await c.query<{ id: number }>("INSERT INTO zones (tenant_id, name) VALUES ($1, 'ownerus') RETURNING id", [t])).rows[0].id;
    for (const r of [...zone(6), { owner: `a${US}b`, type: 1, ttl: 60, rdata: '192.0.2.7' }, { owner: 'a', type: 1, ttl: 60, rdata: '192.0.2.8' }]) {
      await c.query('INSERT INTO records (zone_id, owner, type, ttl, rdata) VALUES ($1, $2, $3, $4, $5)', [zoneId, r.owner, r.type, r.ttl, r.rdata]);
    }
    await c.query("INSERT INTO domains (tenant_id, name, zone_id) VALUES ($1, 'ownerus.example.', $2)", [t, zoneId]);
  } finally {
    c.release();
  }
  let seen: { packed: boolean; records: number } | undefined;
  let compiled: CompiledZone | undefined;
  await loadAll(db.pool, (batch) => {
    const z = batch.get(zoneId);
    if (!z) return;
    seen = { packed: z.packed !== undefined, records: z.records.length };
    compiled = compileZone(zoneId, z.records, z.schedules, () => undefined, undefined, z.serial);
  });
  assert.deepEqual(seen, { packed: false, records: 17 });
  assert.deepEqual([...(compiled!.nodes.get('a')!.rrsets.get(1)!.rrs[0].parts[0] as Uint8Array)], [192, 0, 2, 8], 'owner "a" keeps its own record only');
});

/** The ArrayBuffers a zone's rdata octets live in (a slab is shared by many records). */
function buffersOf(z: CompiledZone): Set<ArrayBufferLike> {
  const out = new Set<ArrayBufferLike>();
  for (const n of z.nodes.values()) for (const s of n.rrsets.values()) for (const rr of s.rrs) {
    for (const p of rr.parts) if (p instanceof Uint8Array) out.add(p.buffer);
  }
  return out;
}

test('a zone edited through the journal keeps a slab of its own size, a large build shares 64 KiB slabs', () => {
  const domains = Array.from({ length: 400 }, (_, i) => ({
    id: i + 1, name: `d${i}.example.`, zone_id: i + 1, delegation_only: false, serial_offset: 0, pzc_zone_id: null, pzc_at: null,
  }));
  const sources = new Map<number, ZoneSource>(domains.map((d) => [d.id, { records: zone(d.id), schedules: [] }]));
  const snap = buildSnapshot(domains, sources);
  // The load: rdata of 400 zones in a few shared slabs, not one buffer per record.
  const loaded = new Set<ArrayBufferLike>();
  for (const d of domains) for (const b of buffersOf(snap.zones.get(d.id)!)) loaded.add(b);
  assert.ok(loaded.size <= 10, `${loaded.size} buffers for 400 zones`);
  // One zone changed, as a journal delta brings it: its own data is a few hundred octets, and so is
  // what it keeps alive (the first slab of a delta is 1 KiB; it was 64 KiB for each delta).
  const edited = zone(7).map((r) => (r.type === 16 && r.owner === '@' ? { ...r, rdata: '"edited"' } : r));
  const next = applyDelta(snap, { domains: [], goneDomains: [], zones: new Map([[7, { records: edited, schedules: [] }]]), changedZones: [7] });
  const kept = [...buffersOf(next.zones.get(7)!)].filter((b) => !loaded.has(b));
  assert.ok(kept.length > 0, 'the edited zone has rdata of its own');
  const bytes = kept.reduce((n, b) => n + b.byteLength, 0);
  assert.ok(bytes <= 4096, `the edited zone keeps ${bytes} octets of slab alive`);
});

test('loadAll reads domain rows packed: every field as a row would have it, and a name holding U+001E or U+001F', async () => {
  const c = await db.pool.connect();
  const names = ['plaindom.example.', `us${US}x.example.`, `rs${RS}x.example.`, 'pzc.example.', 'tld.'];
  try {
    const t = (await c.query<{ id: number }>("INSERT INTO tenants (name) VALUES ('packed-domains') RETURNING id")).rows[0].id;
    const z = (await c.query<{ id: number }>("INSERT INTO zones (tenant_id, name) VALUES ($1, 'pd') RETURNING id", [t])).rows[0].id;
    const z2 = (await c.query<{ id: number }>("INSERT INTO zones (tenant_id, name) VALUES ($1, 'pd2') RETURNING id", [t])).rows[0].id;
    for (const n of names) {
      await c.query(`INSERT INTO domains (tenant_id, name, zone_id, delegation_only, pzc_zone_id, pzc_at)
                     VALUES ($1, $2, $3, $4, $5, $6)`,
      [t, n, z, n === 'tld.', n === 'pzc.example.' ? z2 : null, n === 'pzc.example.' ? new Date('2031-02-03T04:05:06Z') : null]);
    }
    // A serial offset other than 0 (the domains trigger sets it from serials; set it straight here).
    await c.query("UPDATE domains SET serial_offset = 4294967295 WHERE name = 'plaindom.example.'");
  } finally {
    c.release();
  }
  const all = await loadAll(db.pool, () => undefined);
  const rows = (await db.pool.query<DomainRow>('SELECT id, name, zone_id, delegation_only, serial_offset, pzc_zone_id, pzc_at FROM domains')).rows;
  const byName = (list: DomainRow[]) => new Map(list.map((d) => [d.name, { ...d }]));
  const got = byName(all.domains);
  assert.equal(all.domains.length, rows.length);
  for (const [name, row] of byName(rows)) assert.deepEqual(got.get(name), row, name);
  for (const n of names) assert.ok(got.has(n), n);
  assert.deepEqual(got.get('pzc.example.')!.pzc_at, new Date('2031-02-03T04:05:06Z'));
  assert.equal(got.get('plaindom.example.')!.serial_offset, 4294967295);
  assert.equal(got.get('tld.')!.delegation_only, true);
});

test('unpackDomains: empty fields are nulls, the name is the rest of the record', () => {
  const out: DomainRow[] = [];
  unpackDomains(['7', '8', '0', '12', '', '', `a${US}b.`].join(US) + RS + ['9', '8', '1', '0', '10', '1700000000', 'c.'].join(US), out);
  assert.deepEqual(out, [
    { id: 7, zone_id: 8, delegation_only: false, serial_offset: 12, pzc_zone_id: null, pzc_at: null, name: `a${US}b.` },
    { id: 9, zone_id: 8, delegation_only: true, serial_offset: 0, pzc_zone_id: 10, pzc_at: new Date(1_700_000_000_000), name: 'c.' },
  ]);
});
