// Glidepath itself: the data set written straight into its tables (the rows `glidepath import` would
// store: owners relative, names under the apex relative), then `node bin/glidepath.js serve` as a
// separate process on DATABASE_URL with the API off. Also measures edit-to-visible latency.
import { fileURLToPath } from 'node:url';
import { readFile } from 'node:fs/promises';
import pg from 'pg';
import type { Peer, BenchContext } from './types.js';
import { startProc, query, sleep } from '../util.js';
import { zones, relativeData, TYPE_CODES, customerApex, SOA_SERIAL } from '../dataset.js';
import { freshDatabase, bulkInsert, dbUrl } from '../pg.js';
import { createPool } from '../../src/store/db.js';
import { migrate } from '../../src/store/migrate.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const DB = 'glidepath_bench';

/** The 'snapshot loaded' time Glidepath logged in the last start, if any. */
export const glidepathLog: { snapshotMs?: number; snapshotDomains?: number } = {};

async function load(ctx: BenchContext): Promise<void> {
  const url = await freshDatabase(ctx.pg, DB);
  const pool = createPool(url, 2);
  try { await migrate(pool); } finally { await pool.end(); }
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query('BEGIN');
    // A bulk load: no journal rows and no per-row trigger checks (the generated data is valid by
    // construction); serials are set explicitly to the SOA's, as the domains trigger would.
    await c.query('SET LOCAL session_replication_role = replica');
    const tenant = (await c.query<{ id: number }>("INSERT INTO tenants (name) VALUES ('default') RETURNING id")).rows[0].id;
    const apexes: string[] = [];
    const delegationOnly: boolean[] = [];
    for (const z of zones(ctx.opts)) { apexes.push(z.apex); delegationOnly.push(z.delegationOnly); }
    const zoneRows = (await c.query<{ id: number; name: string }>(
      'INSERT INTO zones (tenant_id, name) SELECT $1, n FROM unnest($2::text[]) AS n RETURNING id, name',
      [tenant, apexes.map((a) => a.slice(0, -1))])).rows;
    const idOf = new Map(zoneRows.map((r) => [r.name + '.', r.id]));
    const cols: [number[], string[], number[], number[], string[]] = [[], [], [], [], []];
    const flush = () => bulkInsert(c,
      'INSERT INTO records (zone_id, owner, type, ttl, rdata) SELECT * FROM unnest($1::bigint[], $2::text[], $3::int[], $4::int[], $5::text[])',
      cols.splice(0, cols.length, [], [], [], [], []));
    for (const z of zones(ctx.opts)) {
      const id = idOf.get(z.apex)!;
      for (const r of z.records) {
        cols[0].push(id);
        cols[1].push(r.owner);
        cols[2].push(TYPE_CODES[r.type]);
        cols[3].push(r.ttl);
        cols[4].push(relativeData(r, z.apex));
      }
      if (cols[0].length >= 50_000) await flush();
    }
    await flush();
    await bulkInsert(c,
      `INSERT INTO domains (name, tenant_id, zone_id, delegation_only)
       SELECT n, t, z, d FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bool[]) AS u(n, t, z, d)`,
      [apexes, apexes.map(() => tenant), apexes.map((a) => idOf.get(a)!), delegationOnly]);
    // Since migration 008 the served serial is the zone's plus the domain's offset (0 here).
    await c.query(`UPDATE zones SET serial = ${SOA_SERIAL}`);
    await c.query('COMMIT');
    await c.query('ANALYZE');
  } finally {
    await c.end();
  }
}

export const glidepath: Peer = {
  name: 'Glidepath',
  setup: (ctx) => `serve --workers ${ctx.threads} (${ctx.threads === 0 ? 'one process' : `a primary and ${ctx.threads} answering worker${ctx.threads === 1 ? '' : 's'} on shared sockets`}), response cache on (default), API off`,
  async detect() {
    const pkg = JSON.parse(await readFile(`${ROOT}package.json`, 'utf8')) as { version?: string };
    return { ok: true, version: `Glidepath ${pkg.version ?? '?'} on node ${process.versions.node}` };
  },
  prepare: load,
  async start(ctx, port) {
    delete glidepathLog.snapshotMs;
    const env = {
      ...process.env, DATABASE_URL: dbUrl(ctx.pg, DB), GLIDEPATH_DNS: `127.0.0.1:${port}`,
      GLIDEPATH_API: 'off', GLIDEPATH_LOG_LEVEL: 'info',
    };
    const p = startProc('Glidepath', process.execPath, [`${ROOT}bin/glidepath.js`, 'serve', '--workers', String(ctx.threads)], env, ROOT);
    p.onLine((line) => {
      if (!line.includes('snapshot loaded')) return;
      try {
        const o = JSON.parse(line) as { ms?: number; domains?: number };
        glidepathLog.snapshotMs = o.ms;
        glidepathLog.snapshotDomains = o.domains;
      } catch { /* not JSON */ }
    });
    return p;
  },
};

export interface EditResult { commitMs: number[]; visibleMs: number[]; timeouts: number }

/** `count` edits, one after another: an UPDATE of a domain's apex TXT committed over SQL (autocommit),
 *  then UDP queries back to back until the new text is served. Latency: from sending the UPDATE to
 *  the first answer carrying the new text. */
export async function editToVisible(ctx: BenchContext, port: number, count: number, limitMs = 10_000): Promise<EditResult> {
  const c = new pg.Client({ connectionString: dbUrl(ctx.pg, DB) });
  await c.connect();
  const out: EditResult = { commitMs: [], visibleMs: [], timeouts: 0 };
  try {
    const stamp = Date.now().toString(36);
    for (let i = 0; i < count; i++) {
      const apex = customerApex(1 + Math.floor((i * ctx.opts.domains) / count));
      const marker = `edit-${stamp}-${i}`;
      const t0 = performance.now();
      await c.query(
        `UPDATE records SET rdata = $2 WHERE owner = '@' AND type = 16
           AND zone_id = (SELECT zone_id FROM domains WHERE name = $1)`, [apex, `"${marker}"`]);
      out.commitMs.push(performance.now() - t0);
      let seen = false;
      while (performance.now() - t0 < limitMs) {
        const a = await query(port, apex, 'TXT', 200);
        if (a?.answers.some((r) => r.data.includes(marker))) { seen = true; break; }
      }
      if (seen) out.visibleMs.push(performance.now() - t0); else out.timeouts++;
      await sleep(5);
    }
  } finally {
    await c.end();
  }
  return out;
}
