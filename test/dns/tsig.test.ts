// TSIG (RFC 8945) at the unit level: a query built with dns-packet, signed by src/dns/tsig.ts, has
// the MAC an independent computation of RFC 8945 4.3 gives; verification accepts it and rejects a
// bad MAC (BADSIG), an unknown key (BADKEY), a skewed clock (BADTIME, after the MAC), a MAC size
// out of bounds (FORMERR); responses and multi-message streams chain their MACs (5.3, 5.3.1).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import dnsPacket from 'dns-packet';
import { sign, verify, findTsig, unsignedPart, TsigSigner, TsigStreamVerifier, TSIG_ERROR, type TsigKey } from '../../src/dns/tsig.js';

const KEY: TsigKey = { name: 'transfer.example.', algorithm: 'hmac-sha256', secret: Buffer.from('c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0IQ==', 'base64') };
const KEY512: TsigKey = { name: 'big.key.', algorithm: 'hmac-sha512', secret: Buffer.alloc(64, 7) };
const NOW = 1_700_000_000;

const query = () => dnsPacket.encode({ type: 'query', id: 0x1234, questions: [{ type: 'AXFR', name: 'example.com', class: 'IN' }] });
const wire = (name: string) => Buffer.concat([...name.replace(/\.$/, '').split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)])), Buffer.from([0])]);

test('the MAC of a signed query is HMAC(message, TSIG variables) as RFC 8945 4.3.3 lays them out', () => {
  const q = query();
  const { message, mac } = sign(q, KEY, { now: NOW });
  // Independent layout: key name, class ANY, TTL 0, algorithm name, time (48 bits), fudge, error, other len.
  const vars = Buffer.concat([
    wire('transfer.example.'), Buffer.from([0, 255, 0, 0, 0, 0]), wire('hmac-sha256.'),
    Buffer.from([0, 0, (NOW >>> 24) & 255, (NOW >>> 16) & 255, (NOW >>> 8) & 255, NOW & 255]), Buffer.from([1, 44]), Buffer.from([0, 0, 0, 0]),
  ]);
  const expect = createHmac('sha256', KEY.secret).update(q).update(vars).digest();
  assert.deepEqual(mac, expect);
  // The message: ARCOUNT 1, the TSIG record last, decodable by dns-packet as an unknown type.
  assert.equal(message.readUInt16BE(10), 1);
  const decoded = dnsPacket.decode(message);
  assert.equal(decoded.additionals?.[0].name, 'transfer.example');
  const t = findTsig(message);
  assert.ok(t && t !== 'formerr');
  assert.equal(t.algorithm, 'hmac-sha256');
  assert.equal(t.timeSigned, NOW);
  assert.equal(t.fudge, 300);
  assert.equal(t.originalId, 0x1234);
  assert.deepEqual(unsignedPart(message, t), q);
});

test('verify: round trip; BADSIG for a changed octet; BADKEY; BADTIME after a good MAC; FORMERR for a short MAC', () => {
  for (const key of [KEY, KEY512]) {
    const { message } = sign(query(), key, { now: NOW });
    const t = findTsig(message);
    assert.ok(t && t !== 'formerr');
    assert.deepEqual(verify(message, t, key, { now: NOW + 299 }), { ok: true });
    assert.deepEqual(verify(message, t, key, { now: NOW + 301 }), { ok: false, error: TSIG_ERROR.BADTIME });
    assert.deepEqual(verify(message, t, undefined, { now: NOW }), { ok: false, error: TSIG_ERROR.BADKEY });
    assert.deepEqual(verify(message, t, { ...key, algorithm: key.algorithm === 'hmac-sha256' ? 'hmac-sha512' : 'hmac-sha256' }, { now: NOW }), { ok: false, error: TSIG_ERROR.BADKEY });
    const bad = Buffer.from(message);
    bad[14] ^= 0x20; // a letter of the question name
    const tb = findTsig(bad);
    assert.ok(tb && tb !== 'formerr');
    assert.deepEqual(verify(bad, tb, key, { now: NOW }), { ok: false, error: TSIG_ERROR.BADSIG });
    // Wrong secret, same name: BADSIG too (and a bad MAC wins over a bad time, RFC 8945 5.2).
    assert.deepEqual(verify(message, t, { ...key, secret: Buffer.alloc(32, 1) }, { now: NOW + 9999 }), { ok: false, error: TSIG_ERROR.BADSIG });
    assert.deepEqual(verify(message, { ...t, mac: t.mac.subarray(0, 8) }, key, { now: NOW }), { ok: false, error: 'formerr' });
    // A MAC truncated to half the hash is allowed (RFC 8945 5.2.2.1).
    assert.deepEqual(verify(message, { ...t, mac: t.mac.subarray(0, t.mac.length / 2) }, key, { now: NOW }), { ok: true });
  }
});

test('a response is signed over the request MAC; later messages over the previous MAC and the timers', () => {
  const req = sign(query(), KEY, { now: NOW });
  const resp = dnsPacket.encode({ type: 'response', id: 0x1234, flags: dnsPacket.AUTHORITATIVE_ANSWER, questions: [{ type: 'AXFR', name: 'example.com' }],
    answers: [{ type: 'A', name: 'a.example.com', ttl: 60, data: '192.0.2.1' }] });
  const signer = new TsigSigner(KEY, req.mac, () => NOW);
  const m1 = signer.sign(resp);
  const m2 = signer.sign(resp);
  // First message: request MAC (length-prefixed), the message, all variables.
  const t1 = findTsig(m1);
  assert.ok(t1 && t1 !== 'formerr');
  const len = Buffer.from([0, req.mac.length]);
  const vars = Buffer.concat([wire('transfer.example.'), Buffer.from([0, 255, 0, 0, 0, 0]), wire('hmac-sha256.'),
    Buffer.from([0, 0, (NOW >>> 24) & 255, (NOW >>> 16) & 255, (NOW >>> 8) & 255, NOW & 255]), Buffer.from([1, 44, 0, 0, 0, 0])]);
  assert.deepEqual(t1.mac, createHmac('sha256', KEY.secret).update(len).update(req.mac).update(resp).update(vars).digest());
  // Second: previous MAC, the message, timers only (RFC 8945 5.3.1).
  const t2 = findTsig(m2);
  assert.ok(t2 && t2 !== 'formerr');
  const timers = vars.subarray(vars.length - 12, vars.length - 4);
  assert.deepEqual(t2.mac, createHmac('sha256', KEY.secret).update(Buffer.from([0, 32])).update(t1.mac).update(resp).update(timers).digest());
  const v = new TsigStreamVerifier(KEY, req.mac, () => NOW);
  assert.ok(v.next(m1));
  assert.ok(v.next(m2));
  assert.ok(v.complete());
  // Out of order: the chain breaks.
  const w = new TsigStreamVerifier(KEY, req.mac, () => NOW);
  assert.equal(w.next(m2), false);
});

test('a TSIG record that is not last is FORMERR (RFC 8945 5.1)', () => {
  const { message } = sign(query(), KEY, { now: NOW });
  const withOpt = Buffer.concat([message, Buffer.from([0, 0, 41, 4, 208, 0, 0, 0, 0, 0, 0])]);
  withOpt.writeUInt16BE(2, 10);
  assert.equal(findTsig(withOpt), 'formerr');
  assert.equal(findTsig(query()), undefined);
});
