// The answering rules over real sockets: header handling, EDNS, truncation, TCP framing and
// pipelining, delegation-only, wildcards, CNAME loops, case echo.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import dgram from 'node:dgram';
import { startTestServer, importText } from '../helpers/server.js';
import { query, buildQuery, exchange, parseResponse } from '../helpers/dig.js';

const s = await startTestServer({ api: null, tcpIdleMs: 300, tcpMaxConnections: 3 });
await importText(s, `$ORIGIN rules.example.
$TTL 3600
@ SOA ns1 hostmaster 5 3600 600 86400 300
@ NS ns1
@ NS ns2.elsewhere.example.
ns1 A 192.0.2.1
loop1 CNAME loop2
loop2 CNAME loop1
*.wild TXT "wild"
sub.wild A 192.0.2.7
big TXT "${'x'.repeat(250)}" "${'y'.repeat(250)}"
big TXT "${'z'.repeat(250)}" "${'w'.repeat(250)}"
mx MX 10 mail
mail A 192.0.2.25
mail AAAA 2001:db8::25
child NS ns.child
ns.child A 192.0.2.99
`);
const port = () => s.dnsPort();

function udpRaw(packet: Buffer, wait = 300): Promise<Buffer | null> {
  return new Promise((resolve) => {
    const sock = dgram.createSocket('udp4');
    const t = setTimeout(() => { sock.close(); resolve(null); }, wait);
    sock.on('message', (m) => { clearTimeout(t); sock.close(); resolve(m); });
    sock.send(packet, port(), '127.0.0.1');
  });
}

test('the question is echoed exactly as sent, RD copied, RA never set', async () => {
  const r = await query(port(), 'NS1.Rules.EXAMPLE.', 'A', { rd: true });
  assert.equal(r.question, 'NS1.Rules.EXAMPLE. A');
  assert.equal(r.rd, true);
  assert.equal(r.ra, false);
  assert.equal(r.aa, true);
  assert.deepEqual(r.answer, ['ns1.rules.example. A 3600 192.0.2.1']);
});

test('no served domain encloses the name: REFUSED', async () => {
  const r = await query(port(), 'example.org.', 'A');
  assert.equal(r.rcode, 'REFUSED');
  assert.equal(r.aa, false);
});

test('class other than IN is REFUSED, opcodes other than QUERY get NOTIMP', async () => {
  assert.equal((await query(port(), 'rules.example.', 'SOA', { qclass: 3 })).rcode, 'REFUSED');
  const p = buildQuery('rules.example.', 'SOA');
  p[2] = (p[2] & 0x87) | (2 << 3); // opcode STATUS
  const r = parseResponse((await udpRaw(p))!);
  assert.equal(r.rcode, 'NOTIMP');
});

test('malformed packets: QR set or too short is dropped; a bad body or QDCOUNT != 1 is FORMERR', async () => {
  const qr = buildQuery('rules.example.', 'SOA');
  qr[2] |= 0x80;
  assert.equal(await udpRaw(qr), null);
  assert.equal(await udpRaw(Buffer.from([1, 2, 3, 4, 5])), null);
  const two = buildQuery('rules.example.', 'SOA', { edns: null });
  two[5] = 2;
  assert.equal(parseResponse((await udpRaw(two))!).rcode, 'FORMERR');
  const cut = buildQuery('rules.example.', 'SOA', { edns: null }).subarray(0, 20);
  assert.equal(parseResponse((await udpRaw(cut))!).rcode, 'FORMERR');
});

test('EDNS: OPT answered, BADVERS for version 1, FORMERR for two OPT records', async () => {
  const r = await query(port(), 'rules.example.', 'SOA', { edns: 4096 });
  assert.equal(r.opt?.udpSize, 1232);
  const bad = await query(port(), 'rules.example.', 'SOA', { ednsVersion: 1 });
  assert.equal(bad.rcode, 'BADVERS');
  assert.equal(bad.opt?.version, 0);
  const p = buildQuery('rules.example.', 'SOA');
  const opt = p.subarray(p.length - 11);
  const twice = Buffer.concat([p, opt]);
  twice[11] = 2;
  assert.equal(parseResponse((await udpRaw(twice))!).rcode, 'FORMERR');
});

