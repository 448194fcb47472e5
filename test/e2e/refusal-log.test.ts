// Refused transfers are logged aggregated (issue 14 item 9), over real UDP and TCP: a burst of 300
// refused AXFR/IXFR queries writes one line per (client, reason) at once and one line with the
// count when the interval closes, not 300 lines; every refusal is counted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { startTestServer, importText, waitFor } from '../helpers/server.js';
import { query } from '../helpers/dig.js';

const INTERVAL_MS = 5000; // longer than the burst takes, even on a loaded machine
const lines: Array<{ msg: string; peer?: string; why?: string; repeated?: number }> = [];
const log = pino({ level: 'info' }, { write: (l: string) => { lines.push(JSON.parse(l)); } });
const s = await startTestServer({ api: null, log, transfer: { refusalLogMs: INTERVAL_MS } });
await importText(s, '$ORIGIN xfr.example.\n@ 3600 SOA ns1 hostmaster 1 3600 600 86400 300\n@ 3600 NS ns1\nns1 3600 A 192.0.2.1\n');

const refusals = () => lines.filter((l) => l.msg.startsWith('transfer refused'));

test('a burst of refused transfers: one line per client and reason, then one count', async () => {
  const t0 = Date.now();
  const burst: Array<Promise<unknown>> = [];
  // Three reasons: AXFR over UDP, a name we do not serve, and (TCP) no transfer allowed.
  for (let i = 0; i < 100; i++) {
    burst.push(query(s.dnsPort(), 'xfr.example', 'AXFR', { transport: 'udp', timeoutMs: 5000 }));
    burst.push(query(s.dnsPort(), 'elsewhere.example', 'AXFR', { transport: 'tcp', timeoutMs: 5000 }));
    burst.push(query(s.dnsPort(), 'xfr.example', 'AXFR', { transport: 'tcp', timeoutMs: 5000 }));
    if (i % 20 === 19) await Promise.all(burst.splice(0));
  }
  await Promise.all(burst);
  assert.ok(Date.now() - t0 < INTERVAL_MS, `the burst took ${Date.now() - t0} ms, more than one interval`);
  const first = refusals();
  assert.equal(first.length, 3, `one line per reason at once:\n${first.map((l) => JSON.stringify(l)).join('\n')}`);
  assert.deepEqual(new Set(first.map((l) => l.why)).size, 3);
  await waitFor(() => refusals().length >= 6, INTERVAL_MS * 4, 'the interval\'s count lines');
  const all = refusals();
  assert.equal(all.length, 6, all.map((l) => JSON.stringify(l)).join('\n'));
  const counted = all.reduce((n, l) => n + (l.repeated ?? 1), 0);
  assert.equal(counted, 300, 'every refusal is counted');
  for (const l of all.slice(3)) assert.equal(l.repeated, 99);
});
