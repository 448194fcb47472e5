// Zone transfers of a signed domain: AXFR carries the zone fully signed, with a complete NSEC chain,
// so that a secondary without keys serves it validly. BIND's dnssec-verify and ldns-verify-zone
// check what `dig AXFR` receives; after an edit the transfer (IXFR answered with the whole signed
// domain) verifies again. Skips when the tools are absent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestServer, importText, settle, waitFor } from '../helpers/server.js';
import { query } from '../helpers/dig.js';
import { freePort } from '../helpers/ports.js';
import { runSecondary } from '../helpers/secondary.js';
import { startUnbound, unboundMissing } from '../helpers/unbound.js';

const DIG = '/usr/bin/dig';
const VERIFY = '/usr/bin/dnssec-verify';
const LDNS = '/usr/bin/ldns-verify-zone';
const skip = existsSync(DIG) && existsSync(VERIFY) ? false : 'dig and dnssec-verify are needed (bind9-dnsutils, bind9-utils)';
const dir = mkdtempSync(join(tmpdir(), 'glidepath-signed-xfr-'));

function run(cmd: string, args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: 30_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, out: String(stdout) + String(stderr) });
    });
  });
}

const s = skip ? undefined : await startTestServer({ keyFile: { file: join(dir, 'kek.key'), create: true } });

