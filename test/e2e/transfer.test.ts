// Zone transfers over real sockets: AXFR framing over many messages, TSIG on every message, IXFR
// differences and the AXFR fallback, UDP IXFR, access control, NOTIFY (refused inbound; sent,
// retried and acknowledged outbound), and transfers while a Progressive Zone Change is pending.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { startTestServer, importText, settle, waitFor } from '../helpers/server.js';
import { query, buildQuery, exchange, parseResponse } from '../helpers/dig.js';
import { xfr, xfrQuery, signQuery } from '../helpers/xfr.js';
import { TsigStreamVerifier, findTsig, verify, TSIG_ERROR, type TsigKey } from '../../src/dns/tsig.js';

const s = await startTestServer({ api: null, transfer: { notify: { firstDelayMs: 150, maxTries: 20 }, reannounce: { minGapSeconds: 1, intervalMs: 100 } } });
const port = () => s.dnsPort();
const pool = s.db.pool;
const KEY: TsigKey = { name: 'xfr-key.', algorithm: 'hmac-sha512', secret: randomBytes(64) };

const RECORDS = 3000;
let big = `$ORIGIN big.example.\n$TTL 3600\n@ SOA ns1 hostmaster 7 3600 600 86400 300\n@ NS ns1\nns1 A 192.0.2.1\n`;
for (let i = 0; i < RECORDS; i++) big += `host-${i} 300 A 10.${(i >> 8) & 255}.${i & 255}.1\n`;
await importText(s, big);
await importText(s, `$ORIGIN small.example.\n$TTL 3600\n@ SOA ns1 hostmaster 100 3600 600 86400 300\n@ NS ns1\nns1 A 192.0.2.1\nwww A 192.0.2.80\n`);
await importText(s, `$ORIGIN closed.example.\n$TTL 3600\n@ SOA ns1 hostmaster 1 3600 600 86400 300\n@ NS ns1\nns1 A 192.0.2.1\n`);
await importText(s, `$ORIGIN pzc.example.\n$TTL 3600\n@ SOA ns1 hostmaster 1 3600 600 86400 300\n@ NS ns1\nns1 A 192.0.2.1\nwww A 192.0.2.80\n`, { zone: 'pzc-a' });
await importText(s, `$ORIGIN unused.example.\n$TTL 3600\n@ SOA ns1 hostmaster 1 3600 600 86400 300\n@ NS ns1\nns1 A 192.0.2.1\nwww A 203.0.113.80\n`, { zone: 'pzc-b' });

const idOf = async (name: string) => (await pool.query<{ id: number }>('SELECT id FROM domains WHERE name = $1', [name])).rows[0].id;
async function setTransfer(domain: string, allow: string[], key: string | null, notify: string[] = []): Promise<void> {
  await pool.query(`INSERT INTO domain_transfer (domain_id, allow, tsig_key, notify) VALUES ($1, $2::cidr[], $3, $4)
    ON CONFLICT (domain_id) DO UPDATE SET allow = EXCLUDED.allow, tsig_key = EXCLUDED.tsig_key, notify = EXCLUDED.notify`,
  [await idOf(domain), allow, key, notify]);
  await settleAll();
}
/** The snapshot and the transfer settings both reflect everything committed. */
async function settleAll(): Promise<void> {
  await settle(s);
  await s.transfer!.settings.reload();
}
const serialOf = async (name: string) => Number((await query(port(), name, 'SOA')).answer[0].split(' ')[5]);

await pool.query('INSERT INTO tsig_keys (name, algorithm, secret) VALUES ($1, $2, $3)', [KEY.name, KEY.algorithm, KEY.secret]);
await setTransfer('big.example.', ['127.0.0.1/32'], null);
await setTransfer('small.example.', ['127.0.0.0/8', '::1/128'], KEY.name);
await setTransfer('closed.example.', ['192.0.2.0/24'], null);

