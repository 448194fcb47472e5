// PowerDNS Authoritative with the generic PostgreSQL backend (gpgsql): the data set loaded into the
// schema Debian's pdns-backend-pgsql ships, in the run's PostgreSQL. Defaults except for the listener:
// packet cache (cache-ttl 20 s), query cache (query-cache-ttl 20 s, negquery-cache-ttl 60 s),
// distributor-threads 3 per receiver (each with its own backend connection); receiver-threads =
// threads with reuseport. No DNSSEC (gpgsql-dnssec=no), no webserver or API.
import { mkdir, writeFile, readFile, access } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import type { Peer, BenchContext } from './types.js';
import { run, startProc, which } from '../util.js';
import { zones, ownerName, pdnsContent } from '../dataset.js';
import { freshDatabase, bulkInsert } from '../pg.js';

const SCHEMAS = [
  '/usr/share/pdns-backend-pgsql/schema/schema.pgsql.sql',
  '/usr/share/doc/pdns-backend-pgsql/schema.pgsql.sql',
];

async function schemaFile(): Promise<string | undefined> {
  for (const f of SCHEMAS) {
    try { await access(f); return f; } catch { /* next */ }
  }
  return undefined;
}

/** Delegation NS and glue below a cut are not authoritative data (auth = false). */
function isBelowCut(owner: string, cuts: Set<string>): boolean {
  const labels = owner.split('.');
  for (let i = 0; i < labels.length; i++) if (cuts.has(labels.slice(i).join('.'))) return true;
  return false;
}

export async function load(ctx: BenchContext): Promise<void> {
  const url = await freshDatabase(ctx.pg, 'pdns');
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(await readFile((await schemaFile())!, 'utf8'));
    const names: string[] = [];
    for (const z of zones(ctx.opts)) names.push(z.apex.replace(/\.$/, ''));
    const ids = (await client.query<{ id: number; name: string }>(
      `INSERT INTO domains (name, type) SELECT n, 'NATIVE' FROM unnest($1::text[]) AS n RETURNING id, name`, [names])).rows;
    const idOf = new Map(ids.map((r) => [r.name, r.id]));
    const cols: [number[], string[], string[], string[], number[], boolean[]] = [[], [], [], [], [], []];
    const flush = () => bulkInsert(client,
      `INSERT INTO records (domain_id, name, type, content, ttl, prio, auth)
       SELECT d, n, t, c, ttl, NULL, a FROM unnest($1::int[], $2::text[], $3::text[], $4::text[], $5::int[], $6::bool[]) AS u(d, n, t, c, ttl, a)`,
      cols.splice(0, cols.length, [], [], [], [], [], []));
    for (const z of zones(ctx.opts)) {
      const id = idOf.get(z.apex.replace(/\.$/, ''))!;
      const cuts = new Set(z.records.filter((r) => r.type === 'NS' && r.owner !== '@').map((r) => r.owner));
      for (const r of z.records) {
        cols[0].push(id);
        cols[1].push(ownerName(r.owner, z.apex).replace(/\.$/, ''));
        cols[2].push(r.type);
        cols[3].push(pdnsContent(r));
        cols[4].push(r.ttl);
        cols[5].push(r.owner === '@' || !isBelowCut(r.owner, cuts));
      }
      if (cols[0].length >= 50_000) await flush();
    }
    await flush();
    await client.query('ANALYZE');
  } finally {
    await client.end();
  }
}

export const pdns: Peer = {
  name: 'PowerDNS',
  setup: (ctx) => `gpgsql backend, receiver-threads: ${ctx.threads} (reuseport), distributor-threads: 3 (default), packet cache 20 s, query cache 20 s, negative query cache 60 s (defaults)`,
  async detect() {
    const bin = await which('pdns_server');
    if (!bin) return { ok: false, why: 'pdns_server not installed (Debian packages pdns-server pdns-backend-pgsql)' };
    if (!(await schemaFile())) return { ok: false, why: 'gpgsql schema not found (Debian package pdns-backend-pgsql)' };
    const v = await run(bin, ['--version']);
    const m = /PowerDNS Authoritative Server (\S+)/.exec(v.stdout + v.stderr);
    return { ok: true, version: m ? `PowerDNS Authoritative ${m[1]}` : 'PowerDNS Authoritative' };
  },
  prepare: load,
  async start(ctx, port) {
    const dir = join(ctx.workDir, 'pdns');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'pdns.conf'), '');
    const bin = (await which('pdns_server'))!;
    return startProc('PowerDNS', bin, [
      `--config-dir=${dir}`, `--socket-dir=${dir}`, '--daemon=no', '--guardian=no', '--disable-syslog=yes',
      '--loglevel=4', '--write-pid=no', `--local-address=127.0.0.1:${port}`,
      `--receiver-threads=${ctx.threads}`, '--reuseport=yes',
      '--webserver=no', '--api=no', '--security-poll-suffix=', '--launch=gpgsql',
      `--gpgsql-host=${ctx.pg.host}`, `--gpgsql-port=${ctx.pg.port}`, '--gpgsql-dbname=pdns',
      `--gpgsql-user=${ctx.pg.user}`, `--gpgsql-password=${ctx.pg.password}`, '--gpgsql-dnssec=no',
    ]);
  },
};
