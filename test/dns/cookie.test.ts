// DNS Cookies at the unit level: SipHash-2-4 against its reference vectors, the server cookie of
// RFC 9018 against every example of its Appendix A (IPv4, IPv6, a rolled secret), its lifetime
// (RFC 9018 4.3), and the option read from a query and added to a response.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { siphash24, makeServerCookie, serverCookieValid, addressOctets, readCookie, appendOption, OPTION_COOKIE } from '../../src/dns/cookie.js';
import { decodeQuery } from '../../src/dns/query.js';

const hex = (s: string) => Uint8Array.from(Buffer.from(s, 'hex'));
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');

test('SipHash-2-4 gives the reference outputs (key 00..0f, messages 00.., lengths 0, 1, 7, 8, 15, 63)', () => {
  const key = Uint8Array.from({ length: 16 }, (_, i) => i);
  const msg = (n: number) => Uint8Array.from({ length: n }, (_, i) => i);
  // From the SipHash paper's reference vectors (vectors.h of the reference implementation).
  assert.equal(toHex(siphash24(key, msg(0))), '310e0edd47db6f72');
  assert.equal(toHex(siphash24(key, msg(1))), 'fd67dc93c539f874');
  assert.equal(toHex(siphash24(key, msg(7))), '37d1018bf50002ab');
  assert.equal(toHex(siphash24(key, msg(8))), '6224939a79f5f593');
  assert.equal(toHex(siphash24(key, msg(15))), 'e545be4961ca29a1');
  assert.equal(toHex(siphash24(key, msg(63))), '724506eb4c328a95');
});

const SECRET = hex('e5e973e5a6b2a43f48e7dc849e37bfcf');

test('RFC 9018 A.1: learning a new server cookie (IPv4)', () => {
  const sc = makeServerCookie(SECRET, hex('2464c4abcf10c957'), addressOctets('198.51.100.100'), 1559731985);
  assert.equal(toHex(sc), '010000005cf79f111f8130c3eee29480');
});

test('RFC 9018 A.2: the cookie of A.1 is valid 40 minutes later, and the renewed one is as given', () => {
  const client = hex('2464c4abcf10c957');
  const ip = addressOctets('198.51.100.100');
  assert.ok(serverCookieValid([SECRET], client, hex('010000005cf79f111f8130c3eee29480'), ip, 1559734385));
  assert.equal(toHex(makeServerCookie(SECRET, client, ip, 1559734385)), '010000005cf7a871d4a564a1442aca77');
});

test('RFC 9018 A.3: a cookie with Reserved octets set is valid (hashed as sent); ours has them zero', () => {
  const client = hex('fc93fc62807ddb86');
  const ip = addressOctets('203.0.113.203');
  // Checked shortly after it was made (09:46:25): the example's reply comes 1h52m later, past
  // the hour RFC 9018 4.3 allows, where a server treats it as no server cookie and makes a new one.
  const sent = hex('01abcdef5cf78f71a314227b6679ebf5');
  assert.ok(serverCookieValid([SECRET], client, sent, ip, 1559727985 + 60));
  assert.equal(serverCookieValid([SECRET], client, sent, ip, 1559734700), false);
  assert.equal(toHex(makeServerCookie(SECRET, client, ip, 1559734700)), '010000005cf7a9acf73a7810aca2381e');
});

test('RFC 9018 A.4: IPv6, a cookie made with the previous secret is still valid; the new one uses the new secret', () => {
  const client = hex('22681ab97d52c298');
  const ip = addressOctets('2001:db8:220:1:59de:d0f4:8769:82b8');
  const oldSecret = hex('dd3bdf9344b678b185a6f5cb60fca715');
  const newSecret = hex('445536bcd2513298075a5d379663c962');
  const sent = hex('010000005cf7c57926556bd0934c72f8');
  assert.ok(serverCookieValid([newSecret, oldSecret], client, sent, ip, 1559741961));
  assert.equal(serverCookieValid([newSecret], client, sent, ip, 1559741961), false, 'without the old secret it is not valid');
  assert.equal(toHex(makeServerCookie(newSecret, client, ip, 1559741961)), '010000005cf7c609a6bb79d16625507a');
});

