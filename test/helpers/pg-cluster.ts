// A real PostgreSQL primary with a streaming hot standby on loopback, from Debian's postgresql-15
// binaries (initdb, pg_ctl, pg_basebackup -R), for the replication suites. PostgreSQL refuses to
// run as root: when the tests run as root, every server command runs as the `postgres` user
// (runuser), in a temporary directory owned by it.
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, chownSync, rmSync, appendFileSync, readFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from './ports.js';

export const PG_BIN = '/usr/lib/postgresql/15/bin';

const asRoot = userInfo().uid === 0;

/** Why the replication suites cannot run here, or false when they can. */
export function pgClusterSkip(): string | false {
  for (const b of ['initdb', 'pg_ctl', 'pg_basebackup']) {
    if (!existsSync(join(PG_BIN, b))) return `${PG_BIN}/${b} is missing (Debian: apt-get install postgresql-15)`;
  }
  if (asRoot) {
    try { execFileSync('id', ['-u', 'postgres'], { stdio: 'ignore' }); } catch { return 'running as root without a postgres user to run PostgreSQL as'; }
  }
  return false;
}

/** Runs a PostgreSQL program as the user that owns the data (postgres when we are root). */
function run(bin: string, args: string[], timeoutMs = 120_000): Promise<string> {
  const [cmd, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', join(PG_BIN, bin), ...args]] : [join(PG_BIN, bin), args];
  return new Promise((resolve, reject) => execFile(cmd, argv, { timeout: timeoutMs, cwd: '/' }, (err, stdout, stderr) => {
    if (err) reject(new Error(`${bin} ${args.join(' ')}: ${err.message}\n${stderr}`));
    else resolve(stdout);
  }));
}

export class PgServer {
  constructor(readonly dir: string, readonly port: number, private readonly logFile: string) {}

  /** The end of the server's log, for a failing test's message. */
  logTail(): string {
    try { return readFileSync(this.logFile, 'utf8').split('\n').slice(-20).join('\n'); } catch { return ''; }
  }

  url(db = 'glidepath'): string { return `postgres://postgres@127.0.0.1:${this.port}/${db}`; }

  start(): Promise<string> { return run('pg_ctl', ['-D', this.dir, '-l', this.logFile, '-w', '-t', '60', 'start']); }

  /** Fast shutdown: sessions are ended, the server is down when this returns. */
  stop(): Promise<string> { return run('pg_ctl', ['-D', this.dir, '-m', 'fast', '-w', '-t', '60', 'stop']); }

  /** A standby becomes a primary (pg_ctl promote waits until it accepts writes). */
  promote(): Promise<string> { return run('pg_ctl', ['-D', this.dir, '-w', '-t', '60', 'promote']); }

  async query<T extends pg.QueryResultRow>(sql: string, params: unknown[] = [], db = 'glidepath'): Promise<T[]> {
    const c = new pg.Client({ connectionString: this.url(db) });
    await c.connect();
    try { return (await c.query<T>(sql, params)).rows; } finally { await c.end(); }
  }
}

export interface PgCluster {
  primary: PgServer;
  standby: PgServer;
  /** Stops both servers (whatever state they are in) and removes the directory. */
  destroy(): Promise<void>;
}

const SETTINGS = (port: number, dir: string) => `
port = ${port}
listen_addresses = '127.0.0.1'
unix_socket_directories = '${dir}'
wal_level = replica
max_wal_senders = 10
hot_standby = on
# A standby retries its primary every second (default 5 s): catching up after an outage is quicker.
wal_retrieve_retry_interval = '1s'
fsync = off
full_page_writes = off
shared_buffers = '32MB'
`;

/** initdb a primary with database "glidepath", start it, pg_basebackup -R a standby and start it. */
export async function startPgCluster(): Promise<PgCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'glidepath-repl-'));
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString());
    chownSync(dir, uid, gid);
  }
  const primary = new PgServer(join(dir, 'primary'), await freePort(), join(dir, 'primary.log'));
  const standby = new PgServer(join(dir, 'standby'), await freePort(), join(dir, 'standby.log'));
  const destroy = async () => {
    for (const s of [standby, primary]) {
      if (existsSync(join(s.dir, 'postmaster.pid'))) await run('pg_ctl', ['-D', s.dir, '-m', 'immediate', '-w', 'stop']).catch(() => undefined);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    // trust on loopback: initdb's pg_hba.conf then also allows replication connections from it.
    await run('initdb', ['-D', primary.dir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C']);
    appendFileSync(join(primary.dir, 'postgresql.conf'), SETTINGS(primary.port, dir));
    await primary.start();
    await primary.query('CREATE DATABASE glidepath', [], 'postgres');
    await run('pg_basebackup', ['-h', '127.0.0.1', '-p', String(primary.port), '-U', 'postgres', '-D', standby.dir, '-R', '-X', 'stream', '-c', 'fast']);
    // Later lines win: the standby listens on its own port.
    appendFileSync(join(standby.dir, 'postgresql.conf'), `\nport = ${standby.port}\n`);
    await standby.start();
    return { primary, standby, destroy };
  } catch (err) {
    await destroy();
    throw err;
  }
}
