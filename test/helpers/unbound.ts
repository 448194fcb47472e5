// A validating Unbound for tests: module-config "validator iterator", the given trust anchors, stub
// zones to loopback servers, and every other address refused (do-not-query-address), so it never
// sends a query off the machine. Killed when the suite ends.
import { after } from 'node:test';
import { spawn } from 'node:child_process';
import { writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { query } from './dig.js';
import { freePort } from './ports.js';
import { waitFor } from './server.js';

export const UNBOUND = '/usr/sbin/unbound';
export const unboundMissing = existsSync(UNBOUND) ? false : 'unbound is not installed (Debian package unbound; .ci/run installs it)';

/** Every IPv4 address but 127.0.0.0/8, and all of IPv6: the resolver may only reach loopback. */
const OUTSIDE = ['0.0.0.0/2', '64.0.0.0/3', '96.0.0.0/4', '112.0.0.0/5', '120.0.0.0/6', '124.0.0.0/7', '126.0.0.0/8', '128.0.0.0/1', '::/0'];

/** Starts Unbound in `dir`; `stubs`: zone -> port on 127.0.0.1; `probe`: a name it must resolve
 *  (any RCODE) before it counts as up. Returns its port. */
export async function startUnbound(dir: string, name: string, anchors: string[], stubs: Array<[string, number]>, probe: string): Promise<number> {
  const port = await freePort();
  const conf = join(dir, `${name}.conf`);
  writeFileSync(conf, `server:
  interface: 127.0.0.1
  port: ${port}
  username: ""
  chroot: ""
  directory: "${dir}"
  pidfile: "${join(dir, name + '.pid')}"
  use-syslog: no
  logfile: ""
  verbosity: 1
  val-log-level: 2
  num-threads: 1
  so-reuseport: no
  do-ip6: no
  access-control: 127.0.0.0/8 allow
  do-not-query-localhost: no
${OUTSIDE.map((a) => `  do-not-query-address: ${a}`).join('\n')}
  module-config: "validator iterator"
  qname-minimisation: no
  aggressive-nsec: no
  prefetch: no
${anchors.map((a) => `  trust-anchor: "${a}"`).join('\n')}
remote-control:
  control-enable: no
${stubs.map(([z, p]) => `stub-zone:\n  name: "${z}"\n  stub-addr: 127.0.0.1@${p}\n`).join('')}`);
  const proc = spawn(UNBOUND, ['-d', '-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  proc.stderr!.on('data', (d: Buffer) => { log += d.toString(); });
  after(() => { proc.kill('SIGTERM'); });
  await waitFor(async () => {
    try { await query(port, probe, 'SOA', { rd: true, timeoutMs: 300 }); return true; } catch { return false; }
  }, 10_000, `unbound on ${port} (${log})`);
  return port;
}
