// THE PROOF of online signing: a real validating resolver (Debian's Unbound, module-config
// "validator iterator") with the signed domain's DS as its only trust anchor and stub zones to
// Glidepath on loopback (every other address refused by do-not-query-address) returns AD for every
// kind of answer; a wrong trust anchor gives SERVFAIL; delv agrees. Skips when unbound is absent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestServer, importText, settle, waitFor, type TestServer, adminCall } from '../helpers/server.js';
import { query, type Response } from '../helpers/dig.js';
import { startUnbound, unboundMissing } from '../helpers/unbound.js';

const DELV = '/usr/bin/delv';
const skip = unboundMissing;
const dir = mkdtempSync(join(tmpdir(), 'glidepath-dnssec-'));

let s: TestServer;
const api = (method: string, path: string, body?: unknown) => adminCall(s, method, path, body);

function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: 20_000 }, (_err, stdout, stderr) => resolve(String(stdout) + String(stderr)));
  });
}

const ask = (port: number, name: string, type: string) => query(port, name, type, { rd: true, do: true, timeoutMs: 5000 });

let good: { port: number };
let bad: { port: number };
let anchor: string;
let childDs: string[];

// Setup at the top level (after() hooks made inside a test would run when that test ends): a signed
// parent, a signed child with its DS in the parent, an unsigned child.
async function setup(): Promise<void> {
  s = await startTestServer({ keyFile: { file: join(dir, 'kek.key'), create: true } });
  await importText(s, `$ORIGIN child.sec.example.
$TTL 300
@ SOA ns1 hostmaster 1 3600 600 86400 300
@ NS ns1
ns1 A 127.0.0.1
www A 192.0.2.10
`);
  await importText(s, `$ORIGIN insecure.sec.example.
$TTL 300
@ SOA ns1 hostmaster 1 3600 600 86400 300
@ NS ns1
ns1 A 127.0.0.1
www A 192.0.2.11
`);
  const child = await api('PUT', '/v1/domains/child.sec.example/dnssec', {});
  assert.equal(child.status, 200, JSON.stringify(child.json));
  childDs = (child.json.ds as string[]).map((d) => d.replace(/^child\.sec\.example\. DS /, ''));
  await importText(s, `$ORIGIN sec.example.
$TTL 300
@ SOA ns1 hostmaster 1 3600 600 86400 300
@ NS ns1
@ MX 10 mail
ns1 A 127.0.0.1
mail A 192.0.2.25
www A 192.0.2.80
www AAAA 2001:db8::80
alias CNAME www
*.wild TXT "wild"
x.ent A 192.0.2.5
dn DNAME target.sec.example.
www.target A 192.0.2.9
child NS ns1.child
ns1.child A 127.0.0.1
${childDs.map((d) => `child DS ${d}`).join('\n')}
insecure NS ns1.insecure
ns1.insecure A 127.0.0.1
`);
  const parent = await api('PUT', '/v1/domains/sec.example/dnssec', { algorithm: 'ecdsap256sha256' });
  assert.equal(parent.status, 200, JSON.stringify(parent.json));
  const ds = parent.json.ds as string[];
  assert.equal(ds.length, 2); // SHA-256 and SHA-384
  anchor = ds[0].replace(/^sec\.example\. /, 'sec.example. ');
  await settle(s);
  await waitFor(async () => (await query(s.dnsPort(), 'sec.example.', 'DNSKEY', { do: true })).answer.length > 0, 5000, 'DNSKEY served');
  const port = s.dnsPort();
  good = { port: await startUnbound(dir, 'good', [anchor], [['sec.example.', port], ['child.sec.example.', port], ['insecure.sec.example.', port]], 'sec.example.') };
  // The same key tag and algorithm, a digest of something else: validation must fail.
  const wrong = anchor.replace(/[0-9A-F]{64}$/, (h) => h.slice(0, 63) + (h.endsWith('0') ? '1' : '0'));
  bad = { port: await startUnbound(dir, 'bad', [wrong], [['sec.example.', port]], 'sec.example.') };
}
if (!skip) await setup();

