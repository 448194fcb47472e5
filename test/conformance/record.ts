// Records test/conformance/expected.json again from the reference servers: NSD and Knot DNS (Debian
// packages nsd and knot) serve zones/ on loopback, every line of queries.txt is asked of both, and
// each distinct normalised answer becomes an `accept` entry (README.md here says how a case is
// compared). Run: npm run -s build && node dist/test/conformance/record.js [OUT]
// (OUT defaults to test/conformance/expected.json; review the diff before committing it).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, mkdir, readFile, writeFile, copyFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../helpers/ports.js';
import { query, type Response } from '../helpers/dig.js';
import { TYPE, isMetaType } from '../../src/dns/constants.js';

const HERE = fileURLToPath(new URL('../../../test/conformance/', import.meta.url));
const ZONES = [{ name: 'shop.example.', file: 'shop.example.zone' }, { name: 'registry.', file: 'registry.zone' }];
const find = (names: string[]) => names.find((p) => existsSync(p));
const NSD = find(['/usr/sbin/nsd', '/usr/bin/nsd']);
const KNOTD = find(['/usr/sbin/knotd', '/usr/bin/knotd']);

type RR = [string, string, number, string];
const rr = (line: string): RR => {
  const [owner, type, ttl, ...rdata] = line.split(' ');
  return [owner, type, Number(ttl), rdata.join(' ')];
};

async function waitUp(port: number, zone: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if ((await query(port, zone, 'SOA', { timeoutMs: 300 }).catch(() => undefined))?.rcode === 'NOERROR') return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`nothing answers for ${zone} on port ${port}`);
}

async function startNsd(dir: string, port: number): Promise<ChildProcess> {
  await writeFile(join(dir, 'nsd.conf'), `server:
    ip-address: 127.0.0.1
    port: ${port}
    server-count: 1
    username: ""
    chroot: ""
    zonesdir: "${dir}"
    database: ""
    pidfile: "${dir}/nsd.pid"
    xfrdfile: "${dir}/xfrd.state"
    zonelistfile: "${dir}/zone.list"
    logfile: "${dir}/nsd.log"
remote-control:
    control-enable: no
${ZONES.map((z) => `zone:\n    name: "${z.name}"\n    zonefile: "${z.file}"\n`).join('')}`);
  return spawn(NSD!, ['-d', '-c', join(dir, 'nsd.conf')], { stdio: 'ignore' });
}

async function startKnot(dir: string, port: number): Promise<ChildProcess> {
  await mkdir(join(dir, 'storage'), { recursive: true });
  await writeFile(join(dir, 'knot.conf'), `server:
    rundir: "${dir}"
    listen: 127.0.0.1@${port}
database:
    storage: "${dir}/storage"
template:
  - id: default
    storage: "${dir}"
    zonefile-sync: -1
zone:
${ZONES.map((z) => `  - domain: ${z.name}\n    file: "${z.file}"\n`).join('')}`);
  return spawn(KNOTD!, ['-c', join(dir, 'knot.conf')], { stdio: 'ignore' });
}

function normalise(r: Response) {
  return {
    rcode: r.rcode, aa: r.aa, tc: r.tc,
    answer: r.tc ? null : r.answer.map(rr), authority: r.tc ? null : r.authority.map(rr),
  };
}

async function main(): Promise<void> {
  if (!NSD || !KNOTD) throw new Error('needs nsd and knotd (Debian packages nsd and knot)');
  const out = process.argv[2] ?? join(HERE, 'expected.json');
  const dir = await mkdtemp(join(tmpdir(), 'glidepath-record-'));
  const daemons: ChildProcess[] = [];
  try {
    const ports: number[] = [];
    for (const start of [startNsd, startKnot]) {
      const d = join(dir, start.name);
      await mkdir(d);
      for (const z of ZONES) await copyFile(join(HERE, 'zones', z.file), join(d, z.file));
      const port = await freePort();
      daemons.push(await start(d, port));
      for (const z of ZONES) await waitUp(port, z.name);
      ports.push(port);
    }
    const cases = [];
    for (const line of (await readFile(join(HERE, 'queries.txt'), 'utf8')).split('\n')) {
      const [name, type, transport = 'udp'] = line.trim().split(/\s+/);
      if (!name || name.startsWith('#')) continue;
      const o = { transport: transport === 'tcp' ? 'tcp' as const : 'udp' as const, edns: transport === 'udp512' ? null : 1232, rd: false };
      const got = await Promise.all(ports.map((p) => query(p, name, type, o)));
      const any = type.toUpperCase() === 'ANY';
      // For ANY only rcode and flags are compared (the answer is checked against any_of_records).
      const forms = got.map((g) => (any ? { rcode: g.rcode, aa: g.aa, tc: g.tc } : normalise(g)));
      const accept = [...new Map(forms.map((f) => [JSON.stringify(f), f])).values()];
      // Glue and targets both references send; anything more is each server's choice.
      const additional_min = got[0].additional.filter((a) => got.every((g) => g.additional.includes(a))).map(rr);
      const c: Record<string, unknown> = { name, type, transport, accept, additional_min };
      // RFC 8482: servers may answer ANY with any RRset the name holds: every record the references
      // give for the name, type by type.
      if (any) {
        const all = new Set<string>();
        for (const t of Object.keys(TYPE).filter((k) => !isMetaType(TYPE[k as keyof typeof TYPE]))) {
          for (const p of ports) {
            for (const a of (await query(p, name, t, { ...o, transport: 'tcp' })).answer) if (a.split(' ')[1] === t) all.add(a);
          }
        }
        c.any_of_records = [...all].map(rr);
      }
      cases.push(c);
    }
    await writeFile(out, JSON.stringify({ cases }, null, 1) + '\n');
    process.stdout.write(`${cases.length} cases from NSD and Knot written to ${out}\n`);
  } finally {
    await Promise.all(daemons.map((d) => new Promise((r) => { d.once('exit', r); d.kill('SIGTERM'); })));
    await rm(dir, { recursive: true, force: true });
  }
}

main().then(() => process.exit(0), (err: Error) => { process.stderr.write(`record: ${err.message}\n`); process.exit(1); });