async function api(method: string, path: string, body?: unknown): Promise<unknown> {
  const r = await fetch(s!.apiUrl() + path, {
    method, headers: { authorization: 'Bearer test-admin-token', 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  assert.ok(r.status < 300, `${method} ${path}: ${r.status} ${text}`);
  return text ? JSON.parse(text) as unknown : undefined;
}

async function axfrVerified(label: string): Promise<string> {
  // The transfer settings reload a moment after the journal entry that changed them.
  let r = { code: 1, out: '' };
  await waitFor(async () => {
    r = await run(DIG, ['@127.0.0.1', '-p', String(s!.dnsPort()), 'signed.example.', 'AXFR', '+nocmd', '+nostats', '+nocomments', '+onesoa']);
    return r.code === 0 && !r.out.includes('Transfer failed');
  }, 10_000, `AXFR allowed (${r.out})`);
  // dig prints the closing SOA too unless +onesoa: one SOA, as a zone file wants.
  const file = join(dir, `${label}.zone`);
  writeFileSync(file, r.out);
  const v = await run(VERIFY, ['-o', 'signed.example.', '-x', file]);
  assert.equal(v.code, 0, `dnssec-verify (${label}):\n${v.out}\n--- zone:\n${r.out}`);
  assert.match(v.out, /Zone fully signed/);
  if (existsSync(LDNS)) {
    const l = await run(LDNS, [file]);
    assert.equal(l.code, 0, `ldns-verify-zone (${label}):\n${l.out}`);
  }
  return r.out;
}

test('AXFR of a signed domain: DNSKEY, RRSIGs, a complete NSEC chain; dnssec-verify and ldns-verify-zone accept it', { skip }, async () => {
  await importText(s!, `$ORIGIN signed.example.
$TTL 300
@ SOA ns1 hostmaster 1 3600 600 86400 300
@ NS ns1
@ MX 10 mail
ns1 A 192.0.2.1
mail A 192.0.2.25
www A 192.0.2.80
www AAAA 2001:db8::80
alias CNAME www
*.wild TXT "wild"
x.ent A 192.0.2.5
dn DNAME target.example.
child NS ns.child
ns.child A 192.0.2.99
child DS 12345 13 2 ${'AB'.repeat(32)}
insecure NS ns.elsewhere.example.
`);
  await api('PUT', '/v1/domains/signed.example/dnssec', {});
  await api('PUT', '/v1/domains/signed.example/transfer', { allow: ['127.0.0.0/8'] });
  await settle(s!);
  const zone = await axfrVerified('first');
  assert.match(zone, /\sDNSKEY\s+257 3 13 /);
  assert.match(zone, /^signed\.example\.\s.*NSEC\s+alias\.signed\.example\. NS SOA MX RRSIG NSEC DNSKEY CDS CDNSKEY$/m); // canonical order
  assert.doesNotMatch(zone, /^child\.signed\.example\.\s.*RRSIG\s+NS /m); // delegation NS never signed
  assert.doesNotMatch(zone, /^ns\.child\.signed\.example\.\s.*RRSIG/m); // nor glue
  assert.match(zone, /^child\.signed\.example\.\s.*RRSIG\s+DS /m);
});

test('after an edit the transfer is signed and verifies again (IXFR answered with the whole signed domain)', { skip }, async () => {
  await api('PUT', '/v1/zones/signed.example/rrsets/new/TXT', { ttl: 300, records: ['"added"'] });
  await settle(s!);
  const zone = await axfrVerified('edited');
  assert.match(zone, /^new\.signed\.example\.\s.*TXT\s+"added"/m);
  const ixfr = await run(DIG, ['@127.0.0.1', '-p', String(s!.dnsPort()), 'signed.example.', 'IXFR=1', '+nocmd', '+nostats', '+nocomments']);
  assert.match(ixfr.out, /^new\.signed\.example\.\s.*RRSIG\s+TXT /m);
  assert.match(ixfr.out, /^new\.signed\.example\.\s.*NSEC\s/m);
});

const NSD = ['/usr/sbin/nsd', '/usr/bin/nsd'].find((p) => existsSync(p));

test('an NSD secondary of the signed domain answers what the same Unbound validates (AD)', { skip: skip || unboundMissing || (NSD ? false : 'nsd is not installed') }, async () => {
  const nsdPort = await freePort();
  const nsdDir = mkdtempSync(join(tmpdir(), 'glidepath-nsd-signed-'));
  writeFileSync(join(nsdDir, 'nsd.conf'), `server:
    ip-address: 127.0.0.1
    port: ${nsdPort}
    server-count: 1
    username: ""
    chroot: ""
    zonesdir: "${nsdDir}"
    database: ""
    pidfile: "${nsdDir}/nsd.pid"
    xfrdfile: "${nsdDir}/xfrd.state"
    zonelistfile: "${nsdDir}/zone.list"
    xfrdir: "${nsdDir}"
    logfile: "${nsdDir}/nsd.log"
    xfrd-reload-timeout: 0
remote-control:
    control-enable: no
zone:
    name: "signed.example."
    zonefile: "signed.example.zone"
    request-xfr: 127.0.0.1@${s!.dnsPort()} NOKEY
`);
  const nsdLog = runSecondary(NSD!, ['-d', '-c', join(nsdDir, 'nsd.conf')], nsdDir);
  await waitFor(async () => (await query(nsdPort, 'new.signed.example.', 'TXT').catch(() => undefined))?.answer.length === 1, 15_000,
    `NSD serves the signed zone (${nsdLog.join('\n')})`);
  const ds = ((await api('GET', '/v1/domains/signed.example/dnssec')) as { ds: string[] }).ds[0];
  // Unbound asks NSD only: Glidepath is not in its configuration.
  const port = await startUnbound(dir, 'via-nsd', [ds], [['signed.example.', nsdPort]], 'signed.example.');
  for (const [name, type, answers] of [['www.signed.example.', 'A', true], ['alias.signed.example.', 'A', true], ['any.wild.signed.example.', 'TXT', true],
    ['nope.signed.example.', 'A', false], ['www.signed.example.', 'TXT', false], ['ent.signed.example.', 'A', false], ['insecure.signed.example.', 'DS', false]] as const) {
    const r = await query(port, name, type, { rd: true, do: true, timeoutMs: 5000 });
    assert.equal(r.ad, true, `${name} ${type}: ${r.rcode} ${JSON.stringify(r.answer)} ${JSON.stringify(r.authority)}`);
    assert.equal(r.answer.length > 0, answers, `${name} ${type}`);
  }
});

test('PZC: RRSIG TTLs are capped like the RRsets they cover, the original-TTL field keeps the unsigned TTL; keys survive the switch', { skip }, async () => {
  await importText(s!, `$ORIGIN other.example.
$TTL 300
@ SOA ns1 hostmaster 7 3600 600 86400 300
@ NS ns1
ns1 A 192.0.2.1
www A 203.0.113.80
`, { domain: 'other.example.', zone: 'pzc-next' });
  const at = new Date(Date.now() + 120_000).toISOString().replace(/\.\d+Z$/, 'Z');
  await api('PUT', '/v1/domains/signed.example/pzc', { zone: 'pzc-next', at });
  await settle(s!);
  const r = await query(s!.dnsPort(), 'www.signed.example.', 'A', { do: true });
  const a = r.records.find((x) => x.type === 'A')!;
  const sig = r.records.find((x) => x.type === 'RRSIG')!;
  assert.ok(a.ttl <= 120 && a.ttl > 60, `A TTL ${a.ttl}`);
  assert.equal(sig.ttl, a.ttl);
  const hex = sig.rdata.split(' ').slice(2).join('');
  assert.equal(parseInt(hex.slice(8, 16), 16), 300, 'RRSIG original TTL');
  // Applied now: the new zone is served signed at once, with the domain's own key.
  await api('PUT', '/v1/domains/signed.example/pzc', { zone: 'pzc-next', at: new Date(Date.now() - 1000).toISOString().replace(/\.\d+Z$/, 'Z') });
  await settle(s!);
  const after = await query(s!.dnsPort(), 'www.signed.example.', 'A', { do: true });
  assert.ok(after.answer.some((x) => x.endsWith('203.0.113.80')), JSON.stringify(after.answer));
  assert.ok(after.records.some((x) => x.type === 'RRSIG'));
  const keys = (await api('GET', '/v1/domains/signed.example/dnssec')) as { signed: boolean };
  assert.equal(keys.signed, true);
});
