// Connection pool and transactions. Every write runs in tx(), which also records who made it
// (glidepath.actor, read by the journal trigger).
import pg from 'pg';

export type Pool = pg.Pool;
export type Client = pg.PoolClient;

export class DatabaseUnavailable extends Error {}

// int8 (bigint) columns come back as JS numbers: ids, serials and sequence numbers stay far below 2^53.
pg.types.setTypeParser(20, (v) => Number(v));

export function createPool(url: string, max = 10): Pool {
  const pool = new pg.Pool({ connectionString: url, max, connectionTimeoutMillis: 10_000 });
  // An idle client that loses its connection emits 'error' on the pool; the next checkout reconnects.
  pool.on('error', () => undefined);
  // A checked-out client has no 'error' listener of the pool's, and pg emits 'error' when its
  // server ends the connection mid-query (a database restarting or shutting down): unheard, that
  // would take the process down. The query itself still fails, and pg-pool drops the client on
  // release (it is no longer queryable).
  pool.on('connect', (client) => { client.on('error', () => undefined); });
  return pool;
}

/** Connects once and explains a failure in one line: which host, and why. */
export async function checkConnection(pool: Pool, url: string): Promise<void> {
  try {
    const c = await pool.connect();
    c.release();
  } catch (err) {
    let where = 'the database';
    try {
      const u = new URL(url);
      where = `${u.hostname || 'localhost'}:${u.port || '5432'}${u.pathname}`;
    } catch { /* not a URL: keep the generic name */ }
    throw new DatabaseUnavailable(`cannot connect to PostgreSQL at ${where}: ${(err as Error).message}`);
  }
}

/** Runs fn inside `begin` … COMMIT on one pooled connection; ROLLBACK when it throws. */
export async function transaction<T>(pool: Pool, begin: string, fn: (c: Client) => Promise<T>): Promise<T> {
  const c = await pool.connect();
  try {
    await c.query(begin);
    const out = await fn(c);
    await c.query('COMMIT');
    return out;
  } catch (err) {
    await c.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    c.release();
  }
}

/** Runs fn in one transaction; the actor is recorded by the journal for every change made in it. */
export function tx<T>(pool: Pool, actor: string, fn: (c: Client) => Promise<T>): Promise<T> {
  return transaction(pool, 'BEGIN', async (c) => {
    await c.query("SELECT set_config('glidepath.actor', $1, true)", [actor]);
    return fn(c);
  });
}
