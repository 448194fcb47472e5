// `serve --workers 2` loads the workers' snapshots one after the other (cluster/primary.ts): the
// second starts loading only once the first has loaded, so the first answers as early as it can
// instead of both sharing the cores. Read from the workers' own "snapshot loaded" log lines. Also: the
// heap flags every worker is forked with (cluster/worker-flags.ts), and a second serve on the same
// control socket stopping before it starts any worker.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freshDatabase } from '../helpers/db.js';
import { importZoneFile } from '../../src/store/zone-file-io.js';
import { freePort } from '../helpers/ports.js';
import { workerExecArgv } from '../../src/cluster/worker-flags.js';
import { ask } from '../../src/cluster/control.js';
import { startServe } from '../helpers/serve-child.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const db = await freshDatabase();
after(() => db.drop());
const dir = mkdtempSync(join(tmpdir(), 'glidepath-order-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('the second worker starts loading after the first has loaded; both become ready', async () => {
  await importZoneFile(db.pool, '$ORIGIN order.example.\n@ 3600 SOA ns1 hostmaster 1 3600 600 86400 300\n@ 3600 NS ns1\nns1 3600 A 192.0.2.1\n',
    { file: 'inline', tenant: 'default', delegationOnly: false, actor: 'test' });
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (k !== 'DATABASE_URL' && !k.startsWith('GLIDEPATH_')) env[k] = v;
  Object.assign(env, {
    DATABASE_URL: db.url, GLIDEPATH_DNS: `127.0.0.1:${await freePort()}`, GLIDEPATH_API: 'off', GLIDEPATH_LOG_LEVEL: 'info',
    GLIDEPATH_DATA_DIR: join(dir, 'data'), GLIDEPATH_CONTROL_SOCKET: join(dir, 'control.sock'),
  });
  const server = spawn(process.execPath, [join(ROOT, 'bin/glidepath.js'), 'serve', '--workers', '2'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  after(() => { if (server.exitCode === null) server.kill('SIGKILL'); });
  let log = '';
  const ready = new Promise<void>((resolve, reject) => {
    const on = (d: Buffer) => { log += d.toString(); if (log.includes('"workers ready"')) resolve(); };
    server.stdout!.on('data', on);
    server.stderr!.on('data', on);
    server.on('exit', (code) => reject(new Error(`exited ${code}:\n${log}`)));
    setTimeout(() => reject(new Error(`no "workers ready" within 60 s:\n${log}`)), 60_000).unref();
  });
  await ready;
  const loads = log.split('\n').filter((l) => l.includes('"snapshot loaded"')).map((l) => JSON.parse(l) as { worker: number; time: number; ms: number });
  assert.equal(loads.length, 2, log);
  const [first, second] = loads.sort((a, b) => a.time - b.time);
  assert.notEqual(first.worker, second.worker);
  // The second load began (its end minus its duration) no earlier than the first one ended.
  assert.ok(second.time - second.ms >= first.time, `second worker began loading at ${second.time - second.ms}, first loaded at ${first.time}`);
  // Each worker runs with the heap flags of cluster/worker-flags.ts (no memory reducer), read from
  // its command line.
  const pids = (JSON.parse(log.split('\n').find((l) => l.includes('"workers ready"'))!) as { pids: number[] }).pids;
  assert.equal(pids.length, 2);
  for (const pid of pids) {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    assert.ok(argv.includes('--no-memory-reducer'), argv.join(' '));
  }

  // A second serve on the same control socket (an operator starting it twice, same data directory)
  // stops before it forks a worker: with the same DNS port, SO_REUSEPORT would otherwise let its
  // workers take a share of the first server's queries until it gave up.
  const again = spawn(process.execPath, [join(ROOT, 'bin/glidepath.js'), 'serve', '--workers', '1'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  after(() => { if (again.exitCode === null) again.kill('SIGKILL'); });
  let secondLog = '';
  again.stdout!.on('data', (d: Buffer) => { secondLog += d.toString(); });
  again.stderr!.on('data', (d: Buffer) => { secondLog += d.toString(); });
  const code = await new Promise((r) => again.on('exit', (c) => r(c)));
  assert.notEqual(code, 0, secondLog);
  assert.match(secondLog, /another glidepath serve answers on .*control\.sock/);
  assert.doesNotMatch(secondLog, /DNS listening|snapshot loaded|workers ready/, secondLog);
  // The first server's control socket still answers.
  const status = await ask(join(dir, 'control.sock'), 'status', 5000) as unknown as { workers: unknown[] };
  assert.equal(status.workers.length, 2);

  server.kill('SIGTERM');
  assert.equal(await new Promise((r) => server.on('exit', (code) => r(code))), 0);
});

test('worker flags: added to the primary\'s own, except one the operator gave (either spelling)', () => {
  assert.deepEqual(workerExecArgv(['--enable-source-maps']), ['--enable-source-maps', '--no-memory-reducer']);
  assert.deepEqual(workerExecArgv(['--memory-reducer']), ['--memory-reducer']);
  assert.deepEqual(workerExecArgv(['--memory_reducer']), ['--memory_reducer']);
  assert.deepEqual(workerExecArgv(['--no-memory-reducer', '--max-semi-space-size=32']), ['--no-memory-reducer', '--max-semi-space-size=32']);
});

test('while the first workers start (an edge waiting for its database), the control socket answers and refuses a restart', async () => {
  // Port 1 on loopback: nothing listens, so the edge keeps retrying its database.
  const serve = await startServe({ databaseUrl: 'postgres://glidepath:x@127.0.0.1:1/none', workers: 1, env: { GLIDEPATH_ROLE: 'edge', GLIDEPATH_API: 'off' } });
  const sock = join(serve.dir, 'control.sock');
  let status: { workers?: unknown[] } | undefined;
  for (let i = 0; i < 100 && !status; i++) {
    status = await ask(sock, 'status', 1000).then((a) => a as unknown as { workers: unknown[] }, () => undefined);
    if (!status) await new Promise((r) => setTimeout(r, 50));
  }
  assert.deepEqual(status?.workers, [], `status while starting:\n${serve.log()}`);
  const restart = await ask(sock, 'restart', 5000);
  assert.equal(restart.ok, false);
  assert.match(String(restart.error), /still starting/);
  assert.doesNotMatch(serve.log(), /DNS listening/);
  serve.proc.kill('SIGTERM');
  assert.equal(await new Promise((r) => serve.proc.on('exit', (code) => r(code))), 0, serve.log());
});
