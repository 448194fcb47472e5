// `serve --workers 2` on a PostgreSQL that goes away (`pg_ctl stop -m immediate`) and comes back:
// the API answers 503 database_unavailable at once with Retry-After, logs the outage once and its
// end once; /readyz stays ready (DNS answers from the snapshot) and reports the database apart; and
// after the restart the change feeds reconnect and catch up within a second, every worker alike.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startPrivatePg, poolWithZone } from '../helpers/private-pg.js';
import { startServe, ADMIN_TOKEN } from '../helpers/serve-child.js';
import { query } from '../helpers/dig.js';

const pg = await startPrivatePg();
const skip = typeof pg === 'string' ? pg : false;

test('database outage: API 503 at once, /readyz ready, change feed back within a second', { skip, timeout: 60_000 }, async (t) => {
  if (typeof pg === 'string') return;
  const { pool, zoneId } = await poolWithZone(pg, `$ORIGIN outage.example.
@ 3600 SOA ns1 hostmaster 1 3600 600 86400 300
@ 3600 NS ns1
ns1 3600 A 192.0.2.1
www 300 A 192.0.2.80
`);
  const serve = await startServe({ databaseUrl: pg.url, workers: 2 });
  await serve.waitAnswering('www.outage.example');
  // Both workers up (the API answers as soon as one is).
  for (let i = 0; i < 300 && (await (await fetch(serve.api + '/readyz')).json() as { workers?: { ready: number } }).workers?.ready !== 2; i++) {
    await new Promise((r) => setTimeout(r, 100));
  }
  const api = (path: string) => fetch(serve.api + path, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  assert.equal((await api('/v1/zones')).status, 200);

  await pg.stop();
  // Every request fails fast with the same stable error, and says when to come back.
  const times: number[] = [];
  for (let i = 0; i < 20; i++) {
    const t0 = Date.now();
    const r = await api('/v1/zones');
    times.push(Date.now() - t0);
    assert.equal(r.status, 503);
    assert.equal(r.headers.get('retry-after'), '2');
    const body = await r.json() as { error: string; message: string };
    assert.equal(body.error, 'database_unavailable');
  }
  t.diagnostic(`API during the outage: first request ${times[0]} ms, slowest of the rest ${Math.max(...times.slice(1))} ms`);
  assert.ok(times[0] < 3000, `the first request took ${times[0]} ms (connect timeout 2 s)`);
  assert.ok(Math.max(...times.slice(1)) < 500, `later requests must not wait for a timeout: ${times.join(', ')} ms`);

  const ready = await fetch(serve.api + '/readyz');
  assert.equal(ready.status, 200, 'DNS answers from the snapshot: the node stays ready');
  const rb = await ready.json() as { status: string; dns: string; database: string; workers: { ready: number; wanted: number } };
  assert.deepEqual({ ...rb }, { status: 'ready', dns: 'answering', database: 'down', workers: { ready: 2, wanted: 2 } });
  const answer = await query(serve.port, 'www.outage.example', 'A');
  assert.deepEqual(answer.answer, ['www.outage.example. A 300 192.0.2.80']);

  // Down long enough for an exponential backoff to have grown past a second or two.
  await new Promise((r) => setTimeout(r, 3000));
  await pg.start();
  const upAt = Date.now();
  // An edit committed as soon as the database is back, with plain SQL (no API, no NOTIFY from us).
  await pool.query("UPDATE records SET rdata = '192.0.2.99' WHERE zone_id = $1 AND owner = 'www'", [zoneId]);
  const committed = Date.now();
  // Visible when 20 queries in a row see it: UDP queries go to either worker, so both have it.
  let streak = 0;
  while (streak < 20) {
    const r = await query(serve.port, 'www.outage.example', 'A', { timeoutMs: 500 }).catch(() => undefined);
    streak = r?.answer[0]?.endsWith('192.0.2.99') ? streak + 1 : 0;
    assert.ok(Date.now() - committed < 5000, 'the edit never became visible on every worker');
  }
  const visible = Date.now() - committed;
  t.diagnostic(`edit after the restart visible on both workers ${visible} ms after commit (${committed - upAt} ms after the database was up)`);
  assert.ok(visible < 1000, `edit-to-visible after a database restart was ${visible} ms (bound 1000 ms)`);

  // The API is back too, and the outage was logged once, its end once, with no per-request error.
  const end = Date.now() + 5000;
  while ((await api('/v1/zones')).status !== 200) {
    assert.ok(Date.now() < end, 'the API never came back');
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(serve.lines(/^database unavailable/).length, 1, serve.log());
  assert.equal(serve.lines(/^database available again/).length, 1, serve.log());
  assert.equal(serve.lines(/^request failed$/).length, 0, 'no stack trace per request');
  // A worker may have caught up through a poll before its listener was back: give the line a moment.
  const until = Date.now() + 3000;
  while (serve.lines(/^journal listener reconnected/).length < 2 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
  const lost = serve.lines(/^journal listener lost/).length;
  const back = serve.lines(/^journal listener reconnected/).length;
  assert.equal(lost, 2, `each worker logs the loss once:\n${serve.log()}`);
  assert.equal(back, 2, `each worker logs the reconnection once:\n${serve.log()}`);
  assert.ok(serve.lines(/reconnect failed/).length === 0, 'failed reconnect attempts are not logged at info or above');
});