test('AXFR of a large domain: many messages, SOA first and last, every record once, compressed', async () => {
  const r = await xfr(port(), xfrQuery('big.example.', 'AXFR'));
  assert.equal(r.rcode, 'NOERROR');
  assert.ok(r.messages.length >= 4, `${r.messages.length} messages`);
  const recs = r.records;
  assert.equal(recs[0].type, 'SOA');
  assert.equal(recs[recs.length - 1].type, 'SOA');
  assert.equal(recs.filter((x) => x.type === 'SOA').length, 2);
  assert.equal(recs.length, RECORDS + 4); // SOA, NS, ns1 A, the hosts, SOA
  assert.equal(new Set(recs.map((x) => `${x.owner} ${x.type} ${x.rdata}`)).size, RECORDS + 3);
  assert.ok(recs.some((x) => x.owner === 'host-2999.big.example.' && x.rdata === '10.11.183.1' && x.ttl === 300));
  // RFC 5936 2.2.1: the question in the first message only; every message authoritative.
  assert.equal(r.messages[0].question, 'big.example. AXFR');
  for (const m of r.messages.slice(1)) assert.equal(m.question, '');
  for (const m of r.messages) { assert.ok(m.aa); assert.ok(m.size <= 16 * 1024 + 600, String(m.size)); }
  // Compression: an uncompressed owner "host-NNNN.big.example." alone is 23 octets.
  const total = r.raw.reduce((n, m) => n + m.length, 0);
  assert.ok(total < RECORDS * (23 + 14), `${total} octets`);
});

test('queries pipelined behind a transfer on the same connection are answered after it', async () => {
  const net = await import('node:net');
  const conn = net.connect(port(), '127.0.0.1');
  const frames: Buffer[] = [];
  const frame = (b: Buffer) => { const l = Buffer.alloc(2); l.writeUInt16BE(b.length); return Buffer.concat([l, b]); };
  const got = new Promise<void>((resolve) => {
    let buf = Buffer.alloc(0);
    conn.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        frames.push(buf.subarray(2, 2 + buf.readUInt16BE(0)));
        buf = buf.subarray(2 + buf.readUInt16BE(0));
        if (parseResponse(frames[frames.length - 1]).question === 'www.small.example. A') resolve();
      }
    });
  });
  conn.write(Buffer.concat([frame(xfrQuery('big.example.', 'AXFR', 0, 1)), frame(buildQuery('www.small.example.', 'A', { id: 2 }))]));
  await got;
  conn.destroy();
  const last = parseResponse(frames[frames.length - 1]);
  assert.deepEqual(last.answer, ['www.small.example. A 3600 192.0.2.80']);
  const before = frames.slice(0, -1).map(parseResponse);
  assert.ok(before.length >= 4 && before.every((m) => m.id === 1));
  assert.equal(before[before.length - 1].records.filter((x) => x.section === 'answer').pop()?.type, 'SOA');
});

test('AXFR signed with the domain key: every message signed per RFC 8945 5.3.1', async () => {
  const q = signQuery(xfrQuery('small.example.', 'AXFR'), KEY);
  const r = await xfr(port(), q.message);
  assert.equal(r.rcode, 'NOERROR');
  const v = new TsigStreamVerifier(KEY, q.mac, () => Date.now() / 1000);
  for (const m of r.raw) assert.ok(v.next(m));
  assert.ok(v.complete());
  // A flipped octet fails the check.
  const v2 = new TsigStreamVerifier(KEY, q.mac, () => Date.now() / 1000);
  const tampered = Buffer.from(r.raw[0]);
  tampered[tampered.length - 40] ^= 1;
  assert.equal(v2.next(tampered), false);
});

test('transfers refused: no key, an address not allowed, no settings, AXFR over UDP; NOTAUTH for a non-apex', async () => {
  assert.equal((await xfr(port(), xfrQuery('small.example.', 'AXFR'))).rcode, 'REFUSED');
  assert.equal((await xfr(port(), xfrQuery('closed.example.', 'AXFR'))).rcode, 'REFUSED');
  assert.equal((await xfr(port(), xfrQuery('pzc.example.', 'AXFR'))).rcode, 'REFUSED');
  assert.equal((await xfr(port(), xfrQuery('www.big.example.', 'AXFR'))).rcode, 'NOTAUTH');
  const udp = parseResponse(await exchange(port(), xfrQuery('big.example.', 'AXFR'), { transport: 'udp' }));
  assert.equal(udp.rcode, 'REFUSED');
});