test('a server cookie is bound to its client cookie, address, lifetime and version', () => {
  const client = hex('2464c4abcf10c957');
  const ip = addressOctets('198.51.100.100');
  const sc = makeServerCookie(SECRET, client, ip, 1559731985);
  assert.ok(serverCookieValid([SECRET], client, sc, ip, 1559731985 + 3600));
  assert.equal(serverCookieValid([SECRET], client, sc, ip, 1559731985 + 3601), false, 'older than an hour');
  assert.ok(serverCookieValid([SECRET], client, sc, ip, 1559731985 - 300));
  assert.equal(serverCookieValid([SECRET], client, sc, ip, 1559731985 - 301), false, 'more than 5 minutes ahead');
  assert.equal(serverCookieValid([SECRET], hex('2464c4abcf10c958'), sc, ip, 1559731985), false, 'another client cookie');
  assert.equal(serverCookieValid([SECRET], client, sc, addressOctets('198.51.100.101'), 1559731985), false, 'another address');
  const v2 = Uint8Array.from(sc); v2[0] = 2;
  assert.equal(serverCookieValid([SECRET], client, v2, ip, 1559731985), false, 'unknown version');
  const flipped = Uint8Array.from(sc); flipped[15] ^= 1;
  assert.equal(serverCookieValid([SECRET], client, flipped, ip, 1559731985), false, 'a changed hash');
});

test('addresses as octets: IPv4, IPv4-mapped, IPv6 with ::', () => {
  assert.equal(toHex(addressOctets('192.0.2.1')), 'c0000201');
  assert.equal(toHex(addressOctets('::ffff:192.0.2.1')), 'c0000201');
  assert.equal(toHex(addressOctets('::1')), '00000000000000000000000000000001');
  assert.equal(toHex(addressOctets('2001:db8::53')), '20010db8000000000000000000000053');
  assert.equal(addressOctets('not an address').length, 0);
});

/** A query for example. A with an OPT carrying one option of `len` octets. */
function queryWithOption(code: number, data: Uint8Array): Buffer {
  const head = Buffer.from([0x12, 0x34, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 7, ...Buffer.from('example'), 0, 0, 1, 0, 1]);
  const opt = Buffer.from([0, 0, 41, 4, 0, 0, 0, 0, 0, (4 + data.length) >> 8, (4 + data.length) & 0xff, code >> 8, code & 0xff, data.length >> 8, data.length & 0xff]);
  return Buffer.concat([head, opt, data]);
}

test('readCookie: client cookie alone, with a server cookie, malformed lengths (RFC 7873 5.2.2)', () => {
  const read = (m: Buffer) => { const d = decodeQuery(m); assert.equal(d.kind, 'query'); return readCookie(m, (d as { query: Parameters<typeof readCookie>[1] }).query); };
  const c = read(queryWithOption(OPTION_COOKIE, hex('0102030405060708')));
  assert.ok(c && c !== 'malformed');
  assert.equal(toHex(c.client), '0102030405060708');
  assert.equal(c.server.length, 0);
  const both = read(queryWithOption(OPTION_COOKIE, hex('0102030405060708' + '11'.repeat(16))));
  assert.ok(both && both !== 'malformed');
  assert.equal(toHex(both.server), '11'.repeat(16));
  for (const n of [0, 7, 9, 15, 41]) assert.equal(read(queryWithOption(OPTION_COOKIE, new Uint8Array(n))), 'malformed', `length ${n}`);
  assert.equal(read(queryWithOption(8, new Uint8Array(8))), undefined, 'another option');
});

test('appendOption adds the option to the OPT record and its length, leaving the rest as it was', () => {
  const resp = queryWithOption(3, hex('aabb'));
  resp[2] |= 0x80;
  const out = appendOption(resp, OPTION_COOKIE, hex('0102'));
  assert.equal(out.length, resp.length + 6);
  assert.equal(out.readUInt16BE(resp.length - 8), 12, 'RDLENGTH grew from 6 by 6');
  assert.equal(toHex(out.subarray(resp.length)), '000a00020102');
  assert.deepEqual(out.subarray(0, resp.length - 8), resp.subarray(0, resp.length - 8));
});
