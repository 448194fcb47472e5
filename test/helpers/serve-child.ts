// `glidepath serve` as a child process, the way operators run it: its own ports, data directory and
// control socket, its log collected (pino JSON lines), killed after the suite.
import { after } from 'node:test';
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './ports.js';
import { query } from './dig.js';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const BIN = join(ROOT, 'bin/glidepath.js');
export const ADMIN_TOKEN = 'serve-child-admin';

export interface ServeChild {
  port: number;
  api: string;
  dir: string;
  env: NodeJS.ProcessEnv;
  proc: ChildProcess;
  /** Everything the server logged so far. */
  log(): string;
  /** Log lines (parsed) whose msg matches. */
  lines(msg: RegExp): Array<Record<string, unknown>>;
  /** Runs `glidepath ARGS` against it (same environment). */
  cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
  /** Resolves once `name` (A) is answered over UDP and the API listens. */
  waitAnswering(name: string, ms?: number): Promise<void>;
}

export async function startServe(o: { databaseUrl: string; workers: number; env?: Record<string, string>; nodeArgs?: string[] }): Promise<ServeChild> {
  const dir = mkdtempSync(join(tmpdir(), 'glidepath-serve-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const port = await freePort();
  const apiPort = await freePort();
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (k !== 'DATABASE_URL' && !k.startsWith('GLIDEPATH_')) env[k] = v;
  Object.assign(env, {
    DATABASE_URL: o.databaseUrl, GLIDEPATH_DNS: `127.0.0.1:${port}`, GLIDEPATH_API: `127.0.0.1:${apiPort}`, GLIDEPATH_LOG_LEVEL: 'info',
    GLIDEPATH_DATA_DIR: join(dir, 'data'), GLIDEPATH_CONTROL_SOCKET: join(dir, 'control.sock'), GLIDEPATH_ADMIN_TOKEN: ADMIN_TOKEN,
    ...o.env,
  });
  let log = '';
  const proc = spawn(process.execPath, [...(o.nodeArgs ?? []), BIN, 'serve', '--workers', String(o.workers)], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  proc.stdout!.on('data', (d: Buffer) => { log += d.toString(); });
  proc.stderr!.on('data', (d: Buffer) => { log += d.toString(); });
  after(() => { if (proc.exitCode === null) proc.kill('SIGKILL'); });
  const child: ServeChild = {
    port, api: `http://127.0.0.1:${apiPort}`, dir, env, proc,
    log: () => log,
    lines: (msg) => log.split('\n').flatMap((l) => {
      try {
        const j = JSON.parse(l) as Record<string, unknown>;
        return typeof j.msg === 'string' && msg.test(j.msg) ? [j] : [];
      } catch { return []; }
    }),
    cli: (args) => new Promise((resolve) => {
      execFile(process.execPath, [BIN, ...args], { cwd: ROOT, env, timeout: 120_000 }, (err, stdout, stderr) =>
        resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }));
    }),
    async waitAnswering(name, ms = 30_000) {
      const end = Date.now() + ms;
      while (Date.now() < end) {
        if (proc.exitCode !== null) throw new Error(`serve exited (${proc.exitCode}):\n${log}`);
        const ok = await query(port, name, 'A', { timeoutMs: 200 }).then((r) => r.answer.length > 0, () => false)
          // With --workers 0 the API listens a moment after DNS: wait for both.
          && await fetch(child.api + '/healthz').then(() => true, () => false);
        if (ok) return;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`serve never answered ${name}:\n${log}`);
    },
  };
  return child;
}