test('TSIG errors (RFC 8945 5.2): unknown key BADKEY, bad MAC BADSIG (unsigned), skew BADTIME (signed)', async () => {
  const soa = buildQuery('small.example.', 'SOA', { edns: null });
  const tsigOf = (raw: Buffer) => { const t = findTsig(raw); assert.ok(t && t !== 'formerr'); return t; };

  const unknown = signQuery(soa, { ...KEY, name: 'nobody.' });
  const r1 = await exchange(port(), unknown.message, { transport: 'udp' });
  assert.equal(parseResponse(r1).rcode, 'NOTAUTH');
  assert.equal(tsigOf(r1).error, TSIG_ERROR.BADKEY);

  const bad = signQuery(soa, KEY);
  bad.message[bad.message.length - 10] ^= 0xff; // inside the MAC
  const r2 = await exchange(port(), bad.message, { transport: 'udp' });
  assert.equal(parseResponse(r2).rcode, 'NOTAUTH');
  assert.equal(tsigOf(r2).error, TSIG_ERROR.BADSIG);
  assert.equal(tsigOf(r2).mac.length, 0);

  const skewed = signQuery(soa, KEY, Date.now() / 1000 - 3600);
  const r3 = await exchange(port(), skewed.message, { transport: 'udp' });
  assert.equal(parseResponse(r3).rcode, 'NOTAUTH');
  const t3 = tsigOf(r3);
  assert.equal(t3.error, TSIG_ERROR.BADTIME);
  assert.equal(t3.other.length, 6);
  assert.ok(Math.abs(t3.other.readUIntBE(0, 6) - Date.now() / 1000) < 5);
  assert.deepEqual(verify(r3, t3, KEY, { now: t3.timeSigned, prior: skewed.mac }), { ok: true });

  // A good signature: the ordinary answer, signed over the request MAC.
  const good = signQuery(soa, KEY);
  const r4 = await exchange(port(), good.message, { transport: 'udp' });
  assert.equal(parseResponse(r4).rcode, 'NOERROR');
  assert.deepEqual(verify(r4, tsigOf(r4), KEY, { now: Date.now() / 1000, prior: good.mac }), { ok: true });
});

test('IXFR: the differences per serial change, the SOA alone when up to date, over UDP the SOA', async () => {
  const s0 = await serialOf('small.example.');
  const zone = (await pool.query<{ id: number }>("SELECT zone_id AS id FROM domains WHERE name = 'small.example.'")).rows[0].id;
  await pool.query("UPDATE records SET rdata = '192.0.2.81' WHERE zone_id = $1 AND owner = 'www' AND type = 1", [zone]);
  await pool.query("INSERT INTO records (zone_id, owner, type, ttl, rdata) VALUES ($1, 'mail', 1, 600, '192.0.2.25')", [zone]);
  await settleAll();
  const s2 = await serialOf('small.example.');
  assert.equal(s2, s0 + 2);
  const q = signQuery(xfrQuery('small.example.', 'IXFR', s0), KEY);
  const r = await xfr(port(), q.message);
  assert.equal(r.rcode, 'NOERROR');
  const text = r.records.map((x) => `${x.owner} ${x.type} ${x.type === 'SOA' ? x.rdata.split(' ')[2] : x.rdata}`);
  assert.deepEqual(text, [
    `small.example. SOA ${s2}`,
    `small.example. SOA ${s0}`, 'www.small.example. A 192.0.2.80', `small.example. SOA ${s0 + 1}`, 'www.small.example. A 192.0.2.81',
    `small.example. SOA ${s0 + 1}`, `small.example. SOA ${s2}`, 'mail.small.example. A 192.0.2.25',
    `small.example. SOA ${s2}`,
  ]);
  const v = new TsigStreamVerifier(KEY, q.mac, () => Date.now() / 1000);
  for (const m of r.raw) assert.ok(v.next(m));

  const current = await xfr(port(), signQuery(xfrQuery('small.example.', 'IXFR', s2), KEY).message);
  assert.deepEqual(current.records.map((x) => x.type), ['SOA']);
  const udp = parseResponse(await exchange(port(), signQuery(xfrQuery('small.example.', 'IXFR', s0), KEY).message, { transport: 'udp' }));
  assert.equal(udp.rcode, 'NOERROR');
  assert.deepEqual(udp.answer.map((x) => x.split(' ')[1] + ' ' + x.split(' ')[5]), [`SOA ${s2}`]);
});

