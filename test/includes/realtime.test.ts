// A base zone included by three zones (one through a chain), each served by two domains: an edit
// to the base reaches all six over real UDP within the realtime bound, moves their serials, is
// NOTIFYed to their secondaries, and IXFR carries the difference each domain serves (checked
// against AXFR through edits of every kind; across an include-list change, the whole zone).
// Overrides stay (and hide base edits), scheduled changes of the base and a domain-level PZC to a
// zone with includes serve the effective records, export is flattened.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { startTestServer, settle, waitFor } from '../helpers/server.js';
import { query, parseResponse } from '../helpers/dig.js';
import { xfr, xfrQuery } from '../helpers/xfr.js';
import { exportDomain } from '../../src/store/zone-file-io.js';

const s = await startTestServer({ api: null, transfer: { notify: { firstDelayMs: 50, maxTries: 20 } } });
const pool = s.db.pool;
const port = () => s.dnsPort();
/** Realtime bound of these tests: generous (a loaded CI machine); the latency seen is printed. */
const BOUND_MS = 5000;

const tenant = (await pool.query<{ id: number }>("INSERT INTO tenants (name) VALUES ('inc') RETURNING id")).rows[0].id;
const zone = async (name: string, records: string[]) => {
  const id = (await pool.query<{ id: number }>('INSERT INTO zones (tenant_id, name) VALUES ($1, $2) RETURNING id', [tenant, name])).rows[0].id;
  for (const r of records) {
    const [owner, type, ttl, ...rdata] = r.split(' ');
    await pool.query('INSERT INTO records (zone_id, owner, type, ttl, rdata) VALUES ($1, $2, $3, $4, $5)', [id, owner, Number(type), Number(ttl), rdata.join(' ')]);
  }
  return id;
};
const include = (z: number, list: number[]) => pool.query(
  'INSERT INTO zone_includes (zone_id, tenant_id, position, included_id) SELECT $1, $2, p - 1, i FROM unnest($3::bigint[]) WITH ORDINALITY t(i, p)', [z, tenant, list]);
const apex = (serial: number) => [`@ 6 3600 ns1 hostmaster ${serial} 3600 600 86400 300`, '@ 2 3600 ns1', 'ns1 1 3600 192.0.2.53'];

const base = await zone('base', ['mail 1 300 198.51.100.25', 'www 1 300 198.51.100.80', '@ 15 3600 10 mail']);
const mid = await zone('mid', ['mid 16 300 "mid"']);
await include(mid, [base]);
const z1 = await zone('z1', apex(10));
const z2 = await zone('z2', [...apex(20), 'www 1 60 192.0.2.80']); // overrides the base's www
const z3 = await zone('z3', apex(30));
await include(z1, [base]);
await include(z2, [base]);
await include(z3, [mid]); // through a chain
const DOMAINS = { 'a1.example.': z1, 'a2.example.': z1, 'b1.example.': z2, 'b2.example.': z2, 'c1.example.': z3, 'c2.example.': z3 };
for (const [name, z] of Object.entries(DOMAINS)) await pool.query('INSERT INTO domains (name, tenant_id, zone_id) VALUES ($1, $2, $3)', [name, tenant, z]);
await settle(s);

const a = async (name: string) => (await query(port(), name, 'A', { transport: 'udp' })).answer.map((x) => x.split(' ').pop());
const serialOf = async (name: string) => Number((await query(port(), name, 'SOA', { transport: 'udp' })).answer[0].split(' ')[5]);
const soaSerial = (rdata: string) => Number(rdata.split(' ')[2]);
/** An IXFR answer as "SOA n" and "owner type rdata" lines. */
const ixfrSteps = async (name: string, from: number) => (await xfr(port(), xfrQuery(name, 'IXFR', from))).records
  .map((r) => (r.type === 'SOA' ? `SOA ${soaSerial(r.rdata)}` : `${r.owner} ${r.type} ${r.rdata}`));
