// Refused transfers are logged aggregated (issue 14 item 9), over real UDP and TCP: a burst of 300
// refused AXFR/IXFR queries writes one line per (client, reason) at once and one line with the
// count when the interval closes, not 300 lines; every refusal is counted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { startTestServer, importText, waitFor } from '../helpers/server.js';
import { query } from '../helpers/dig.js';

const INTERVAL_MS = 2000;
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
  const elapsed = Date.now() - t0;
  const counted = () => refusals().reduce((n, l) => n + (l.repeated ?? 1), 0);
  await waitFor(() => counted() >= 300, INTERVAL_MS * 3, 'the interval\'s count lines');
  const all = refusals();
  assert.equal(counted(), 300, 'every refusal is counted, once');
  // One line per reason at once, then one count line per reason and interval while it goes on.
  assert.deepEqual(new Set(all.slice(0, 3).map((l) => l.why)).size, 3, all.map((l) => JSON.stringify(l)).join('\n'));
  const bound = 3 * (2 + Math.ceil(elapsed / INTERVAL_MS));
  assert.ok(all.length <= bound, `${all.length} lines for 300 refusals in ${elapsed} ms (bound ${bound})`);
  for (const l of all.slice(3)) assert.ok((l.repeated ?? 0) > 0, 'the later lines carry counts');
});