test('IXFR falls back to AXFR when the range is not in the history (pruned, or a serial it never had)', async () => {
  const s0 = await serialOf('big.example.');
  const zone = (await pool.query<{ id: number }>("SELECT zone_id AS id FROM domains WHERE name = 'big.example.'")).rows[0].id;
  await pool.query("UPDATE records SET ttl = 60 WHERE zone_id = $1 AND owner = 'host-1'", [zone]);
  await settleAll();
  const s1 = await serialOf('big.example.');
  await pool.query("UPDATE records SET ttl = 120 WHERE zone_id = $1 AND owner = 'host-2'", [zone]);
  await settleAll();
  const s2 = await serialOf('big.example.');
  // Served from the history: two steps, four changed records.
  const inc = await xfr(port(), xfrQuery('big.example.', 'IXFR', s0));
  assert.equal(inc.records[1].type, 'SOA');
  assert.equal(inc.records.length, 1 + 2 * 4 + 1);
  // Pruning the oldest step: s0 is no longer reachable; s1 still is.
  // (Record changes are the zone's history since migration 008: zone_history, in zone serials.)
  await pool.query(`DELETE FROM zone_history h USING domains d
    WHERE d.name = 'big.example.' AND h.zone_id = d.zone_id AND domain_serial(h.serial_from, d.serial_offset) = $1`, [s0]);
  const full = await xfr(port(), xfrQuery('big.example.', 'IXFR', s0));
  assert.equal(full.rcode, 'NOERROR');
  assert.notEqual(full.records[1].type, 'SOA'); // AXFR form (RFC 1995 4)
  assert.equal(full.records.length, RECORDS + 4);
  assert.ok(full.messages.length >= 4);
  const still = await xfr(port(), xfrQuery('big.example.', 'IXFR', s1));
  assert.equal(still.records.length, 1 + 4 + 1);
  assert.equal(Number(still.records[0].rdata.split(' ')[2]), s2);
  // A serial the history never had.
  const unknown = await xfr(port(), xfrQuery('big.example.', 'IXFR', 3));
  assert.equal(unknown.records.length, RECORDS + 4);
});

test('NOTIFY to Glidepath is refused (it is the primary)', async () => {
  const p = buildQuery('small.example.', 'SOA', { edns: null });
  p[2] = (4 << 3) | 0x04;
  assert.equal(parseResponse(await exchange(port(), p, { transport: 'udp' })).rcode, 'REFUSED');
});