const idOf = async (name: string) => (await pool.query<{ id: number }>('SELECT id FROM domains WHERE name = $1', [name])).rows[0].id;

test('the included records are served by every domain, overrides stay', async () => {
  for (const name of Object.keys(DOMAINS)) assert.deepEqual(await a(`mail.${name}`), ['198.51.100.25'], name);
  assert.deepEqual((await query(port(), 'a1.example.', 'MX')).answer, ['a1.example. MX 3600 10 mail.a1.example.'], 'relative names resolve against the domain');
  assert.deepEqual(await a('www.b1.example.'), ['192.0.2.80']);
  assert.deepEqual(await a('www.a1.example.'), ['198.51.100.80']);
  assert.deepEqual((await query(port(), 'mid.c2.example.', 'TXT')).answer, ['mid.c2.example. TXT 300 "mid"']);
});

test('a base edit reaches three including zones on two domains each: answers, serials, NOTIFY, transfer', async () => {
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  const notified: string[] = [];
  sock.on('message', (m, rinfo) => {
    const r = parseResponse(Buffer.from(m));
    notified.push(`${r.question} ${Number(r.answer[0]?.split(' ')[5])}`);
    const resp = Buffer.from(m);
    resp[2] |= 0x80; // acknowledge (RFC 1996 4.7)
    sock.send(resp, rinfo.port, rinfo.address);
  });
  try {
    for (const name of ['a1.example.', 'c2.example.']) {
      await pool.query(`INSERT INTO domain_transfer (domain_id, allow, notify) VALUES ($1, '{127.0.0.1/32}', $2)`, [await idOf(name), [`127.0.0.1:${sock.address().port}`]]);
    }
    await settle(s);
    await s.transfer!.settings.reload();
    const before = new Map<string, number>();
    for (const name of Object.keys(DOMAINS)) before.set(name, await serialOf(name));

    const t0 = Date.now();
    await pool.query("UPDATE records SET rdata = '198.51.100.26' WHERE zone_id = $1 AND owner = 'mail'", [base]);
    const seen = new Map<string, number>();
    await waitFor(async () => {
      for (const name of Object.keys(DOMAINS)) {
        if (!seen.has(name) && (await a(`mail.${name}`))[0] === '198.51.100.26') seen.set(name, Date.now() - t0);
      }
      return seen.size === Object.keys(DOMAINS).length;
    }, BOUND_MS, 'the base edit in all six domains');
    console.log(`# base edit served by all six domains after ${Math.max(...seen.values())} ms (${[...seen].map(([n, ms]) => `${n} ${ms}`).join(', ')})`);

    for (const name of Object.keys(DOMAINS)) assert.equal(await serialOf(name), before.get(name)! + 1, `${name}: serial moved by one`);
    await waitFor(() => ['a1.example.', 'c2.example.'].every((n) => notified.includes(`${n} SOA ${before.get(n)! + 1}`)), BOUND_MS, 'NOTIFY of the new serials');

    // IXFR from the serial before: the base's difference, as c2 serves it (through mid), RFC 1995 4.
    const c2 = before.get('c2.example.')!;
    assert.deepEqual(await ixfrSteps('c2.example.', c2), [
      `SOA ${c2 + 1}`, `SOA ${c2}`, 'mail.c2.example. A 198.51.100.25', `SOA ${c2 + 1}`, 'mail.c2.example. A 198.51.100.26', `SOA ${c2 + 1}`]);
    const ax = (await xfr(port(), xfrQuery('a1.example.', 'AXFR'))).records.map((r) => `${r.owner} ${r.type} ${r.rdata}`);
    assert.deepEqual(ax.filter((r) => !r.includes(' SOA ')).sort(), [
      'a1.example. MX 10 mail.a1.example.', 'a1.example. NS ns1.a1.example.', 'mail.a1.example. A 198.51.100.26',
      'ns1.a1.example. A 192.0.2.53', 'www.a1.example. A 198.51.100.80']);
  } finally {
    sock.close();
  }
});

