// DNS Cookies over real sockets (RFC 7873, RFC 9018), with BIND's dig as the client: a server
// cookie in every answer to a query with a client cookie, valid for the secret we set; a client
// coming back with it is answered normally; a malformed option is FORMERR; with
// GLIDEPATH_COOKIE_REQUIRE a UDP query without a valid server cookie gets BADCOOKIE (and TCP does
// not); a rotation of the secret refuses no client holding a cookie made with the old one; a query
// with a cookie is answered from the response cache, with a server cookie made for it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import dgram from 'node:dgram';
import { startTestServer, importText, type TestServer } from '../helpers/server.js';
import { serverCookieValid, addressOctets } from '../../src/dns/cookie.js';
import { parseResponse, query } from '../helpers/dig.js';
import { Metrics } from '../../src/metrics/registry.js';

const run = promisify(execFile);
const OLD = 'dd3bdf9344b678b185a6f5cb60fca715';
const NEW = '445536bcd2513298075a5d379663c962';
const ZONE = `$ORIGIN cookie.example.
$TTL 300
@ SOA ns1 hostmaster 1 3600 600 86400 300
@ NS ns1
ns1 A 192.0.2.1
www A 192.0.2.80
`;

async function server(require: boolean, secrets = [OLD]): Promise<TestServer> {
  const s = await startTestServer({ api: null, cookies: { enabled: true, secrets, require } });
  await importText(s, ZONE);
  return s;
}

interface DigOut { status: string; cookie: string | undefined; answer: boolean; text: string }

/** dig with +cookie (a fresh client cookie) or +cookie=HEX (one we learned); +nobadcookie so a
 *  BADCOOKIE is shown, not retried. */
async function dig(port: number, cookie: string | true, tcp = false): Promise<DigOut> {
  const args = ['@127.0.0.1', '-p', String(port), 'www.cookie.example', 'A', '+norec', '+nobadcookie', '+tries=1', '+time=2',
    cookie === true ? '+cookie' : `+cookie=${cookie}`];
  if (tcp) args.push('+tcp');
  const { stdout } = await run('dig', args);
  return {
    status: /status: (\w+)/.exec(stdout)?.[1] ?? '?',
    cookie: /; COOKIE: ([0-9a-f]+)/.exec(stdout)?.[1],
    answer: /^www\.cookie\.example\.\s+\d+\s+IN\s+A\s+192\.0\.2\.80$/m.test(stdout),
    text: stdout,
  };
}

const valid = (cookie: string, secrets: string[]) => serverCookieValid(secrets.map((h) => Buffer.from(h, 'hex')),
  Buffer.from(cookie.slice(0, 16), 'hex'), Buffer.from(cookie.slice(16), 'hex'), addressOctets('127.0.0.1'), Math.floor(Date.now() / 1000));

const hasDig = await run('dig', ['-v']).then(() => true, () => false);
const skip = hasDig ? false : 'dig (Debian package bind9-dnsutils) is not installed';

test('dig +cookie gets its client cookie back with a server cookie made with our secret, and is answered', { skip }, async () => {
  const s = await server(false);
  const first = await dig(s.dnsPort(), true);
  assert.equal(first.status, 'NOERROR');
  assert.ok(first.answer, first.text);
  assert.ok(first.cookie, first.text);
  assert.equal(first.cookie.length, 48, 'client cookie (8) + server cookie (16) octets');
  assert.match(first.text, /COOKIE: [0-9a-f]+ \(good\)/, 'dig found its own client cookie in the answer');
  assert.ok(valid(first.cookie, [OLD]), 'the server cookie is the RFC 9018 one for our secret, this client and address');
  assert.equal(first.cookie.slice(16, 24), '01000000', 'RFC 9018 version 1, reserved zero');
  // Back with it: answered, with a server cookie again (over TCP too).
  const again = await dig(s.dnsPort(), first.cookie);
  assert.equal(again.status, 'NOERROR');
  assert.ok(again.answer);
  assert.ok(again.cookie && valid(again.cookie, [OLD]));
  assert.equal(again.cookie.slice(0, 16), first.cookie.slice(0, 16));
  const tcp = await dig(s.dnsPort(), first.cookie, true);
  assert.ok(tcp.answer && tcp.cookie && valid(tcp.cookie, [OLD]));
  // A server cookie that is not ours (another secret): answered as a first contact, new cookie.
  const foreign = await dig(s.dnsPort(), first.cookie.slice(0, 16) + '010000005cf79f111f8130c3eee29480');
  assert.equal(foreign.status, 'NOERROR');
  assert.ok(foreign.cookie && valid(foreign.cookie, [OLD]));
});

