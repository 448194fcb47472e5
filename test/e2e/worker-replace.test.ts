// `serve --workers 2` loses workers while PostgreSQL is down (`pg_ctl stop -m immediate`, then
// `kill -9`): each is replaced at once from a live sibling's snapshot (or, with none left, from the
// one kept as the outage began), DNS keeps answering, `glidepath restart` works and tells the truth,
// /healthz fails while no worker answers, and once the database is back every worker catches up.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { startPrivatePg, poolWithZone } from '../helpers/private-pg.js';
import { startServe } from '../helpers/serve-child.js';
import { query } from '../helpers/dig.js';
import { ask } from '../../src/cluster/control.js';

const pg = await startPrivatePg();
const skip = typeof pg === 'string' ? pg : false;

interface Status { workers: Array<{ id: number; pid: number; ready: boolean; retiring: boolean }> }

test('workers lost during a database outage are replaced without the database', { skip, timeout: 90_000 }, async (t) => {
  if (typeof pg === 'string') return;
  const { pool, zoneId } = await poolWithZone(pg, `$ORIGIN replace.example.
@ 3600 SOA ns1 hostmaster 1 3600 600 86400 300
@ 3600 NS ns1
ns1 3600 A 192.0.2.1
www 300 A 192.0.2.80
*.wild 300 TXT "v=spf1 -all"
`);
  const serve = await startServe({ databaseUrl: pg.url, workers: 2 });
  await serve.waitAnswering('www.replace.example');
  const sock = join(serve.dir, 'control.sock');
  const status = async () => (await ask(sock, 'status', 5000)) as unknown as Status;
  // The control socket opens before the workers are forked: until they are up, none counts as ready.
  const readyPids = async () => (await status().catch(() => ({ workers: [] }) as Status)).workers.filter((w) => w.ready && !w.retiring).map((w) => w.pid);
  const waitReady = async (n: number, not: number[], ms: number) => {
    const end = Date.now() + ms;
    for (;;) {
      const pids = await readyPids();
      if (pids.length === n && pids.every((p) => !not.includes(p))) return pids;
      // The control socket may not be open yet: the failure message must not throw in its place.
      if (Date.now() >= end) assert.fail(`not ${n} new workers ready within ${ms} ms: ${JSON.stringify(await status().catch((e: Error) => e.message))}\n${serve.log()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const health = async () => (await fetch(serve.api + '/healthz')).status;

  // UDP queries all along; every one must be answered while some worker lives.
  let running = true;
  let sent = 0;
  let lost = 0;
  const prober = (async () => {
    while (running) {
      sent++;
      const r = await query(serve.port, 'www.replace.example', 'A', { timeoutMs: 1000, tries: 2 }).catch(() => undefined);
      if (!r?.answer.length) lost++;
      await new Promise((res) => setTimeout(res, 20));
    }
  })();

  await waitReady(2, [], 30_000);
  await pg.stop();
  // Until the API has seen the outage (it keeps a snapshot for the case every worker is lost).
  const outageFile = join(serve.dir, 'data', 'snapshots', 'outage.ndjson');
  for (let i = 0; i < 100 && !existsSync(outageFile); i++) await new Promise((r) => setTimeout(r, 50));
  assert.ok(existsSync(outageFile), `a snapshot is kept as the outage begins:\n${serve.log().slice(-4000)}`);

  // One worker, then the other: each is replaced from its live sibling, within seconds.
  const [a, b] = await readyPids();
  process.kill(a, 'SIGKILL');
  let t0 = Date.now();
  await waitReady(2, [a], 15_000);
  t.diagnostic(`worker killed during the outage replaced in ${Date.now() - t0} ms`);
  process.kill(b, 'SIGKILL');
  t0 = Date.now();
  await waitReady(2, [a, b], 15_000);
  t.diagnostic(`the other one replaced in ${Date.now() - t0} ms`);
  running = false;
  await prober;
  t.diagnostic(`UDP during both losses: ${sent} sent, ${lost} unanswered`);
  assert.equal(lost, 0, 'a live worker answered throughout');
  assert.equal(await health(), 200);
  // The replacements serve the same data (wildcards and TXT included) without the database.
  const wild = await query(serve.port, 'x.wild.replace.example', 'TXT');
  assert.deepEqual(wild.answer, ['x.wild.replace.example. TXT 300 "v=spf1 -all"']);

  // A rolling restart during the outage replaces both, and says so.
  const r = await serve.cli(['restart']);
  assert.equal(r.code, 0, r.stderr + serve.log());
  assert.match(r.stdout, /replaced 2 workers \(2 of 2 answering now\)/);

  // Both lost at once: none is left to hand over a snapshot, so the one kept at the outage's start
  // is used. While none answers, /healthz says so.
  const both = await readyPids();
  for (const pid of both) process.kill(pid, 'SIGKILL');
  const seen: number[] = [];
  const end = Date.now() + 3000;
  while (Date.now() < end && !(seen.includes(503) && seen.at(-1) === 200)) { seen.push(await health()); await new Promise((res) => setTimeout(res, 10)); }
  assert.ok(seen.includes(503), `/healthz never said that no worker answers: ${seen.join(',')}`);
  await waitReady(2, both, 15_000);
  await serve.waitAnswering('www.replace.example', 5000);

  // Lost with no snapshot to start from: retried until the database is back; meanwhile restart
  // fails instead of claiming success, and /healthz is 503.
  rmSync(outageFile);
  const last = await readyPids();
  for (const pid of last) process.kill(pid, 'SIGKILL');
  await new Promise((res) => setTimeout(res, 500));
  const r0 = await serve.cli(['restart']);
  assert.equal(r0.code, 1, 'a restart that replaced nothing is a failure');
  assert.match(r0.stderr, /no worker is answering, so none was replaced/);
  assert.equal(await health(), 503);
  await pg.start();
  await waitReady(2, last, 20_000);
  assert.equal(await health(), 200);
  assert.ok(serve.lines(/replacement worker failed to start; retrying/).length >= 1);

  // Database back: every worker (the seeded ones included) follows edits.
  await pool.query("UPDATE records SET rdata = '192.0.2.81' WHERE zone_id = $1 AND owner = 'www'", [zoneId]);
  let streak = 0;
  const until = Date.now() + 5000;
  while (streak < 20) {
    const q = await query(serve.port, 'www.replace.example', 'A', { timeoutMs: 500 }).catch(() => undefined);
    streak = q?.answer[0]?.endsWith('192.0.2.81') ? streak + 1 : 0;
    assert.ok(Date.now() < until, 'an edit after the outage never reached every worker');
  }
});
