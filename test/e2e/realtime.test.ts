// Realtime: a committed change (plain SQL here, so no API shortcut helps) is visible in answers
// within milliseconds, and a lost journal connection delays changes but never loses them.
// The bounds here prove the LISTEN/NOTIFY path (the fallback poll is 5 s, so without NOTIFY the
// median would be seconds) with room for a loaded CI machine; the product target (p99 <= 50 ms
// after commit) is measured by `npm run bench` ("Edit -> visible"), never by a timed test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, importText, settle } from '../helpers/server.js';
import { query } from '../helpers/dig.js';

const s = await startTestServer({ api: null });
await importText(s, `$ORIGIN rt.example.
$TTL 300
@ SOA ns1 host 1 3600 600 86400 60
@ NS ns1
ns1 A 192.0.2.53
probe TXT "v-init"
`);
const zoneId = (await s.db.pool.query<{ id: number }>("SELECT zone_id AS id FROM domains WHERE name = 'rt.example.'")).rows[0].id;

async function visible(text: string, limitMs: number): Promise<number> {
  const t0 = performance.now();
  for (;;) {
    const r = await query(s.dnsPort(), 'probe.rt.example.', 'TXT');
    if (r.answer.some((a) => a.includes(text))) return performance.now() - t0;
    if (performance.now() - t0 > limitMs) throw new Error(`"${text}" not visible after ${limitMs} ms`);
  }
}

test('200 edits committed with plain SQL each reach the answers through NOTIFY (p50 < 50 ms, p99 < 250 ms)', async () => {
  const lat: number[] = [];
  for (let i = 0; i < 200; i++) {
    await s.db.pool.query("UPDATE records SET rdata = $2 WHERE zone_id = $1 AND owner = 'probe'", [zoneId, `"v-${i}"`]);
    lat.push(await visible(`"v-${i}"`, 5000));
  }
  lat.sort((a, b) => a - b);
  const pct = (p: number) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))];
  const summary = `edit-to-visible ms: p50 ${pct(0.5).toFixed(2)} p90 ${pct(0.9).toFixed(2)} p99 ${pct(0.99).toFixed(2)} max ${lat[lat.length - 1].toFixed(2)}`;
  console.log(`# ${summary}`);
  assert.ok(pct(0.5) < 50 && pct(0.99) < 250, summary);
});

test('the serial in the SOA follows every edit', async () => {
  const before = (await query(s.dnsPort(), 'rt.example.', 'SOA')).answer[0].split(' ')[5];
  await s.db.pool.query("INSERT INTO records (zone_id, owner, type, ttl, rdata) VALUES ($1, 'new', 1, 60, '192.0.2.9')", [zoneId]);
  await settle(s);
  const after = (await query(s.dnsPort(), 'rt.example.', 'SOA')).answer[0].split(' ')[5];
  assert.equal(Number(after), Number(before) + 1);
  const a = await query(s.dnsPort(), 'new.rt.example.', 'A');
  assert.deepEqual(a.answer, ['new.rt.example. A 60 192.0.2.9']);
});

/** Asks `www.<apex>` A twice (the second answer comes from the response cache,
 *  src/server/response-cache.ts), expecting `before`; then adds the domain `apex` and expects the
 *  new domain's answer at once. */
async function cachedThenServed(apex: string, before: string, address: string): Promise<void> {
  const name = `www.${apex}`;
  for (let i = 0; i < 2; i++) assert.equal((await query(s.dnsPort(), name, 'A')).rcode, before);
  await importText(s, `$ORIGIN ${apex}\n$TTL 300\n@ SOA ns1.rt.example. host 1 3600 600 86400 60\n@ NS ns1.rt.example.\nwww A ${address}\n`);
  const r = await query(s.dnsPort(), name, 'A');
  assert.equal(r.rcode, 'NOERROR');
  assert.deepEqual(r.answer, [`${name} A 300 ${address}`]);
}

test('a cached answer for a name no domain served is dropped once a domain serves it', async () => {
  await cachedThenServed('later.example.', 'REFUSED', '192.0.2.80');
});

test('a cached answer from a domain is dropped once a new domain below it serves the name', async () => {
  // Answered from rt.example. (NXDOMAIN); adding sub.rt.example. leaves rt.example.'s Domain as it was.
  await cachedThenServed('sub.rt.example.', 'NXDOMAIN', '192.0.2.81');
});

test('after the journal connection is killed, answers continue and changes made meanwhile arrive', async () => {
  // Kill the server's LISTEN connection from the database side.
  await s.db.pool.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'LISTEN%' AND pid <> pg_backend_pid()");
  // While it is away: the old data is still answered, and more edits are committed.
  const still = await query(s.dnsPort(), 'new.rt.example.', 'A');
  assert.equal(still.rcode, 'NOERROR');
  for (let i = 0; i < 5; i++) {
    await s.db.pool.query("INSERT INTO records (zone_id, owner, type, ttl, rdata) VALUES ($1, $2, 1, 60, '192.0.2.10')", [zoneId, `gap${i}`]);
  }
  for (let i = 0; i < 5; i++) {
    const t0 = Date.now();
    for (;;) {
      const r = await query(s.dnsPort(), `gap${i}.rt.example.`, 'A');
      if (r.rcode === 'NOERROR' && r.answer.length === 1) break;
      assert.ok(Date.now() - t0 < 15000, `gap${i} never arrived`);
      await new Promise((res) => setTimeout(res, 50));
    }
  }
  // And the listener is back: a new edit arrives promptly again.
  await s.db.pool.query("UPDATE records SET rdata = '\"v-after\"' WHERE zone_id = $1 AND owner = 'probe'", [zoneId]);
  await visible('"v-after"', 5000);
});
