// Starts a whole Glidepath (real database, real sockets on port 0) for a suite.
import { after } from 'node:test';
import { readFile } from 'node:fs/promises';
import { freshDatabase, type TestDatabase } from './db.js';
import { startServer, type RunningServer, type ServerOptions } from '../../src/main.js';
import { importZoneFile } from '../../src/store/zone-file-io.js';
import { createLogger } from '../../src/log.js';

/** ../shared beside the repository (when present: test/conformance-copy.test.ts compares). */
export const SHARED = new URL('../../../../shared/', import.meta.url);
/** The conformance cases and zones kept in the repository (test/conformance/). */
export const CONFORMANCE = new URL('../../../test/conformance/', import.meta.url);

export interface TestServer extends RunningServer { database: TestDatabase }

export async function startTestServer(opts: Partial<ServerOptions> = {}): Promise<TestServer> {
  const database = await freshDatabase();
  const server = await startServer({
    databaseUrl: database.url,
    dns: [{ host: '127.0.0.1', port: 0 }],
    api: { host: '127.0.0.1', port: 0 },
    adminToken: 'test-admin-token',
    log: createLogger(process.env.GLIDEPATH_TEST_LOG ?? 'silent'),
    // test/run.ts runs the UDP suites a second time with node:dgram.
    udpIo: (process.env.GLIDEPATH_TEST_UDP_IO as 'auto' | 'native' | 'dgram' | undefined) ?? 'dgram',
    ...opts,
  });
  const s = Object.assign(server, { database });
  after(async () => {
    await server.stop();
    await database.drop();
  });
  return s;
}

/** Imports a master file through the same path as `glidepath import`, and waits until served. */
export async function importFile(s: TestServer, path: string | URL, o: { domain?: string; delegationOnly?: boolean; zone?: string } = {}) {
  const text = await readFile(path, 'utf8');
  return importText(s, text, { ...o, file: String(path) });
}

export async function importText(s: TestServer, text: string, o: { domain?: string; delegationOnly?: boolean; zone?: string; file?: string } = {}) {
  const out = await importZoneFile(s.db.pool, text, {
    file: o.file ?? 'inline', domain: o.domain, zone: o.zone, tenant: 'default', delegationOnly: o.delegationOnly ?? false, actor: 'test',
  });
  await settle(s);
  return out;
}

/** Waits until the snapshot reflects everything committed so far. */
export async function settle(s: RunningServer): Promise<void> {
  const seq = (await s.db.pool.query<{ s: number }>('SELECT coalesce(max(seq), 0) AS s FROM journal')).rows[0].s;
  if (!(await s.feed!.waitFor(seq))) throw new Error(`snapshot did not reach journal seq ${seq}`);
}

/** Polls `check` until it holds; past `ms`, fails naming `what`. */
export async function waitFor(check: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** An API call as the test server's admin: status and parsed JSON body ({} when empty). */
export async function adminCall(s: RunningServer, method: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const r = await fetch(s.apiUrl() + path, {
    method,
    headers: { authorization: 'Bearer test-admin-token', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  return { status: r.status, json: text ? JSON.parse(text) as Record<string, unknown> : {} };
}
