// Runs the real `glidepath` command (node bin/glidepath.js) against a test database, with nothing
// of the runner's environment leaking in (no DATABASE_URL or GLIDEPATH_*), the API off.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export interface Ran { code: number | null; stdout: string; stderr: string }

export async function runGlidepath(args: string[], databaseUrl: string, timeoutMs = 60_000): Promise<Ran> {
  const dir = mkdtempSync(join(tmpdir(), 'glidepath-run-'));
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (k !== 'DATABASE_URL' && !k.startsWith('GLIDEPATH_')) env[k] = v;
  Object.assign(env, { DATABASE_URL: databaseUrl, GLIDEPATH_LOG_LEVEL: 'silent', GLIDEPATH_API: 'off', GLIDEPATH_DATA_DIR: join(dir, 'data') });
  try {
    return await new Promise<Ran>((resolve) => {
      const child = spawn(process.execPath, [join(ROOT, 'bin/glidepath.js'), ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
      child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      child.on('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
