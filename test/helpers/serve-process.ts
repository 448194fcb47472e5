// `glidepath serve` as a child process, as operators run it: for suites with several nodes
// (replication, full nodes sharing a database). Its output is kept for failure messages.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { after } from 'node:test';
import { freePort } from './ports.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const BIN = join(ROOT, 'bin/glidepath.js');
export const ADMIN = 'serve-process-admin';

export interface ServeNode { name: string; proc: ChildProcess; dns: number; api: string; log: () => string }

const running: ServeNode[] = [];
after(() => { for (const n of running) if (n.proc.exitCode === null) n.proc.kill('SIGKILL'); });

/** Starts `glidepath serve --workers N` (default 0) named `name` (GLIDEPATH_NODE_ID) on DATABASE_URL,
 *  DNS and API on fresh loopback ports; `env` adds settings (GLIDEPATH_ROLE, ...). */
export async function startServe(name: string, databaseUrl: string, o: { workers?: number; env?: NodeJS.ProcessEnv } = {}): Promise<ServeNode> {
  const dns = await freePort();
  const apiPort = await freePort();
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (k !== 'DATABASE_URL' && !k.startsWith('GLIDEPATH_')) env[k] = v;
  Object.assign(env, {
    DATABASE_URL: databaseUrl, GLIDEPATH_DNS: `127.0.0.1:${dns}`, GLIDEPATH_API: `127.0.0.1:${apiPort}`,
    GLIDEPATH_NODE_ID: name, GLIDEPATH_LOG_LEVEL: 'info', GLIDEPATH_ADMIN_TOKEN: ADMIN,
    GLIDEPATH_CONTROL_SOCKET: join(tmpdir(), `glidepath-${name}-${process.pid}.sock`),
  }, o.env);
  let out = '';
  const proc = spawn(process.execPath, [BIN, 'serve', '--workers', String(o.workers ?? 0)], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  proc.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
  proc.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
  const n: ServeNode = { name, proc, dns, api: `http://127.0.0.1:${apiPort}`, log: () => out.split('\n').slice(-30).join('\n') };
  running.push(n);
  return n;
}

/** An admin API call; 5xx is retried a few times (right after a database restart a pooled
 *  connection from before may fail once; a failed call changes nothing). */
export async function api(n: ServeNode, method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  for (let attempt = 0; ; attempt++) {
    const res = await fetch(n.api + path, {
      method, headers: { authorization: `Bearer ${ADMIN}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    if (res.status >= 500 && attempt < 20) { await new Promise((r) => setTimeout(r, 250)); continue; }
    return { status: res.status, body: text ? JSON.parse(text) as Record<string, unknown> : {} };
  }
}

/** Polls `check` every 20 ms; past `ms` fails naming `what`, with the node's last output. */
export async function until(check: () => Promise<boolean>, ms: number, what: string, n?: ServeNode): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out: ${what}${n ? `\n${n.name}:\n${n.log()}` : ''}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Resolves once the node's /readyz says 200. */
export const ready = (n: ServeNode, ms = 60_000) =>
  until(async () => (await fetch(`${n.api}/readyz`).then((r) => r.status, () => 0)) === 200, ms, `${n.name} ready`, n);
