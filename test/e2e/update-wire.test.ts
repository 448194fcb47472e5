// UPDATE messages built by hand over real sockets: every TSIG algorithm (signed answer verified
// with the key), the key name echoed as sent, BADTIME / BADKEY / BADSIG per RFC 8945, malformed
// and truncated messages (FORMERR or dropped, the server unharmed), an unknown zone (NOTAUTH).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startTestServer, settle } from '../helpers/server.js';
import { exchange, query } from '../helpers/dig.js';
import { sign, findTsig, verify, TSIG_ALGORITHMS, TSIG_ERROR, type TsigKey } from '../../src/dns/tsig.js';
import { RCODE } from '../../src/dns/constants.js';

const ADMIN = 'test-admin-token';
const wire = (name: string) => Buffer.concat([...name.replace(/\.$/, '').split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l, 'latin1')])), Buffer.from([0])]);
const u16 = (n: number) => Buffer.from([n >> 8, n & 0xff]);
const u32 = (n: number) => { const b = Buffer.alloc(4); b.writeUInt32BE(n); return b; };

/** An UPDATE adding `owner` A `addr` to `zone` (RFC 2136 2). */
function updateMessage(zone: string, owner: string, addr: string, id = 0x1234): Buffer {
  const rdata = Buffer.from(addr.split('.').map(Number));
  return Buffer.concat([
    u16(id), Buffer.from([0x28, 0x00]), u16(1), u16(0), u16(1), u16(0),
    wire(zone), u16(6), u16(1),
    wire(owner), u16(1), u16(1), u32(60), u16(rdata.length), rdata,
  ]);
}

const rcodeOf = (m: Buffer) => m[3] & 0x0f;

