// Response rate limiting over real UDP sockets, on a clock the test holds still (so every count is
// exact): per client /24, per class and name; a rate, a window of debt, slip; exemptions by network,
// by valid server cookie and for TCP; log-only mode; the counts in /metrics.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { startTestServer, importText, type TestServer } from '../helpers/server.js';
import { buildQuery, query, parseResponse } from '../helpers/dig.js';
import type { RrlSettings } from '../../src/config.js';
import { Metrics } from '../../src/metrics/registry.js';

const ZONE = `$ORIGIN rrl.example.
$TTL 300
@ SOA ns1 hostmaster 1 3600 600 86400 300
@ NS ns1
ns1 A 192.0.2.1
www A 192.0.2.80
mail A 192.0.2.25
`;
const T0 = Date.parse('2026-01-01T00:00:00Z');

async function server(rrl: Partial<RrlSettings>, secrets?: string[]): Promise<{ s: TestServer; clock: { t: number } }> {
  const clock = { t: T0 };
  const s = await startTestServer({
    api: null, now: () => clock.t,
    rrl: { mode: 'on', rate: 5, window: 2, slip: 2, ipv4Prefix: 24, ipv6Prefix: 56, exempt: [], ...rrl },
    cookies: { enabled: true, secrets: secrets ?? ['00112233445566778899aabbccddeeff'], require: false },
  });
  await importText(s, ZONE);
  return { s, clock };
}

interface Tally { answered: number; truncated: number; dropped: number; rcodes: string[] }

/** Sends `n` queries one after another from `from`, each waiting for its answer (or 500 ms: no answer by then is a drop). */
async function burst(port: number, n: number, name: string, type = 'A', from = '127.0.0.1', packet?: (i: number) => Buffer): Promise<Tally> {
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, from, () => r()));
  const t: Tally = { answered: 0, truncated: 0, dropped: 0, rcodes: [] };
  try {
    for (let i = 0; i < n; i++) {
      const q = packet ? packet(i) : buildQuery(name, type, { id: i });
      const got = await new Promise<Buffer | null>((resolve) => {
        const timer = setTimeout(() => { sock.off('message', on); resolve(null); }, 500);
        const on = (m: Buffer) => { if (m.readUInt16BE(0) !== q.readUInt16BE(0)) return; clearTimeout(timer); sock.off('message', on); resolve(m); };
        sock.on('message', on);
        sock.send(q, port, '127.0.0.1');
      });
      if (!got) { t.dropped++; continue; }
      const r = parseResponse(got);
      t.rcodes.push(r.rcode);
      if (r.tc) t.truncated++; else t.answered++;
    }
  } finally {
    sock.close();
  }
  return t;
}

test('rate 5, slip 2: 5 answered, then of 15 limited every 2nd goes out truncated and the rest are dropped; counted', async () => {
  const { s } = await server({});
  const t = await burst(s.dnsPort(), 20, 'www.rrl.example');
  assert.deepEqual({ answered: t.answered, truncated: t.truncated, dropped: t.dropped }, { answered: 5, truncated: 7, dropped: 8 });
  const m = await new Metrics(() => ({ queries: s.stats.state() })).render();
  assert.match(m, /glidepath_rrl_responses_total\{class="positive",action="slipped"\} 7/);
  assert.match(m, /glidepath_rrl_responses_total\{class="positive",action="dropped"\} 8/);
});

test('accounts are per name for answers, per zone for NXDOMAIN, per client /24; other /24s and TCP are not limited', async () => {
  const { s } = await server({ slip: 0 });
  assert.equal((await burst(s.dnsPort(), 7, 'www.rrl.example')).answered, 5);
  assert.equal((await burst(s.dnsPort(), 7, 'mail.rrl.example')).answered, 5, 'another name has its own account');
  assert.equal((await burst(s.dnsPort(), 7, 'www.rrl.example', 'A', '127.0.0.9')).answered, 0, 'the same /24 shares the account');
  assert.equal((await burst(s.dnsPort(), 7, 'www.rrl.example', 'A', '127.0.1.1')).answered, 5, 'another /24 has its own');
  // NXDOMAIN: one account for the zone, whatever the random names.
  const nx = await burst(s.dnsPort(), 8, '', 'A', '127.0.0.1', (i) => buildQuery(`r${i}x.rrl.example`, 'A', { id: 100 + i }));
  assert.deepEqual([nx.answered, nx.dropped], [5, 3]);
  assert.ok(nx.rcodes.every((r) => r === 'NXDOMAIN'));
  const tcp = await query(s.dnsPort(), 'www.rrl.example', 'A', { transport: 'tcp' });
  assert.equal(tcp.answer.length, 1, 'TCP is never limited');
});