test('a base edit hidden by an override moves nothing of the overriding zone', async () => {
  const before = { a1: await serialOf('a1.example.'), b1: await serialOf('b1.example.'), c1: await serialOf('c1.example.') };
  await pool.query("UPDATE records SET rdata = '198.51.100.81' WHERE zone_id = $1 AND owner = 'www'", [base]);
  await settle(s);
  assert.deepEqual(await a('www.a1.example.'), ['198.51.100.81']);
  assert.deepEqual(await a('www.b1.example.'), ['192.0.2.80']);
  assert.equal(await serialOf('a1.example.'), before.a1 + 1);
  assert.equal(await serialOf('c1.example.'), before.c1 + 1);
  assert.equal(await serialOf('b1.example.'), before.b1, 'what b1 serves did not change');
});

test('an own edit of a zone with includes: IXFR carries what is served (the override out, the base in)', async () => {
  const before = await serialOf('b1.example.');
  await pool.query('INSERT INTO domain_transfer (domain_id, allow) VALUES ($1, \'{127.0.0.1/32}\')', [await idOf('b1.example.')]);
  await pool.query("DELETE FROM records WHERE zone_id = $1 AND owner = 'www'", [z2]);
  await settle(s);
  await s.transfer!.settings.reload();
  assert.deepEqual(await a('www.b1.example.'), ['198.51.100.81']);
  assert.deepEqual(await ixfrSteps('b1.example.', before), [
    `SOA ${before + 1}`, `SOA ${before}`, 'www.b1.example. A 192.0.2.80', `SOA ${before + 1}`, 'www.b1.example. A 198.51.100.81', `SOA ${before + 1}`]);
});

test('IXFR differences applied to an old AXFR give the new AXFR, through edits of every kind', async () => {
  const set = async (name: string) => new Set((await xfr(port(), xfrQuery(name, 'AXFR'))).records.filter((r) => r.type !== 'SOA').map((r) => `${r.owner} ${r.type} ${r.rdata}`));
  const names = ['a1.example.', 'b2.example.', 'c1.example.'];
  for (const n of names) if (n !== 'a1.example.') await pool.query('INSERT INTO domain_transfer (domain_id, allow) VALUES ($1, \'{127.0.0.1/32}\') ON CONFLICT DO NOTHING', [await idOf(n)]);
  await settle(s);
  await s.transfer!.settings.reload();
  const old = new Map<string, { serial: number; recs: Set<string> }>();
  for (const n of names) old.set(n, { serial: await serialOf(n), recs: await set(n) });
  const ins = (z: number, owner: string, type: number, rdata: string) => pool.query('INSERT INTO records (zone_id, owner, type, ttl, rdata) VALUES ($1, $2, $3, 300, $4)', [z, owner, type, rdata]);
  await ins(base, 'new', 1, '198.51.100.7'); // base: a new name everywhere
  await ins(z1, 'new', 1, '192.0.2.7'); // z1 overrides it
  await ins(mid, 'mail', 16, '"mid mail"'); // mid adds a type at the base's owner (c only)
  await ins(base, 'alias', 5, 'www'); // a CNAME in the base...
  await ins(z3, 'alias', 16, '"z3 data"'); // ...hidden at c by z3's own data there (RFC 1034 3.6.2)
  await pool.query("DELETE FROM records WHERE zone_id = $1 AND owner = 'new'", [z1]); // the base's shows again
  await pool.query("UPDATE records SET ttl = 600 WHERE zone_id = $1 AND owner = '@' AND type = 15", [base]);
  await settle(s);
  for (const n of names) {
    const o = old.get(n)!;
    const r = (await xfr(port(), xfrQuery(n, 'IXFR', o.serial))).records;
    assert.ok(r.filter((x) => x.type === 'SOA').length > 2, `${n}: an incremental answer`);
    const recs = new Set(o.recs);
    let mode: 'del' | 'add' = 'add';
    for (const x of r.slice(1, -1)) {
      if (x.type === 'SOA') { mode = mode === 'add' ? 'del' : 'add'; continue; }
      const k = `${x.owner} ${x.type} ${x.rdata}`;
      if (mode === 'del') assert.ok(recs.delete(k), `${n}: removes ${k}, which it had`); else recs.add(k);
    }
    assert.deepEqual([...recs].sort(), [...await set(n)].sort(), n);
  }
  assert.ok((await set('c1.example.')).has('alias.c1.example. TXT "z3 data"'));
  assert.ok(!(await set('c1.example.')).has('alias.c1.example. CNAME www.c1.example.'));
  assert.ok((await set('a1.example.')).has('alias.a1.example. CNAME www.a1.example.'));
});