test('truncation: over 512 without EDNS sets TC with no partial RRset; TCP gets it whole', async () => {
  const small = await query(port(), 'big.rules.example.', 'TXT', { edns: null });
  assert.equal(small.tc, true);
  assert.equal(small.answer.length, 0);
  assert.ok(small.size <= 512);
  const edns = await query(port(), 'big.rules.example.', 'TXT', { edns: 1232 });
  assert.equal(edns.tc, false, 'two ~510-octet TXT records fit in 1232');
  assert.equal(edns.answer.length, 2);
  const tcp = await query(port(), 'big.rules.example.', 'TXT', { transport: 'tcp', edns: null });
  assert.equal(tcp.tc, false);
  assert.equal(tcp.answer.length, 2);
});

test('names are compressed in responses', async () => {
  const r = await query(port(), 'mx.rules.example.', 'MX');
  // Owner, exchange and additional owners all point back: far smaller than uncompressed.
  assert.ok(r.raw.includes(Buffer.from([0xc0, 0x0c])), 'owner is a pointer to the question');
  assert.deepEqual(r.additional.sort(), ['mail.rules.example. A 3600 192.0.2.25', 'mail.rules.example. AAAA 3600 2001:db8::25']);
  assert.ok(r.size < 140, `response is ${r.size} octets`);
});

test('a CNAME loop stops and returns what was found', async () => {
  const r = await query(port(), 'loop1.rules.example.', 'A');
  assert.equal(r.rcode, 'NOERROR');
  assert.deepEqual(r.answer.sort(), ['loop1.rules.example. CNAME 3600 loop2.rules.example.', 'loop2.rules.example. CNAME 3600 loop1.rules.example.']);
});

test('wildcards: synthesized with the query name as owner, not where the name exists', async () => {
  const r = await query(port(), 'a.b.wild.rules.example.', 'TXT');
  assert.deepEqual(r.answer, ['a.b.wild.rules.example. TXT 3600 "wild"']);
  const exact = await query(port(), 'sub.wild.rules.example.', 'TXT');
  assert.equal(exact.rcode, 'NOERROR');
  assert.deepEqual(exact.answer, []);
  assert.ok(exact.authority[0].includes(' SOA 300 '), 'NODATA carries the SOA with the MINIMUM as TTL');
  const under = await query(port(), 'x.sub.wild.rules.example.', 'TXT');
  assert.equal(under.rcode, 'NXDOMAIN', 'sub.wild exists, so *.wild does not cover x.sub.wild');
});

test('referral: AA clear, NS in authority, glue in additional', async () => {
  const r = await query(port(), 'deep.child.rules.example.', 'A');
  assert.equal(r.aa, false);
  assert.deepEqual(r.authority, ['child.rules.example. NS 3600 ns.child.rules.example.']);
  assert.deepEqual(r.additional, ['ns.child.rules.example. A 3600 192.0.2.99']);
});

test('ANY gets one RRset (RFC 8482), over TCP too', async () => {
  for (const transport of ['udp', 'tcp'] as const) {
    const r = await query(port(), 'mail.rules.example.', 'ANY', { transport });
    assert.equal(r.rcode, 'NOERROR');
    assert.equal(new Set(r.answer.map((a) => a.split(' ')[1])).size, 1);
  }
});

function frame(p: Buffer): Buffer {
  const l = Buffer.alloc(2);
  l.writeUInt16BE(p.length);
  return Buffer.concat([l, p]);
}

function readFrames(sock: net.Socket, n: number): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const out: Buffer[] = [];
    const t = setTimeout(() => reject(new Error(`got ${out.length} of ${n} answers`)), 3000);
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        out.push(buf.subarray(2, 2 + buf.readUInt16BE(0)));
        buf = buf.subarray(2 + buf.readUInt16BE(0));
      }
      if (out.length >= n) { clearTimeout(t); resolve(out); }
    });
  });
}