test('the account refills at the rate, and a flood runs up a debt of at most window * rate', async () => {
  const { s, clock } = await server({ slip: 0, rate: 5, window: 2 });
  assert.equal((await burst(s.dnsPort(), 30, 'www.rrl.example')).answered, 5); // debt now at -10 (window 2 * rate 5)
  clock.t += 1000; // +5: still -5
  assert.equal((await burst(s.dnsPort(), 1, 'www.rrl.example')).answered, 0);
  clock.t += 1000; // +5 from -6: -1
  assert.equal((await burst(s.dnsPort(), 1, 'www.rrl.example')).answered, 0);
  clock.t += 600; // +3 from -2: 1
  assert.equal((await burst(s.dnsPort(), 2, 'www.rrl.example')).answered, 1);
  clock.t += 10_000; // full again, never above the rate
  assert.equal((await burst(s.dnsPort(), 8, 'www.rrl.example')).answered, 5);
});

test('exempt networks and clients with a valid server cookie are not limited; a cookie client gets BADCOOKIE on a slip', async () => {
  const { s } = await server({ slip: 1, exempt: ['127.0.2.0/24'] });
  assert.equal((await burst(s.dnsPort(), 10, 'www.rrl.example', 'A', '127.0.2.7')).answered, 10);
  // Learn a server cookie, then ask with it: never limited.
  const withCookie = (cookie: Buffer) => (i: number) => {
    const q = buildQuery('www.rrl.example', 'A', { id: 200 + i });
    const opt = Buffer.from([0, 10, 0, cookie.length]);
    const out = Buffer.concat([q, opt, cookie]);
    out.writeUInt16BE(opt.length + cookie.length, q.length - 2);
    return out;
  };
  const client = Buffer.from('0102030405060708', 'hex');
  const first = await burst(s.dnsPort(), 1, '', 'A', '127.0.3.1', withCookie(client));
  assert.equal(first.answered, 1);
  const learn = await new Promise<Buffer>((resolve) => {
    const sock = dgram.createSocket('udp4');
    sock.bind(0, '127.0.3.1', () => {
      sock.on('message', (m) => { sock.close(); resolve(m); });
      sock.send(withCookie(client)(99), s.dnsPort(), '127.0.0.1');
    });
  });
  const cookie = learn.subarray(learn.length - 24);
  assert.deepEqual(cookie.subarray(0, 8), client);
  const good = await burst(s.dnsPort(), 10, '', 'A', '127.0.3.1', withCookie(cookie));
  assert.equal(good.answered, 10, 'a valid server cookie proves the address');
  // Without it (client cookie only) the account counts (2 spent above, 3 left); past it, slip 1
  // sends every limited one, as BADCOOKIE with a server cookie to come back with.
  const bad = await burst(s.dnsPort(), 6, '', 'A', '127.0.3.1', withCookie(client));
  assert.deepEqual(bad.rcodes, ['NOERROR', 'NOERROR', 'NOERROR', 'BADCOOKIE', 'BADCOOKIE', 'BADCOOKIE']);
});

test('log mode answers everything and counts what it would have limited', async () => {
  const { s } = await server({ mode: 'log' });
  assert.equal((await burst(s.dnsPort(), 12, 'www.rrl.example')).answered, 12);
  assert.match(await new Metrics(() => ({ queries: s.stats.state() })).render(), /glidepath_rrl_responses_total\{class="positive",action="logged"\} 7/);
});