test('a change of an include list moves the serial; IXFR across it answers with the whole zone', async () => {
  const before = await serialOf('a1.example.');
  await pool.query('INSERT INTO zone_includes (zone_id, tenant_id, position, included_id) VALUES ($1, $2, 1, $3)', [z1, tenant, mid]);
  await settle(s);
  assert.equal(await serialOf('a1.example.'), before + 1);
  assert.deepEqual((await query(port(), 'mid.a1.example.', 'TXT')).answer, ['mid.a1.example. TXT 300 "mid"']);
  const r = await ixfrSteps('a1.example.', before);
  assert.equal(r.filter((x) => x.startsWith('SOA')).length, 2, 'the SOA first and last only (RFC 1995 4)');
  assert.ok(r.includes('mid.a1.example. TXT "mid"'));
});

test('export and the effective zone file show the flattened zone', async () => {
  const text = await exportDomain(pool, 'c1.example.');
  assert.match(text, /^mail\s+300\s+IN\s+A\s+198\.51\.100\.26$/m);
  assert.match(text, /^mid\s+300\s+IN\s+TXT\s+"mid"$/m);
});

test('a scheduled change of the base takes effect in its includers at its time', async () => {
  const at = (await pool.query<{ at: Date }>(
    `INSERT INTO scheduled_rrsets (zone_id, owner, type, ttl, rdatas, at) VALUES ($1, 'sched', 1, 60, '{192.0.2.99}', date_trunc('second', now()) + interval '2 seconds')
     RETURNING at`, [base])).rows[0].at;
  await settle(s);
  assert.deepEqual(await a('sched.a2.example.'), [], 'not before its time');
  await waitFor(async () => (await a('sched.a2.example.'))[0] === '192.0.2.99' && (await a('sched.c1.example.'))[0] === '192.0.2.99',
    at.getTime() - Date.now() + BOUND_MS, 'the scheduled base change in the includers');
  assert.ok(Date.now() >= at.getTime() - 50, 'not before the switch time');
});

test('a domain switching (PZC) to a zone with includes serves its effective records', async () => {
  const plain = await zone('plain', apex(5));
  await pool.query('INSERT INTO domains (name, tenant_id, zone_id) VALUES ($1, $2, $3)', ['p1.example.', tenant, plain]);
  await settle(s);
  assert.deepEqual(await a('mail.p1.example.'), []);
  const at = (await pool.query<{ at: Date }>(
    `UPDATE domains SET pzc_zone_id = $1, pzc_at = date_trunc('second', now()) + interval '2 seconds' WHERE name = 'p1.example.' RETURNING pzc_at AS at`, [z1])).rows[0].at;
  await settle(s);
  await waitFor(async () => (await a('mail.p1.example.'))[0] === '198.51.100.26', at.getTime() - Date.now() + BOUND_MS, 'the switch to z1 with its includes');
  assert.ok(Date.now() >= at.getTime() - 50, 'not before the switch time');
});