test('TCP: several queries in one write are all answered; a query split across writes is answered', async () => {
  const sock = net.connect(port(), '127.0.0.1');
  await new Promise((r) => sock.once('connect', r));
  const names = ['ns1', 'mail', 'mx', 'big', 'nope'];
  const got = readFrames(sock, names.length + 1);
  sock.write(Buffer.concat(names.map((n, i) => frame(buildQuery(`${n}.rules.example.`, 'A', { id: 100 + i })))));
  const split = frame(buildQuery('ns1.rules.example.', 'A', { id: 999 }));
  sock.write(split.subarray(0, 1));
  await new Promise((r) => setTimeout(r, 30));
  sock.write(split.subarray(1, 9));
  await new Promise((r) => setTimeout(r, 30));
  sock.write(split.subarray(9));
  const answers = (await got).map(parseResponse);
  assert.deepEqual(answers.map((a) => a.id).sort(), [100, 101, 102, 103, 104, 999]);
  assert.equal(answers.find((a) => a.id === 104)!.rcode, 'NXDOMAIN');
  assert.deepEqual(answers.find((a) => a.id === 999)!.answer, ['ns1.rules.example. A 3600 192.0.2.1']);
  sock.destroy();
});

/** The OPT RDATA options of a response, as [code, data] pairs (the OPT is the last record here). */
function optOptions(raw: Buffer): Array<[number, Buffer]> {
  // Find the OPT: root owner (0), type 41, at the end of the message; its RDLENGTH is 8 octets in.
  for (let i = raw.length - 11; i >= 12; i--) {
    if (raw[i] === 0 && raw.readUInt16BE(i + 1) === 41 && i + 11 + raw.readUInt16BE(i + 9) === raw.length) {
      const out: Array<[number, Buffer]> = [];
      for (let p = i + 11; p + 4 <= raw.length; p += 4 + raw.readUInt16BE(p + 2)) out.push([raw.readUInt16BE(p), raw.subarray(p + 4, p + 4 + raw.readUInt16BE(p + 2))]);
      return out;
    }
  }
  throw new Error('no OPT in the response');
}

test('edns-tcp-keepalive (RFC 7828): on TCP the answer announces the idle timeout; never on UDP, never unasked', async () => {
  const withKeepalive = () => {
    const q = buildQuery('ns1.rules.example.', 'A');
    const out = Buffer.concat([q, Buffer.from([0, 11, 0, 0])]); // option 11, empty: "tell me"
    out.writeUInt16BE(4, out.length - 6); // the OPT's RDLENGTH
    return out;
  };
  const tcp = await exchange(port(), withKeepalive(), { transport: 'tcp' });
  assert.equal(parseResponse(tcp).rcode, 'NOERROR');
  assert.deepEqual(optOptions(tcp).map(([c, d]) => [c, d.readUInt16BE(0)]), [[11, 3]], 'tcpIdleMs 300 = 3 units of 100 ms');
  const udp = await exchange(port(), withKeepalive());
  assert.equal(parseResponse(udp).answer.length, 1);
  assert.deepEqual(optOptions(udp), [], 'RFC 7828 3.2.1: never over UDP');
  const plain = await exchange(port(), buildQuery('ns1.rules.example.', 'A'), { transport: 'tcp' });
  assert.deepEqual(optOptions(plain), [], 'not to a client that did not ask');
});

test('TCP: an idle connection is closed after the idle timeout', async () => {
  const sock = net.connect(port(), '127.0.0.1');
  const t0 = Date.now();
  await new Promise((r) => sock.once('close', r));
  const took = Date.now() - t0;
  assert.ok(took >= 250 && took < 3000, `closed after ${took} ms`);
});

test('TCP: over the connection cap, the longest-idle connection is closed first', async () => {
  const socks: net.Socket[] = [];
  const closed: number[] = [];
  for (let i = 0; i < 3; i++) {
    const c = net.connect(port(), '127.0.0.1');
    await new Promise((r) => c.once('connect', r));
    c.on('close', () => closed.push(i));
    socks.push(c);
    await new Promise((r) => setTimeout(r, 20));
  }
  // Make connection 0 recently active, so connection 1 is the longest idle: its answer back means
  // the server has seen the activity (a fixed sleep was too short on a loaded machine).
  const answered = new Promise((r) => socks[0].once('data', r));
  socks[0].write(frame(buildQuery('ns1.rules.example.', 'A')));
  await answered;
  const extra = net.connect(port(), '127.0.0.1');
  await new Promise((r) => extra.once('connect', r));
  for (let i = 0; i < 200 && closed.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
  await new Promise((r) => setTimeout(r, 50)); // and no second one closed
  assert.deepEqual(closed, [1]);
  const r = parseResponse(await exchange(port(), buildQuery('ns1.rules.example.', 'A'), { transport: 'tcp' }));
  assert.equal(r.rcode, 'NOERROR');
  for (const c of [...socks, extra]) c.destroy();
});