test('NOTIFY on a serial change: retried until acknowledged, signed with the domain key', async () => {
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  const seen: Buffer[] = [];
  let answer = false;
  sock.on('message', (m, rinfo) => {
    seen.push(m);
    if (!answer) return; // the first ones go unanswered: Glidepath must retry
    const resp = Buffer.from(m.subarray(0, findTsigStart(m)));
    resp[2] |= 0x80;
    resp.writeUInt16BE(1, 4); resp.writeUInt16BE(0, 6); resp.writeUInt16BE(0, 8); resp.writeUInt16BE(0, 10);
    sock.send(resp.subarray(0, 12 + questionLength(resp)), rinfo.port, rinfo.address);
  });
  try {
    await setTransfer('small.example.', ['127.0.0.0/8'], KEY.name, [`127.0.0.1:${sock.address().port}`]);
    const zone = (await pool.query<{ id: number }>("SELECT zone_id AS id FROM domains WHERE name = 'small.example.'")).rows[0].id;
    await pool.query("INSERT INTO records (zone_id, owner, type, ttl, rdata) VALUES ($1, 'notified', 16, 60, '\"x\"')", [zone]);
    await settleAll();
    const serial = await serialOf('small.example.');
    await waitFor(() => seen.length >= 2, 5000, 'a retried NOTIFY');
    const last = seen[seen.length - 1];
    assert.equal((last[2] >> 3) & 0x0f, 4); // opcode NOTIFY
    assert.ok(last[2] & 0x04); // AA
    const r = parseResponse(Buffer.from(last));
    assert.equal(r.question, 'small.example. SOA');
    assert.equal(Number(r.answer[0].split(' ')[5]), serial);
    const t = findTsig(last);
    assert.ok(t && t !== 'formerr');
    assert.deepEqual(verify(last, t, KEY, { now: Date.now() / 1000 }), { ok: true });
    answer = true;
    await waitFor(() => s.transfer!.notifier.outstanding() === 0, 5000, 'the NOTIFY acknowledged');
    const n = seen.length;
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(seen.length, n, 'no retries after the acknowledgement');
  } finally {
    sock.close();
  }
});

test('while a PZC switch is pending, transfers carry capped TTLs and the domain is re-announced', async () => {
  const id = await idOf('pzc.example.');
  await setTransfer('pzc.example.', ['127.0.0.1/32'], null);
  const target = (await pool.query<{ id: number }>("SELECT id FROM zones WHERE name = 'pzc-b'")).rows[0].id;
  const at = new Date((Math.floor(Date.now() / 1000) + 8) * 1000);
  await pool.query('UPDATE domains SET pzc_zone_id = $2, pzc_at = $3 WHERE id = $1', [id, target, at]);
  await settleAll();
  const s0 = await serialOf('pzc.example.');
  const r = await xfr(port(), xfrQuery('pzc.example.', 'AXFR'));
  assert.equal(r.rcode, 'NOERROR');
  for (const x of r.records) assert.ok(x.ttl <= 8, `${x.owner} ${x.type} ${x.ttl}`);
  // IXFR while pending: the whole domain (the caps move with the clock).
  const inc = await xfr(port(), xfrQuery('pzc.example.', 'IXFR', s0 - 1));
  assert.notEqual(inc.records[1].type, 'SOA');
  // The re-announcement bumps the serial without any edit, well before T.
  await waitFor(async () => (await serialOf('pzc.example.')) !== s0, 6000, 'a re-announcement');
  assert.ok(Date.now() < at.getTime());
  const again = await xfr(port(), xfrQuery('pzc.example.', 'AXFR'));
  const left = Math.ceil((at.getTime() - Date.now()) / 1000);
  for (const x of again.records) assert.ok(x.ttl <= left, `${x.ttl} > ${left}`);
  // Cancelling is not a difference of records (the caps go): IXFR across it is an AXFR, uncapped.
  const s1 = await serialOf('pzc.example.');
  await pool.query('UPDATE domains SET pzc_zone_id = NULL, pzc_at = NULL WHERE id = $1', [id]);
  await settleAll();
  const after = await xfr(port(), xfrQuery('pzc.example.', 'IXFR', s1));
  assert.notEqual(after.records[1].type, 'SOA');
  assert.ok(after.records.some((x) => x.owner === 'www.pzc.example.' && x.ttl === 3600));
});

function findTsigStart(m: Buffer): number {
  const t = findTsig(m);
  return t && t !== 'formerr' ? t.start : m.length;
}
function questionLength(m: Buffer): number {
  let p = 12;
  while (m[p] !== 0) p += m[p] + 1;
  return p + 1 + 4 - 12;
}