test('UPDATE on the wire', async (t) => {
  const s = await startTestServer();
  const api = async (method: string, path: string, body?: unknown) => {
    const r = await fetch(s.apiUrl() + path, { method, headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${await r.text()}`);
  };
  await api('POST', '/v1/zones', { name: 'w', rrsets: [
    { owner: '@', type: 'SOA', ttl: 3600, records: ['ns1 hostmaster 1 3600 600 86400 300'] },
    { owner: '@', type: 'NS', ttl: 3600, records: ['ns1'] },
    { owner: 'ns1', type: 'A', ttl: 3600, records: ['192.0.2.53'] },
  ] });
  await api('POST', '/v1/domains', { name: 'w.example.', zone: 'w' });
  const keys: TsigKey[] = TSIG_ALGORITHMS.map((a) => ({ name: `${a}.key.`, algorithm: a, secret: randomBytes(32) }));
  for (const k of keys) await api('POST', '/v1/tsig-keys', { name: k.name, algorithm: k.algorithm, secret: k.secret.toString('base64') });
  const mixed: TsigKey = { name: 'mixed-case.key.', algorithm: 'hmac-sha256', secret: randomBytes(32) };
  await api('POST', '/v1/tsig-keys', { name: mixed.name, algorithm: mixed.algorithm, secret: mixed.secret.toString('base64') });
  await api('PUT', '/v1/domains/w.example./update-policy', { rules: [...keys, mixed].map((k) => ({ key: k.name, names: ['*'], types: ['A'] })) });
  await settle(s);
  const now = () => Math.floor(Date.now() / 1000);

  await t.test('every algorithm: NOERROR, answer signed with the same key', async () => {
    for (const [i, k] of keys.entries()) {
      for (const transport of ['udp', 'tcp'] as const) {
        const signed = sign(updateMessage('w.example.', `h${i}${transport}.w.example.`, `192.0.2.${i + 1}`), k, { now: now() });
        const out = await exchange(s.dnsPort(), signed.message, { transport });
        assert.equal(rcodeOf(out), RCODE.NOERROR, `${k.algorithm} ${transport}`);
        assert.equal((out[2] >> 3) & 0x0f, 5, 'opcode UPDATE echoed');
        const tr = findTsig(out);
        assert.ok(tr && tr !== 'formerr', k.algorithm);
        assert.deepEqual(verify(out, tr, k, { now: now(), prior: signed.mac }), { ok: true }, k.algorithm);
        assert.deepEqual((await query(s.dnsPort(), `h${i}${transport}.w.example.`, 'A')).answer, [`h${i}${transport}.w.example. A 60 192.0.2.${i + 1}`]);
      }
    }
  });

  await t.test('the key name is echoed as the client wrote it', async () => {
    const asSent = { ...mixed, name: 'Mixed-Case.KEY.' };
    const signed = sign(updateMessage('w.example.', 'mc.w.example.', '192.0.2.77'), asSent, { now: now() });
    const out = await exchange(s.dnsPort(), signed.message);
    assert.equal(rcodeOf(out), RCODE.NOERROR);
    const tr = findTsig(out);
    assert.ok(tr && tr !== 'formerr');
    assert.equal(tr.keyNameAsSent, 'Mixed-Case.KEY.');
    assert.deepEqual(verify(out, tr, mixed, { now: now(), prior: signed.mac }), { ok: true });
  });

  await t.test('BADTIME (signed, our time), BADSIG and BADKEY (unsigned), all NOTAUTH; nothing written', async () => {
    const k = keys[3];
    const old = sign(updateMessage('w.example.', 'late.w.example.', '192.0.2.9'), k, { now: now() - 3600 });
    let out = await exchange(s.dnsPort(), old.message);
    assert.equal(rcodeOf(out), RCODE.NOTAUTH);
    let tr = findTsig(out);
    assert.ok(tr && tr !== 'formerr');
    assert.equal(tr.error, TSIG_ERROR.BADTIME);
    assert.ok(tr.mac.length > 0);
    const wrong = sign(updateMessage('w.example.', 'late.w.example.', '192.0.2.9'), { ...k, secret: randomBytes(32) }, { now: now() });
    out = await exchange(s.dnsPort(), wrong.message);
    tr = findTsig(out);
    assert.ok(tr && tr !== 'formerr');
    assert.deepEqual([rcodeOf(out), tr.error, tr.mac.length], [RCODE.NOTAUTH, TSIG_ERROR.BADSIG, 0]);
    const unknown = sign(updateMessage('w.example.', 'late.w.example.', '192.0.2.9'), { ...k, name: 'nobody.' }, { now: now() });
    out = await exchange(s.dnsPort(), unknown.message);
    tr = findTsig(out);
    assert.ok(tr && tr !== 'formerr');
    assert.deepEqual([rcodeOf(out), tr.error], [RCODE.NOTAUTH, TSIG_ERROR.BADKEY]);
    assert.deepEqual((await query(s.dnsPort(), 'late.w.example.', 'A')).answer, []);
  });

  await t.test('unsigned: REFUSED; unknown zone: NOTAUTH; malformed or truncated: FORMERR or dropped', async () => {
    const k = keys[3];
    assert.equal(rcodeOf(await exchange(s.dnsPort(), updateMessage('w.example.', 'u.w.example.', '192.0.2.9'))), RCODE.REFUSED);
    const other = sign(updateMessage('nowhere.example.', 'u.nowhere.example.', '192.0.2.9'), k, { now: now() });
    assert.equal(rcodeOf(await exchange(s.dnsPort(), other.message)), RCODE.NOTAUTH);
    // ZOCOUNT 0.
    const nozone = Buffer.from([0x12, 0x34, 0x28, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    assert.equal(rcodeOf(await exchange(s.dnsPort(), nozone)), RCODE.FORMERR);
    // An update RR whose rdata runs past the end, signed (the MAC covers the bad bytes).
    const bad = updateMessage('w.example.', 'b.w.example.', '192.0.2.9');
    bad.writeUInt16BE(40, bad.length - 6);
    const badSigned = sign(bad, k, { now: now() });
    const out = await exchange(s.dnsPort(), badSigned.message);
    assert.equal(rcodeOf(out), RCODE.FORMERR);
    // Signed and cut short at every length: never an answer other than FORMERR/NOTAUTH/REFUSED, and
    // the server keeps answering.
    const whole = sign(updateMessage('w.example.', 't.w.example.', '192.0.2.9'), k, { now: now() }).message;
    for (let n = 12; n < whole.length; n += 7) {
      let got: Buffer | undefined;
      try { got = await exchange(s.dnsPort(), whole.subarray(0, n), { timeoutMs: 300 }); } catch { got = undefined; }
      if (got) assert.ok(([RCODE.FORMERR, RCODE.NOTAUTH, RCODE.REFUSED] as number[]).includes(rcodeOf(got)), `cut at ${n}: rcode ${rcodeOf(got)}`);
    }
    assert.deepEqual((await query(s.dnsPort(), 't.w.example.', 'A')).answer, []);
    assert.equal((await query(s.dnsPort(), 'ns1.w.example.', 'A')).answer.length, 1);
  });
});
