// Connection pool and transactions. Every write runs in tx(), which also records who made it
// (glidepath.actor, read by the journal trigger).
import pg from 'pg';

export type Pool = pg.Pool;
export type Client = pg.PoolClient;

export class DatabaseUnavailable extends Error {}

// int8 (bigint) columns come back as JS numbers: ids, serials and sequence numbers stay far below 2^53.
pg.types.setTypeParser(20, (v) => Number(v));

export interface PoolTimeouts {
  /** Give up connecting after this (a stopped or unreachable server fails fast instead of hanging). */
  connectMs?: number;
  /** statement_timeout on the server, and the same plus a second on the client (a frozen server
   *  never answers, so only the client can give up). Unset: no limit (migrations, snapshot loads). */
  statementMs?: number;
}

export function createPool(url: string, max = 10, t: PoolTimeouts = {}): Pool {
  const pool = new pg.Pool({
    connectionString: url, max, connectionTimeoutMillis: t.connectMs ?? 10_000,
    ...(t.statementMs ? { statement_timeout: t.statementMs, query_timeout: t.statementMs + 1000 } : {}),
  });
  // An idle client that loses its connection emits 'error' on the pool; the next checkout reconnects.
  pool.on('error', () => undefined);
  // A checked-out client has no 'error' listener of the pool's, and pg emits 'error' when its
  // server ends the connection mid-query (a database restarting or shutting down): unheard, that
  // would take the process down. The query itself still fails, and pg-pool drops the client on
  // release (it is no longer queryable).
  pool.on('connect', (client) => { client.on('error', () => undefined); });
  return pool;
}

const UNREACHABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN']);
// SQLSTATE 57P01-57P03: the server is shutting down, crashed or starting up; 53300 too many
// connections; 57014 a statement cancelled by statement_timeout (a server too slow to use).
const UNAVAILABLE_STATES = new Set(['57P01', '57P02', '57P03', '53300', '57014']);
const UNAVAILABLE_TEXT = /Connection terminated|timeout exceeded when trying to connect|Query read timeout|connection error|Connection refused/i;

/** Whether an error means the database cannot be used right now (down, unreachable, frozen,
 *  restarting), as opposed to a problem with the request. */
export function isDatabaseUnavailable(err: unknown): boolean {
  if (err instanceof DatabaseUnavailable) return true;
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (UNREACHABLE.has(code) || UNAVAILABLE_STATES.has(code)) return true;
    if (/^08[0-9A-Z]{3}$/.test(code)) return true; // class 08: connection exception
  }
  return UNAVAILABLE_TEXT.test(err.message);
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

/** Runs fn on one consistent view of the database (REPEATABLE READ, read only): reads made one
 *  after another agree even while writers commit between them. */
export function readSnapshot<T>(pool: Pool, fn: (c: Client) => Promise<T>): Promise<T> {
  return transaction(pool, 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY', fn);
}

/** Runs fn in one transaction; the actor is recorded by the journal for every change made in it. */
export function tx<T>(pool: Pool, actor: string, fn: (c: Client) => Promise<T>): Promise<T> {
  return transaction(pool, 'BEGIN', async (c) => {
    await c.query("SELECT set_config('glidepath.actor', $1, true)", [actor]);
    return fn(c);
  });
}
