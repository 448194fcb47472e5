// A real secondary: Knot DNS (knotd) on loopback, unprivileged, in a temporary directory, pulling a
// domain from Glidepath with TSIG. Shows the initial AXFR, an API edit reaching the secondary by
// NOTIFY and IXFR within seconds, the same answers from both servers, and an unsigned transfer
// refused. CI installs Knot (.ci/run); without knotd the suite is skipped, saying so.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, writeFile, rm, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startTestServer, settle } from '../helpers/server.js';
import { query, type Response } from '../helpers/dig.js';
import { xfr, xfrQuery } from '../helpers/xfr.js';
import dgram from 'node:dgram';
import { freeTcpPort } from '../../src/store/embedded.js';

const KNOTD = ['/usr/sbin/knotd', '/usr/bin/knotd', '/usr/local/sbin/knotd'].find((p) => existsSync(p));
const ADMIN = 'test-admin-token';
const ZONE = 'xfr.example.';

if (!KNOTD) {
  test('Knot secondary', { skip: 'knotd is not installed (Debian package "knot"; .ci/run installs it)' }, () => undefined);
} else {
  const s = await startTestServer({ transfer: { notify: { firstDelayMs: 300 } } });
  const api = async (method: string, path: string, body?: unknown) => {
    const r = await fetch(s.apiUrl() + path, {
      method,
      headers: { authorization: `Bearer ${ADMIN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${text}`);
    return text ? JSON.parse(text) as unknown : undefined;
  };
  const secret = randomBytes(32).toString('base64');
  const dir = await mkdtemp(join(tmpdir(), 'glidepath-knot-'));
  const knotPort = await freePort();
  const knotLog: string[] = [];

  await api('POST', '/v1/zones', {
    name: 'xfr', rrsets: [
      { owner: '@', type: 'SOA', ttl: 3600, records: ['ns1 hostmaster 100 3600 600 86400 300'] },
      { owner: '@', type: 'NS', ttl: 3600, records: ['ns1', 'ns2.example.net.'] },
      { owner: '@', type: 'MX', ttl: 3600, records: ['10 mail'] },
      { owner: 'ns1', type: 'A', ttl: 3600, records: ['192.0.2.53'] },
      { owner: 'mail', type: 'A', ttl: 300, records: ['192.0.2.25'] },
      { owner: 'www', type: 'A', ttl: 300, records: ['192.0.2.80', '192.0.2.81'] },
      { owner: 'www', type: 'AAAA', ttl: 300, records: ['2001:db8::80'] },
      { owner: 'alias', type: 'CNAME', ttl: 600, records: ['www'] },
      { owner: '*.wild', type: 'TXT', ttl: 60, records: ['"wildcard"'] },
      { owner: 'txt', type: 'TXT', ttl: 60, records: ['"v=spf1 -all"', '"second string"'] },
      { owner: 'sub', type: 'NS', ttl: 3600, records: ['ns.sub'] },
      { owner: 'ns.sub', type: 'A', ttl: 3600, records: ['192.0.2.99'] },
    ],
  });
  await api('POST', '/v1/domains', { name: ZONE, zone: 'xfr' });
  await api('POST', '/v1/tsig-keys', { name: 'knot-xfr.', algorithm: 'hmac-sha256', secret });
  await api('PUT', `/v1/domains/${ZONE}/transfer`, { allow: ['127.0.0.0/8'], tsig_key: 'knot-xfr.', notify: [`127.0.0.1:${knotPort}`] });
  await settle(s);
  await waitFor(async () => s.transfer!.settings.get().domains.size === 1, 5000, 'transfer settings loaded');

  await mkdir(join(dir, 'storage'));
  await mkdir(join(dir, 'run'));
  await writeFile(join(dir, 'knot.conf'), `server:
    rundir: "${dir}/run"
    listen: 127.0.0.1@${knotPort}
    background-workers: 1
    udp-workers: 1
    tcp-workers: 1
database:
    storage: "${dir}/storage"
log:
  - target: stderr
    any: info
key:
  - id: knot-xfr.
    algorithm: hmac-sha256
    secret: ${secret}
remote:
  - id: glidepath
    address: 127.0.0.1@${s.dnsPort()}
    key: knot-xfr.
acl:
  - id: notify-from-glidepath
    address: 127.0.0.0/8
    key: knot-xfr.
    action: notify
template:
  - id: default
    storage: "${dir}/storage"
    zonefile-sync: -1
    zonefile-load: none
    journal-content: changes
zone:
  - domain: ${ZONE}
    master: glidepath
    acl: notify-from-glidepath
`);
  const knot: ChildProcess = spawn(KNOTD, ['-c', join(dir, 'knot.conf')], { stdio: ['ignore', 'pipe', 'pipe'] });
  after(async () => {
    if (knot.exitCode === null) {
      knot.kill('SIGTERM');
      await new Promise((r) => knot.once('exit', r));
    }
    await rm(dir, { recursive: true, force: true });
  });
  for (const stream of [knot.stdout!, knot.stderr!]) stream.on('data', (d: Buffer) => knotLog.push(...d.toString().split('\n').filter(Boolean)));

  const soaSerial = (r: Response) => Number(r.answer[0]?.split(' ')[5]);

  test('the secondary bootstraps with a signed AXFR', async () => {
    await waitFor(async () => (await query(knotPort, ZONE, 'SOA').catch(() => undefined))?.rcode === 'NOERROR', 15_000, 'Knot serves the zone');
    const k = await query(knotPort, ZONE, 'SOA');
    const g = await query(s.dnsPort(), ZONE, 'SOA');
    assert.equal(soaSerial(k), soaSerial(g));
    assert.ok(knotLog.some((l) => /AXFR, incoming/.test(l) && /finished/.test(l)), knotLog.join('\n'));
  });

  test('an API edit reaches the secondary through NOTIFY and IXFR within seconds', async () => {
    const before = soaSerial(await query(s.dnsPort(), ZONE, 'SOA'));
    const t0 = Date.now();
    await api('PUT', '/v1/zones/xfr/rrsets/www/A', { ttl: 300, records: ['192.0.2.82'] });
    await api('PUT', '/v1/zones/xfr/rrsets/new/TXT', { ttl: 120, records: ['"added by the API"'] });
    await waitFor(async () => (await query(knotPort, 'new.' + ZONE, 'TXT')).answer.length === 1, 5000, 'the edit on Knot');
    const ms = Date.now() - t0;
    assert.ok(ms < 5000, `took ${ms} ms`);
    const k = await query(knotPort, 'www.' + ZONE, 'A');
    assert.deepEqual(k.answer, [`www.${ZONE} A 300 192.0.2.82`]);
    assert.ok(soaSerial(await query(knotPort, ZONE, 'SOA')) > before);
    assert.ok(knotLog.some((l) => /IXFR, incoming/.test(l) && /finished/.test(l)), knotLog.join('\n'));
    assert.ok(s.transfer!.notifier.acked >= 1, 'Knot acknowledged a NOTIFY');
  });

  test('both servers give the same answers', async () => {
    const questions: Array<[string, string]> = [
      [ZONE, 'SOA'], [ZONE, 'NS'], [ZONE, 'MX'], ['www.' + ZONE, 'A'], ['www.' + ZONE, 'AAAA'], ['alias.' + ZONE, 'A'],
      ['x.wild.' + ZONE, 'TXT'], ['txt.' + ZONE, 'TXT'], ['new.' + ZONE, 'TXT'], ['missing.' + ZONE, 'A'],
      ['www.' + ZONE, 'MX'], ['host.sub.' + ZONE, 'A'], ['mail.' + ZONE, 'A'],
    ];
    for (const [name, type] of questions) {
      const g = await query(s.dnsPort(), name, type);
      const k = await query(knotPort, name, type);
      const what = `${name} ${type}`;
      assert.equal(k.rcode, g.rcode, what);
      assert.equal(k.aa, g.aa, what);
      assert.deepEqual([...k.answer].sort(), [...g.answer].sort(), what);
      if (g.answer.length === 0) assert.deepEqual([...k.authority].sort(), [...g.authority].sort(), what);
    }
  });

  test('a transfer without the key, or with a wrong one, is refused', async () => {
    const plain = await xfr(s.dnsPort(), xfrQuery(ZONE, 'AXFR'));
    assert.equal(plain.rcode, 'REFUSED');
    assert.equal(plain.records.length, 0);
    const { signQuery } = await import('../helpers/xfr.js');
    const wrong = signQuery(xfrQuery(ZONE, 'AXFR'), { name: 'knot-xfr.', algorithm: 'hmac-sha256', secret: randomBytes(32) });
    const bad = await xfr(s.dnsPort(), wrong.message);
    assert.equal(bad.rcode, 'NOTAUTH');
    assert.equal(bad.records.length, 0);
  });
}

/** A port free for TCP and for UDP on loopback (Knot listens on both). */
async function freePort(): Promise<number> {
  for (;;) {
    const port = await freeTcpPort();
    const sock = dgram.createSocket('udp4');
    const ok = await new Promise<boolean>((r) => {
      sock.once('error', () => r(false));
      sock.bind(port, '127.0.0.1', () => r(true));
    });
    await new Promise<void>((r) => sock.close(() => r()));
    if (ok) return port;
  }
}

async function waitFor(check: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    if (await check()) return;
    if (Date.now() > end) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
