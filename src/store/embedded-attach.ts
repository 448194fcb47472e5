// Lets CLI commands reach the embedded PostgreSQL that a running `glidepath serve` started: its
// port is on line 4 of postmaster.pid, its password in the data directory.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';

export async function connectEmbedded(dataDir: string): Promise<string | undefined> {
  let pid: string;
  let password: string;
  try {
    pid = await readFile(join(dataDir, 'pg', 'postmaster.pid'), 'utf8');
    password = (await readFile(join(dataDir, 'pg-password'), 'utf8')).trim();
  } catch {
    return undefined;
  }
  const port = Number(pid.split('\n')[3]);
  if (!Number.isInteger(port) || port <= 0) return undefined;
  const url = `postgres://glidepath:${encodeURIComponent(password)}@127.0.0.1:${port}/glidepath`;
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await c.connect();
    await c.end();
    return url;
  } catch {
    await c.end().catch(() => undefined);
    return undefined; // a stale pid file: nobody is running it
  }
}
