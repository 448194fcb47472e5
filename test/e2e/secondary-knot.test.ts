// A real secondary: Knot DNS (knotd) on loopback, unprivileged, in a temporary directory, pulling a
// domain from Glidepath with TSIG. Shows the initial AXFR, an API edit reaching the secondary by
// NOTIFY and IXFR within seconds, the same answers from both servers, and an unsigned transfer
// refused. CI installs Knot (.ci/run); without knotd the suite is skipped, saying so.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { query } from '../helpers/dig.js';
import { xfr, xfrQuery } from '../helpers/xfr.js';
import { freePort } from '../helpers/ports.js';
import { waitFor } from '../helpers/server.js';
import { startPrimary, editZone, assertSameAnswers, soaSerial, runSecondary, ZONE, KEY_NAME } from '../helpers/secondary.js';

const KNOTD = ['/usr/sbin/knotd', '/usr/bin/knotd', '/usr/local/sbin/knotd'].find((p) => existsSync(p));

if (!KNOTD) {
  test('Knot secondary', { skip: 'knotd is not installed (Debian package "knot"; .ci/run installs it)' }, () => undefined);
} else {
  const knotPort = await freePort();
  const p = await startPrimary(knotPort);
  const s = p.s;
  const secret = p.secret;
  const dir = await mkdtemp(join(tmpdir(), 'glidepath-knot-'));

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
  - id: ${KEY_NAME}
    algorithm: hmac-sha256
    secret: ${secret}
remote:
  - id: glidepath
    address: 127.0.0.1@${s.dnsPort()}
    key: ${KEY_NAME}
acl:
  - id: notify-from-glidepath
    address: 127.0.0.0/8
    key: ${KEY_NAME}
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
  const knotLog = runSecondary(KNOTD, ['-c', join(dir, 'knot.conf')], dir);

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
    await editZone(p);
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
    await assertSameAnswers(s.dnsPort(), knotPort);
  });

  test('a transfer without the key, or with a wrong one, is refused', async () => {
    const plain = await xfr(s.dnsPort(), xfrQuery(ZONE, 'AXFR'));
    assert.equal(plain.rcode, 'REFUSED');
    assert.equal(plain.records.length, 0);
    const { signQuery } = await import('../helpers/xfr.js');
    const wrong = signQuery(xfrQuery(ZONE, 'AXFR'), { name: KEY_NAME, algorithm: 'hmac-sha256', secret: randomBytes(32) });
    const bad = await xfr(s.dnsPort(), wrong.message);
    assert.equal(bad.rcode, 'NOTAUTH');
    assert.equal(bad.records.length, 0);
  });
}
