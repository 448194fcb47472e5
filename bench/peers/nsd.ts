// NSD: master files from the data set, read at start (database: "" keeps no nsd.db), in the
// foreground (-d) as root, server-count = threads (with reuseport, one socket per server process).
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Peer, BenchContext } from './types.js';
import { run, startProc, which } from '../util.js';

async function conf(ctx: BenchContext, port: number): Promise<string> {
  const dir = join(ctx.workDir, 'nsd');
  await mkdir(dir, { recursive: true });
  const lines = [
    'server:',
    `  ip-address: 127.0.0.1@${port}`,
    '  do-ip6: no',
    `  server-count: ${ctx.threads}`,
    '  reuseport: yes',
    '  username: ""',
    '  chroot: ""',
    `  zonesdir: "${ctx.data.zoneDir}"`,
    `  pidfile: "${dir}/nsd.pid"`,
    `  zonelistfile: "${dir}/zone.list"`,
    `  xfrdfile: "${dir}/xfrd.state"`,
    `  xfrdir: "${dir}"`,
    '  database: ""',
    '  verbosity: 0',
    'remote-control:',
    '  control-enable: no',
  ];
  for (const f of ctx.data.files) lines.push('zone:', `  name: "${f.apex}"`, `  zonefile: "${f.file}"`);
  const file = join(dir, 'nsd.conf');
  await writeFile(file, lines.join('\n') + '\n');
  return file;
}

export const nsd: Peer = {
  name: 'NSD',
  setup: (ctx) => `server-count: ${ctx.threads}, reuseport, zones from master files (database: "")`,
  async detect() {
    const bin = await which('nsd');
    if (!bin) return { ok: false, why: 'nsd not installed (Debian package nsd)' };
    const v = await run(bin, ['-v']);
    const m = /NSD version (\S+)/.exec(v.stdout + v.stderr);
    return { ok: true, version: m ? `NSD ${m[1]}` : 'NSD' };
  },
  async prepare() { /* reads the master files at start */ },
  async start(ctx, port) {
    const file = await conf(ctx, port);
    const bin = (await which('nsd'))!;
    return startProc('NSD', bin, ['-c', file, '-d']);
  },
};