test('a COOKIE option of a length RFC 7873 5.2.2 rules out is FORMERR; no cookie, no option', { skip }, async () => {
  const s = await server(false);
  const q = (data: Buffer) => {
    const head = Buffer.from([0xab, 0xcd, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 3, ...Buffer.from('www'), 6, ...Buffer.from('cookie'), 7, ...Buffer.from('example'), 0, 0, 1, 0, 1]);
    const opt = Buffer.from([0, 0, 41, 4, 0, 0, 0, 0, 0, 0, 4 + data.length, 0, 10, 0, data.length]);
    return Buffer.concat([head, opt, data]);
  };
  const ask = (m: Buffer) => new Promise<Buffer>((resolve, reject) => {
    const sock = dgram.createSocket('udp4');
    const t = setTimeout(() => { sock.close(); reject(new Error('no answer')); }, 2000);
    sock.on('message', (r) => { clearTimeout(t); sock.close(); resolve(r); });
    sock.send(m, s.dnsPort(), '127.0.0.1');
  });
  for (const n of [5, 12, 41]) assert.equal((await ask(q(Buffer.alloc(n, 1))))[3] & 0x0f, 1, `length ${n}: FORMERR`);
  const plain = await dig(s.dnsPort(), true).then(() => ask(q(Buffer.alloc(8, 7))));
  assert.equal(plain[3] & 0x0f, 0);
  assert.equal(plain.readUInt16BE(6), 1, 'answered');
});

test('require: a UDP query without a valid server cookie gets BADCOOKIE with one, then is answered; TCP is answered at once', { skip }, async () => {
  const s = await server(true);
  const first = await dig(s.dnsPort(), true);
  assert.equal(first.status, 'BADCOOKIE', first.text);
  assert.equal(first.answer, false);
  assert.ok(first.cookie && valid(first.cookie, [OLD]), 'BADCOOKIE carries a server cookie to come back with');
  const again = await dig(s.dnsPort(), first.cookie);
  assert.equal(again.status, 'NOERROR', again.text);
  assert.ok(again.answer);
  const tcp = await dig(s.dnsPort(), true, true);
  assert.equal(tcp.status, 'NOERROR', 'TCP proves the address (RFC 7873 5.2.3)');
});

test('secret rotation: new secret accepted, then making cookies, then the old one dropped; no good client refused before', { skip }, async () => {
  const s = await server(true, [OLD]);
  const learned = (await dig(s.dnsPort(), (await dig(s.dnsPort(), true)).cookie!)).cookie!;
  assert.ok(valid(learned, [OLD]));
  // Step 1: every node learns the new secret as accepted only; cookies are still made with the old.
  await s.reload({ cookieSecrets: [OLD, NEW] });
  const step1 = await dig(s.dnsPort(), learned);
  assert.equal(step1.status, 'NOERROR');
  assert.ok(valid(step1.cookie!, [OLD]));
  // Step 2: the new secret makes cookies; ones made with the old are still good.
  await s.reload({ cookieSecrets: [NEW, OLD] });
  const step2 = await dig(s.dnsPort(), learned);
  assert.equal(step2.status, 'NOERROR', 'a cookie made with the previous secret is accepted during the rotation');
  assert.ok(valid(step2.cookie!, [NEW]) && !valid(step2.cookie!, [OLD]), 'the new cookie is made with the new secret');
  // Step 3: the old secret is gone: its cookies are no longer valid (BADCOOKIE with a new one).
  await s.reload({ cookieSecrets: [NEW] });
  const step3 = await dig(s.dnsPort(), learned);
  assert.equal(step3.status, 'BADCOOKIE');
  assert.equal((await dig(s.dnsPort(), step3.cookie!)).status, 'NOERROR');
  assert.equal((await dig(s.dnsPort(), step2.cookie!)).status, 'NOERROR', 'a client that came by during the rotation is fine');
});

