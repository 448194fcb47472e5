// A real secondary: NSD on loopback, unprivileged settings, in a temporary directory, pulling a
// domain from Glidepath with TSIG. Shows the initial AXFR, an API edit reaching NSD by NOTIFY and
// IXFR within seconds, and the same answers from both servers. CI installs NSD (.ci/run); without
// nsd the suite is skipped, saying so.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { query } from '../helpers/dig.js';
import { freePort } from '../helpers/ports.js';
import { waitFor } from '../helpers/server.js';
import { startPrimary, editZone, assertSameAnswers, soaSerial, runSecondary, ZONE, KEY_NAME } from '../helpers/secondary.js';

const NSD = ['/usr/sbin/nsd', '/usr/bin/nsd', '/usr/local/sbin/nsd'].find((p) => existsSync(p));

if (!NSD) {
  test('NSD secondary', { skip: 'nsd is not installed (Debian package "nsd"; .ci/run installs it)' }, () => undefined);
} else {
  const nsdPort = await freePort();
  const p = await startPrimary(nsdPort);
  const dir = await mkdtemp(join(tmpdir(), 'glidepath-nsd-'));
  // database "": no nsd.db, zones kept in memory and written to zonefile (NSD 4 default layout).
  await writeFile(join(dir, 'nsd.conf'), `server:
    ip-address: 127.0.0.1
    port: ${nsdPort}
    server-count: 1
    username: ""
    chroot: ""
    zonesdir: "${dir}"
    database: ""
    pidfile: "${dir}/nsd.pid"
    xfrdfile: "${dir}/xfrd.state"
    zonelistfile: "${dir}/zone.list"
    xfrdir: "${dir}"
    logfile: "${dir}/nsd.log"
    verbosity: 2
    xfrd-reload-timeout: 0
remote-control:
    control-enable: no
key:
    name: "${KEY_NAME}"
    algorithm: hmac-sha256
    secret: "${p.secret}"
zone:
    name: "${ZONE}"
    zonefile: "xfr.example.zone"
    allow-notify: 127.0.0.1 ${KEY_NAME}
    request-xfr: 127.0.0.1@${p.s.dnsPort()} ${KEY_NAME}
`);
  const nsdLog = runSecondary(NSD, ['-d', '-c', join(dir, 'nsd.conf')], dir);

  test('NSD bootstraps with a signed AXFR', async () => {
    await waitFor(async () => (await query(nsdPort, ZONE, 'SOA').catch(() => undefined))?.rcode === 'NOERROR', 15_000,
      `NSD serves the zone (its output: ${nsdLog.join('\n')})`);
    assert.equal(soaSerial(await query(nsdPort, ZONE, 'SOA')), soaSerial(await query(p.s.dnsPort(), ZONE, 'SOA')));
    assert.deepEqual(p.transfersSent(), ['AXFR']);
  });

  test('an API edit reaches NSD through NOTIFY and IXFR within seconds', async () => {
    const before = soaSerial(await query(p.s.dnsPort(), ZONE, 'SOA'));
    const t0 = Date.now();
    await editZone(p);
    await waitFor(async () => (await query(nsdPort, 'new.' + ZONE, 'TXT')).answer.length === 1, 5000, 'the edit on NSD');
    const ms = Date.now() - t0;
    assert.ok(ms < 5000, `took ${ms} ms`);
    assert.deepEqual((await query(nsdPort, 'www.' + ZONE, 'A')).answer, [`www.${ZONE} A 300 192.0.2.82`]);
    assert.ok(soaSerial(await query(nsdPort, ZONE, 'SOA')) > before);
    assert.equal(p.transfersSent().at(-1), 'IXFR', `NSD asked for IXFR: ${p.transfersSent().join(', ')}`);
    assert.ok(p.s.transfer!.notifier.acked >= 1, 'NSD acknowledged a NOTIFY');
  });

  test('NSD and Glidepath give the same answers', async () => {
    await assertSameAnswers(p.s.dnsPort(), nsdPort);
  });
}
