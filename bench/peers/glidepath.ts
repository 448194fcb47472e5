// Glidepath itself: the data set written straight into its tables (the rows `glidepath import` would
// store: owners relative, names under the apex relative), then `node bin/glidepath.js serve` as a
// separate process on DATABASE_URL with the API off. Also measures edit-to-visible latency.
import { fileURLToPath } from 'node:url';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import type { Peer, BenchContext } from './types.js';
import { startProc, query, sleep } from '../util.js';
import { zones, relativeData, TYPE_CODES, customerApex, SOA_SERIAL } from '../dataset.js';
import { freshDatabase, bulkInsert, dbUrl } from '../pg.js';
import { createPool } from '../../src/store/db.js';
import { migrate } from '../../src/store/migrate.js';
import { listDomains } from '../../src/store/domains.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const DB = 'glidepath_bench';

/** The 'snapshot loaded' time Glidepath logged in the last start, if any. */
/** The zone shared by a share of the domains in a scale run, and how many serve it: a tenth of
 *  the domains, at most 100,000 (none below 10,000 domains: the main comparison's data set). */
export const PARKING_ZONE = 'parking';
export function sharedDomains(domains: number): number {
  return domains < 10_000 ? 0 : Math.min(100_000, Math.floor(domains / 10));
}

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
    // zones.serial as the zones trigger would set it from the SOA (migrations/008_scale.sql).
    const zoneRows = (await c.query<{ id: number; name: string }>(
      `INSERT INTO zones (tenant_id, name, serial) SELECT $1, n, ${SOA_SERIAL} FROM unnest($2::text[]) AS n RETURNING id, name`,
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
    // At scale, a share of the domains on one common (parking) zone, as hosting providers run it.
    const shared = sharedDomains(ctx.opts.domains);
    if (shared > 0) {
      const park = (await c.query<{ id: number }>(
        `INSERT INTO zones (tenant_id, name, serial) VALUES ($1, '${PARKING_ZONE}', ${SOA_SERIAL}) RETURNING id`, [tenant])).rows[0].id;
      await c.query(`INSERT INTO records (zone_id, owner, type, ttl, rdata) VALUES
        ($1, '@', 6, 3600, 'ns1 hostmaster ${SOA_SERIAL} 3600 600 86400 300'), ($1, '@', 2, 3600, 'ns1'),
        ($1, 'ns1', 1, 3600, '192.0.2.53'), ($1, '@', 1, 300, '192.0.2.80'), ($1, '@', 16, 300, '"parked"')`, [park]);
      await c.query(`INSERT INTO domains (name, tenant_id, zone_id) SELECT 'p' || g || '.parked.example.', $1, $2 FROM generate_series(1, $3) g`,
        [tenant, park, shared]);
    }
    await c.query('COMMIT');
    await c.query('ANALYZE');
  } finally {
    await c.end();
  }
}

/** Domains in the bench database (0 when there is none): whether a scale run can reuse it. */
export async function glidepathDomains(ctx: BenchContext): Promise<number> {
  const c = new pg.Client({ connectionString: dbUrl(ctx.pg, DB) });
  try {
    await c.connect();
    return (await c.query<{ n: number }>('SELECT count(*)::int AS n FROM domains')).rows[0].n;
  } catch {
    return 0;
  } finally {
    await c.end().catch(() => undefined);
  }
}