const cases: Array<[string, string, string, (r: Response) => void]> = [
  ['positive', 'www.sec.example.', 'A', (r) => assert.deepEqual(r.answer.filter((a) => !a.includes(' RRSIG ')).map((a) => a.split(' ').at(-1)), ['192.0.2.80'])],
  ['CNAME', 'alias.sec.example.', 'A', (r) => assert.ok(r.answer.some((a) => a.includes(' CNAME ')) && r.answer.some((a) => a.endsWith('192.0.2.80')))],
  ['wildcard', 'anything.wild.sec.example.', 'TXT', (r) => assert.ok(r.answer.some((a) => a.includes('"wild"')))],
  ['NXDOMAIN (compact: NOERROR, NXNAME)', 'nope.sec.example.', 'A', (r) => assert.equal(r.answer.length, 0)],
  ['NODATA', 'www.sec.example.', 'TXT', (r) => assert.equal(r.answer.length, 0)],
  ['empty non-terminal', 'ent.sec.example.', 'A', (r) => assert.equal(r.answer.length, 0)],
  ['DNAME', 'www.dn.sec.example.', 'A', (r) => assert.ok(r.answer.some((a) => a.endsWith('192.0.2.9')))],
  ['ANY', 'www.sec.example.', 'ANY', (r) => assert.ok(r.answer.length > 0)],
  ['DNSKEY', 'sec.example.', 'DNSKEY', (r) => assert.ok(r.answer.length > 0)],
  ['MX with additional', 'sec.example.', 'MX', (r) => assert.ok(r.answer.length > 0)],
  ['wildcard NODATA', 'anything.wild.sec.example.', 'A', (r) => assert.equal(r.answer.length, 0)],
  ['secure delegation: DS', 'child.sec.example.', 'DS', (r) => assert.ok(r.answer.length > 0)],
  ['secure delegation: data in the child', 'www.child.sec.example.', 'A', (r) => assert.ok(r.answer.some((a) => a.endsWith('192.0.2.10')))],
  ['insecure delegation: no DS, proven', 'insecure.sec.example.', 'DS', (r) => assert.equal(r.answer.length, 0)],
  ['CDS', 'sec.example.', 'TYPE59', (r) => assert.ok(r.answer.length > 0)],
];

for (const [what, name, type, check] of cases) {
  test(`Unbound validates: ${what} (${name} ${type}) with AD`, { skip }, async () => {
    const r = await ask(good.port, name, type);
    assert.equal(r.rcode, 'NOERROR', `${what}: ${JSON.stringify(r.answer)} ${JSON.stringify(r.authority)}`);
    assert.equal(r.ad, true, `${what}: AD expected; answer ${JSON.stringify(r.answer)} authority ${JSON.stringify(r.authority)}`);
    check(r);
  });
}

test('Unbound: a name below the insecure delegation resolves without AD (insecure, not bogus)', { skip }, async () => {
  const r = await ask(good.port, 'www.insecure.sec.example.', 'A');
  assert.equal(r.rcode, 'NOERROR');
  assert.equal(r.ad, false);
  assert.ok(r.answer.some((a) => a.endsWith('192.0.2.11')));
});

test('Unbound with a wrong trust anchor: SERVFAIL (validation really happens)', { skip }, async () => {
  for (const [name, type] of [['www.sec.example.', 'A'], ['nope.sec.example.', 'A']]) {
    const r = await ask(bad.port, name, type);
    assert.equal(r.rcode, 'SERVFAIL', `${name} ${type}`);
  }
});

test('delv agrees: fully validated answers from Glidepath alone', { skip: skip || (existsSync(DELV) ? false : 'delv is not installed (bind9-dnsutils)') }, async () => {
  const [, tag, alg, dt, hex] = /^sec\.example\. DS (\d+) (\d+) (\d+) ([0-9A-F]+)$/.exec(anchor)!;
  const anchors = join(dir, 'anchors.conf');
  writeFileSync(anchors, `trust-anchors { sec.example. static-ds ${tag} ${alg} ${dt} "${hex}"; };\n`);
  for (const [name, type] of [['www.sec.example', 'A'], ['alias.sec.example', 'A'], ['anything.wild.sec.example', 'TXT'],
    ['nope.sec.example', 'A'], ['www.sec.example', 'TXT'], ['ent.sec.example', 'A'], ['www.child.sec.example', 'A']]) {
    // Asynchronously: Glidepath answers from this very process.
    const out = await run(DELV, ['@127.0.0.1', '-p', String(s.dnsPort()), '-a', anchors, '+root=sec.example', name, type]);
    assert.match(out, /; (negative response, )?fully validated/, `${name} ${type}: ${out}`);
  }
});

test('the signed answer as sent: RRSIGs with DO only; a referral signs DS, never the delegation NS or glue', { skip }, async () => {
  const unsigned = await query(s.dnsPort(), 'www.sec.example.', 'A', { do: false });
  assert.ok(!unsigned.answer.some((a) => a.includes(' RRSIG ')));
  const signed = await query(s.dnsPort(), 'www.sec.example.', 'A', { do: true });
  assert.equal(signed.opt?.do, true);
  assert.ok(signed.answer.some((a) => a.includes(' RRSIG ')));
  // The parent's view of the delegation: ask for a name the child would hold, at the parent only.
  s.feed!.snapshot(); // (the child is served here too; the DS query above went to the parent)
  const ds = await query(s.dnsPort(), 'child.sec.example.', 'DS', { do: true });
  assert.ok(ds.answer.some((a) => a.includes(' DS ')) && ds.answer.some((a) => a.includes(' RRSIG ')), JSON.stringify(ds.answer));
  assert.equal(ds.aa, true);
});
