// An API on a fresh database, driven with fastify inject. One per suite.
import { after } from 'node:test';
import { pino } from 'pino';
import type { FastifyInstance } from 'fastify';
import { freshDatabase, type TestDatabase } from '../helpers/db.js';
import { buildApp, type AppOptions } from '../../src/api/app.js';

export const ADMIN = 'test-admin-secret';

export interface Res { status: number; headers: Record<string, unknown>; body: unknown; text: string }
export interface ReqOpts { token?: string | null; body?: unknown; headers?: Record<string, string>; raw?: string; type?: string }

export interface Api {
  app: FastifyInstance;
  db: TestDatabase;
  logs: string[];
  call(method: string, url: string, o?: ReqOpts): Promise<Res>;
  /** Creates a tenant and a token for it; returns the token. */
  tenant(name: string): Promise<string>;
}

export async function startApi(extra: Partial<AppOptions> = {}): Promise<Api> {
  const db = await freshDatabase();
  const logs: string[] = [];
  const log = pino({ level: 'info' }, { write: (l: string) => { logs.push(l); } });
  const app = await buildApp({ pool: db.pool, log, adminToken: ADMIN, ...extra });
  after(async () => {
    await app.close();
    await db.drop();
  });
  const call = async (method: string, url: string, o: ReqOpts = {}): Promise<Res> => {
    const headers: Record<string, string> = { ...o.headers };
    const token = o.token === undefined ? ADMIN : o.token;
    if (token !== null) headers.authorization = `Bearer ${token}`;
    let payload: string | undefined;
    if (o.raw !== undefined) {
      payload = o.raw;
      headers['content-type'] = o.type ?? 'text/dns';
    } else if (o.body !== undefined) {
      payload = JSON.stringify(o.body);
      headers['content-type'] = o.type ?? 'application/json';
    }
    const r = await app.inject({ method: method as 'GET', url, headers, payload });
    let body: unknown = undefined;
    try { body = r.body ? JSON.parse(r.body) : undefined; } catch { body = undefined; }
    return { status: r.statusCode, headers: r.headers, body, text: r.body };
  };
  return {
    app, db, logs, call,
    async tenant(name) {
      const t = await call('POST', '/v1/tenants', { body: { name } });
      if (t.status !== 201) throw new Error(`tenant ${name}: ${t.text}`);
      const k = await call('POST', '/v1/tokens', { body: { tenant: name } });
      if (k.status !== 201) throw new Error(`token ${name}: ${k.text}`);
      return (k.body as { token: string }).token;
    },
  };
}

/** RRsets of a minimal servable zone. */
export function apexSets(serial = 1) {
  return [
    { owner: '@', type: 'SOA', ttl: 3600, records: [`ns1 hostmaster ${serial} 3600 600 86400 300`] },
    { owner: '@', type: 'NS', ttl: 3600, records: ['ns1', 'ns2.example.net.'] },
    { owner: 'ns1', type: 'A', ttl: 3600, records: ['192.0.2.53'] },
  ];
}

/** Creates a servable zone for the token's tenant (or the admin's ?tenant). */
export async function makeZone(api: Api, name: string, token?: string, query = ''): Promise<void> {
  const r = await api.call('POST', `/v1/zones${query}`, { token, body: { name, rrsets: apexSets() } });
  if (r.status !== 201) throw new Error(`zone ${name}: ${r.status} ${r.text}`);
}

export const errorOf = (r: Res) => r.body as { error: string; message: string; details: { path: string; problem: string }[] };