export const glidepath: Peer = {
  name: 'Glidepath',
  setup: (ctx) => `serve --workers ${ctx.threads} (${ctx.threads === 0 ? 'one process' : `a primary and ${ctx.threads} answering worker${ctx.threads === 1 ? '' : 's'} on shared sockets`}), response cache on (default), API ${ctx.api ? 'on' : 'off'}`,
  async detect() {
    const pkg = JSON.parse(await readFile(`${ROOT}package.json`, 'utf8')) as { version?: string };
    return { ok: true, version: `Glidepath ${pkg.version ?? '?'} on node ${process.versions.node}` };
  },
  prepare: load,
  async start(ctx, port) {
    delete glidepathLog.snapshotMs;
    const env = {
      ...process.env, DATABASE_URL: dbUrl(ctx.pg, DB), GLIDEPATH_DNS: `127.0.0.1:${port}`,
      GLIDEPATH_API: ctx.api ? `127.0.0.1:${ctx.api.port}` : 'off', GLIDEPATH_LOG_LEVEL: 'info',
      // One control socket per server: the sweep runs two (native and node:dgram) side by side, and
      // a second `serve` on the same socket refuses to start.
      GLIDEPATH_CONTROL_SOCKET: join(ctx.workDir, `glidepath-${port}.sock`),
      ...(ctx.api ? { GLIDEPATH_ADMIN_TOKEN: ctx.api.token } : {}),
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

/** `count` edits, one after another: `edit` commits marker text over SQL (autocommit), then UDP
 *  queries for `apex(i)` TXT back to back until the marker is served. Latency: from sending the
 *  UPDATE to the first answer carrying the new text. */
async function editsUntilVisible(ctx: BenchContext, port: number, count: number, limitMs: number,
  apex: (i: number) => string, edit: (c: pg.Client, apex: string, text: string) => Promise<unknown>): Promise<EditResult> {
  const c = new pg.Client({ connectionString: dbUrl(ctx.pg, DB) });
  await c.connect();
  const out: EditResult = { commitMs: [], visibleMs: [], timeouts: 0 };
  try {
    const stamp = Date.now().toString(36);
    for (let i = 0; i < count; i++) {
      const name = apex(i);
      const marker = `edit-${stamp}-${i}`;
      const t0 = performance.now();
      await edit(c, name, `"${marker}"`);
      out.commitMs.push(performance.now() - t0);
      let seen = false;
      while (performance.now() - t0 < limitMs) {
        const a = await query(port, name, 'TXT', 200);
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

/** Edits of one domain's own zone: its apex TXT, a different domain each time. */
export function editToVisible(ctx: BenchContext, port: number, count: number, limitMs = 10_000): Promise<EditResult> {
  return editsUntilVisible(ctx, port, count, limitMs, (i) => customerApex(1 + Math.floor((i * ctx.opts.domains) / count)),
    (c, apex, text) => c.query(`UPDATE records SET rdata = $2 WHERE owner = '@' AND type = 16
                                  AND zone_id = (SELECT zone_id FROM domains WHERE name = $1)`, [apex, text]));
}

/** Edits to the zone shared by `sharedDomains()` domains (the parking zone's apex TXT), each
 *  checked on a different one of its domains. The zone's id is looked up first, as the API does
 *  (by tenant and name, zones_tenant_name): a lookup by name alone has no index and scanned a
 *  million zones inside each timed edit (about 150 ms of the figure at 1M). */
export async function sharedEditToVisible(ctx: BenchContext, port: number, count: number, limitMs = 10_000): Promise<EditResult> {
  const shared = sharedDomains(ctx.opts.domains);
  const c = new pg.Client({ connectionString: dbUrl(ctx.pg, DB) });
  await c.connect();
  let zoneId: string;
  try {
    zoneId = (await c.query<{ id: string }>('SELECT id FROM zones WHERE name = $1', [PARKING_ZONE])).rows[0].id;
  } finally {
    await c.end();
  }
  return editsUntilVisible(ctx, port, count, limitMs, (i) => `p${1 + ((i * 7919) % shared)}.parked.example.`,
    (c2, _apex, text) => c2.query(`UPDATE records SET rdata = $1 WHERE owner = '@' AND type = 16 AND zone_id = $2`, [text, zoneId]));
}

const WARM_PAGES = 5;

/** `count` pages of GET /v1/domains and of GET /v1/zones over HTTP from the running server's API
 *  (ctx.api), 100 per page, one after another, ms each (request sent to body read). Domains: from a
 *  random name on, every other page filtered by the shared zone (?zone=); zones: from a random
 *  zone name on, every other page by a name prefix. */
export async function apiListingPages(ctx: BenchContext, count: number): Promise<{ domains: number[]; zones: number[] }> {
  const api = ctx.api;
  if (!api) throw new Error('apiListingPages: the API is off');
  const shared = sharedDomains(ctx.opts.domains);
  const get = async (path: string): Promise<number> => {
    const t0 = performance.now();
    const r = await fetch(`http://127.0.0.1:${api.port}${path}`, { headers: { authorization: `Bearer ${api.token}` } });
    await r.arrayBuffer();
    const ms = performance.now() - t0;
    if (!r.ok) throw new Error(`GET ${path}: ${r.status}`);
    return ms;
  };
  // Not counted: the API's first requests open its pool's connections and compile the routes (the
  // DNS load runs have the same warm-up), which is a start's cost, not a page's.
  for (let i = 0; i < WARM_PAGES; i++) {
    await get(`/v1/domains?limit=100&after=${encodeURIComponent(customerApex(1 + i))}`);
    await get(`/v1/zones?limit=100&after=${encodeURIComponent(customerApex(1 + i).slice(0, -1))}`);
  }
  const out = { domains: [] as number[], zones: [] as number[] };
  for (let i = 0; i < count; i++) {
    const n = 1 + Math.floor((i * 104729) % ctx.opts.domains);
    out.domains.push(await get(i % 2 === 1 && shared > 0
      ? `/v1/domains?limit=100&zone=${PARKING_ZONE}&after=${encodeURIComponent(`p${1 + ((i * 7919) % shared)}.parked.example.`)}`
      : `/v1/domains?limit=100&after=${encodeURIComponent(customerApex(n))}`));
    out.zones.push(await get(i % 2 === 1
      ? `/v1/zones?limit=100&prefix=cust${String(n).slice(0, 3)}`
      : `/v1/zones?limit=100&after=${encodeURIComponent(customerApex(n).slice(0, -1))}`));
  }
  return out;
}

/** Listing pages as GET /v1/domains reads them (store/domains.ts listDomains, 100 per page, from
 *  a random name on, and filtered by zone), ms each. */
export async function listingPages(ctx: BenchContext, count: number): Promise<number[]> {
  const pool = createPool(dbUrl(ctx.pg, DB), 2);
  const out: number[] = [];
  try {
    const tenant = (await pool.query<{ id: number }>("SELECT id FROM tenants WHERE name = 'default'")).rows[0].id;
    const park = (await pool.query<{ id: number }>(`SELECT id FROM zones WHERE name = '${PARKING_ZONE}'`)).rows[0]?.id;
    for (let i = 0; i < count; i++) {
      const after = customerApex(1 + Math.floor((i * 104729) % ctx.opts.domains));
      const t0 = performance.now();
      if (i % 2 === 0 || park === undefined) await listDomains(pool, tenant, 100, after);
      else await listDomains(pool, tenant, 100, `p${1 + ((i * 7919) % sharedDomains(ctx.opts.domains))}.parked.example.`, { zoneId: park });
      out.push(performance.now() - t0);
    }
  } finally {
    await pool.end();
  }
  return out;
}
