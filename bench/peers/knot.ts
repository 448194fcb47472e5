// Knot DNS: master files from the data set, zone files never written back, no journal, in the
// foreground as root; udp-workers = tcp-workers = background-workers = threads.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Peer, BenchContext } from './types.js';
import { run, startProc, which } from '../util.js';

async function conf(ctx: BenchContext, port: number): Promise<string> {
  const dir = join(ctx.workDir, 'knot');
  await mkdir(join(dir, 'db'), { recursive: true });
  const lines = [
    'server:',
    `    rundir: "${dir}"`,
    `    listen: 127.0.0.1@${port}`,
    `    udp-workers: ${ctx.threads}`,
    `    tcp-workers: ${ctx.threads}`,
    `    background-workers: ${ctx.threads}`,
    'log:',
    '  - target: stderr',
    '    any: warning',
    'database:',
    `    storage: "${dir}/db"`,
    'template:',
    '  - id: default',
    `    storage: "${ctx.data.zoneDir}"`,
    '    file: "%s.zone"',
    '    journal-content: none',
    '    zonefile-sync: -1',
    '    zonefile-load: whole',
    'zone:',
  ];
  for (const f of ctx.data.files) lines.push(`  - domain: "${f.apex}"`);
  const file = join(dir, 'knot.conf');
  await writeFile(file, lines.join('\n') + '\n');
  return file;
}

export const knot: Peer = {
  name: 'Knot',
  setup: (ctx) => `udp-workers/tcp-workers/background-workers: ${ctx.threads}, zones from master files, no journal`,
  async detect() {
    const bin = await which('knotd');
    if (!bin) return { ok: false, why: 'knotd not installed (Debian package knot)' };
    const v = await run(bin, ['-V']);
    const m = /version (\S+)/.exec(v.stdout + v.stderr);
    return { ok: true, version: m ? `Knot DNS ${m[1]}` : 'Knot DNS' };
  },
  async prepare() { /* reads the master files at start */ },
  async start(ctx, port) {
    const file = await conf(ctx, port);
    const bin = (await which('knotd'))!;
    return startProc('Knot', bin, ['-c', file]);
  },
};
