// /metrics stays small whatever unauthenticated DNS traffic asks (issue 14, item 3): every label
// takes a value from a fixed list or `other`, so queries with thousands of distinct qtypes add no
// series, and nothing is lost: the counts still add up.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer } from '../helpers/server.js';
import { exchange, buildQuery } from '../helpers/dig.js';
import { TYPE, RCODE } from '../../src/dns/constants.js';
import { qtypeLabel, rcodeLabel, methodLabel } from '../../src/metrics/labels.js';

test('label values are the known names, then other', () => {
  assert.equal(qtypeLabel(TYPE.AAAA), 'AAAA');
  assert.equal(qtypeLabel(65280), 'other');
  assert.equal(rcodeLabel(RCODE.REFUSED), 'REFUSED');
  assert.equal(rcodeLabel(3000), 'other'); // unassigned (RFC 6895 2.3)
  assert.equal(methodLabel('GET'), 'GET');
  assert.equal(methodLabel('PROPFIND'), 'other');
});

test('2,000 distinct qtypes over UDP make no more series than known types x known rcodes', async () => {
  const s = await startTestServer();
  const qtypes = Array.from({ length: 2000 }, (_, i) => 1 + Math.floor(i * 65534 / 2000));
  let answered = 0;
  for (let i = 0; i < qtypes.length; i += 50) {
    const batch = qtypes.slice(i, i + 50).map((t) => exchange(s.dnsPort(), buildQuery('x.nowhere.example', t), { tries: 3, timeoutMs: 1000 }));
    answered += (await Promise.allSettled(batch)).filter((r) => r.status === 'fulfilled').length;
  }
  assert.ok(answered >= qtypes.length * 0.99, `answered ${answered} of ${qtypes.length}`);
  const text = await (await fetch(s.apiUrl() + '/metrics')).text();
  const series = [...text.matchAll(/^glidepath_dns_queries_total\{qtype="([^"]+)",rcode="([^"]+)"\} (\d+)$/gm)];
  const knownTypes = Object.keys(TYPE).length + 1;
  const knownRcodes = Object.keys(RCODE).length + 1;
  assert.ok(series.length <= knownTypes * knownRcodes, `${series.length} series`);
  assert.ok(series.some((m) => m[1] === 'other'), 'unknown types counted under other');
  for (const m of series) assert.ok(m[1] === 'other' || m[1] in TYPE, `qtype label ${m[1]}`);
  for (const m of series) assert.ok(m[2] === 'other' || m[2] in RCODE, `rcode label ${m[2]}`);
  const counted = series.reduce((n, m) => n + Number(m[3]), 0);
  assert.ok(counted >= answered, `counted ${counted}, answered ${answered}: nothing lost in other`);
  assert.ok(text.length < 20_000, `the exposition stays small (${text.length} bytes)`);
});
