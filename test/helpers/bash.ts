// Runs a bash script (set -euo pipefail) without blocking this process's event loop, where the
// server under test answers: the README examples run this way.
import { spawn } from 'node:child_process';

export function bash(script: string): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const c = spawn('bash', ['-euo', 'pipefail', '-c', script], { timeout: 60_000 });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d: Buffer) => { stdout += d; });
    c.stderr.on('data', (d: Buffer) => { stderr += d; });
    c.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}