test('a query with a cookie is answered from the response cache, each answer with a server cookie made for its client', async () => {
  const s = await server(false);
  const cookies = await server(true);
  const ask = (port: number, id: number, cookie: Buffer) => new Promise<Buffer>((resolve, reject) => {
    const head = Buffer.from([id >> 8, id & 0xff, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 3, ...Buffer.from('www'), 6, ...Buffer.from('cookie'), 7, ...Buffer.from('example'), 0, 0, 1, 0, 1]);
    const opt = Buffer.from([0, 0, 41, 4, 0, 0, 0, 0, 0, 0, 4 + cookie.length, 0, 10, 0, cookie.length]);
    const sock = dgram.createSocket('udp4');
    const t = setTimeout(() => { sock.close(); reject(new Error('no answer')); }, 2000);
    sock.on('message', (r) => { clearTimeout(t); sock.close(); resolve(r); });
    sock.send(Buffer.concat([head, opt, cookie]), port, '127.0.0.1');
  });
  /** The answer's rcode (extended), its A record, and the COOKIE option it carries. */
  const read = (m: Buffer) => {
    const r = parseResponse(m);
    return { rcode: r.rcode, ext: r.opt?.extRcode ?? 0, answer: r.answer, id: r.id, cookie: r.opt?.options.find((o) => o.code === 10)?.data.toString('hex') };
  };
  const A = Buffer.from('a1a2a3a4a5a6a7a8', 'hex');
  const B = Buffer.from('b1b2b3b4b5b6b7b8', 'hex');
  const hits = () => s.stats.cacheHits;

  const first = read(await ask(s.dnsPort(), 1, A));
  assert.deepEqual(first.answer, ['www.cookie.example. A 300 192.0.2.80']);
  assert.ok(first.cookie?.startsWith(A.toString('hex')) && valid(first.cookie, [OLD]), 'first answer (a miss) carries a server cookie');
  const before = hits();
  // Same question, same client cookie, then another client cookie, then the learned server cookie:
  // all answered from the cache (the key has a cookie mark, not the cookie), each with its own.
  const again = read(await ask(s.dnsPort(), 2, A));
  const other = read(await ask(s.dnsPort(), 3, B));
  const learned = read(await ask(s.dnsPort(), 4, Buffer.from(first.cookie!, 'hex')));
  assert.equal(hits() - before, 3, 'three cache hits');
  for (const [r, client, id] of [[again, A, 2], [other, B, 3], [learned, A, 4]] as const) {
    assert.equal(r.rcode, 'NOERROR');
    assert.equal(r.id, id, 'the cached answer is patched with this query\'s id');
    assert.deepEqual(r.answer, ['www.cookie.example. A 300 192.0.2.80']);
    assert.equal(r.cookie?.length, 48, 'client cookie and server cookie');
    assert.ok(r.cookie!.startsWith(client.toString('hex')), 'this query\'s client cookie');
    assert.ok(valid(r.cookie!, [OLD]), 'a server cookie made for this client cookie and address (RFC 9018)');
  }
  assert.notEqual(other.cookie!.slice(16), again.cookie!.slice(16), 'the server cookie is not the cached one');
  assert.match(await new Metrics(() => ({ queries: s.stats.state() })).render(), new RegExp(`^glidepath_dns_cache_hits_total ${hits()}$`, 'm'));
  // A query without the option is keyed apart: no COOKIE option leaks into it.
  assert.equal((await query(s.dnsPort(), 'www.cookie.example', 'A')).opt?.options.find((o) => o.code === 10), undefined);

  // Under GLIDEPATH_COOKIE_REQUIRE a cached answer is not a way around BADCOOKIE.
  const refused = read(await ask(cookies.dnsPort(), 5, A));
  assert.equal(refused.ext, 1, 'BADCOOKIE (23 = 1 << 4 | 7)');
  const ok = read(await ask(cookies.dnsPort(), 6, Buffer.from(refused.cookie!, 'hex')));
  assert.equal(ok.rcode, 'NOERROR');
  const cached = read(await ask(cookies.dnsPort(), 7, Buffer.from(refused.cookie!, 'hex')));
  assert.equal(cached.rcode, 'NOERROR');
  assert.ok(cookies.stats.cacheHits >= 1, 'a valid cookie is answered from the cache');
  const hitsThen = cookies.stats.cacheHits;
  assert.equal(read(await ask(cookies.dnsPort(), 8, B)).ext, 1, 'a new client cookie still gets BADCOOKIE');
  assert.equal(cookies.stats.cacheHits, hitsThen);
});
