// The run's own PostgreSQL: Glidepath's embedded server (src/store/embedded.ts) in a scratch data
// directory, with durability off (fsync, synchronous_commit). PowerDNS gets a database in it too.
import pg from 'pg';
import { startEmbedded } from '../src/store/embedded.js';
import type { PgConn } from './peers/types.js';

export interface BenchPostgres extends PgConn { stop(): Promise<void> }

export async function startPostgres(dataDir: string): Promise<BenchPostgres> {
  const e = await startEmbedded({ dataDir, fast: true });
  const u = new URL(e.url);
  return {
    host: u.hostname, port: Number(u.port), user: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password), adminUrl: e.url, stop: () => e.stop(),
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
