// Owner names up to 255 octets on the single-RRset routes (issue 14 item 10), over real HTTP and
// DNS: fastify's default maxParamLength (100) answered 414 with a body of its own. Longer names get
// the documented error shape.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, settle } from '../helpers/server.js';
import { query } from '../helpers/dig.js';

const s = await startTestServer();
const api = s.apiUrl();
const AUTH = { authorization: 'Bearer test-admin-token' };

async function call(method: string, path: string, body?: unknown) {
  const r = await fetch(api + path, {
    method, headers: body === undefined ? AUTH : { ...AUTH, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  return { status: r.status, text, body: text ? JSON.parse(text) as Record<string, unknown> : {} };
}

function documentedError(r: { status: number; body: Record<string, unknown>; text: string }, status: number) {
  assert.equal(r.status, status, r.text);
  assert.deepEqual(Object.keys(r.body).sort(), ['details', 'error', 'message'], r.text);
  assert.match(String(r.body.error), /^[a-z_]+$/);
  assert.ok(Array.isArray(r.body.details));
}

const z = await call('POST', '/v1/zones', {
  name: 'ln', rrsets: [
    { owner: '@', type: 'SOA', ttl: 3600, records: ['ns1 hostmaster 1 3600 600 86400 300'] },
    { owner: '@', type: 'NS', ttl: 3600, records: ['ns1'] },
    { owner: 'ns1', type: 'A', ttl: 3600, records: ['192.0.2.53'] },
  ],
});
assert.equal(z.status, 201, z.text);
assert.equal((await call('POST', '/v1/domains', { name: 'ln.example', zone: 'ln' })).status, 201);

// 3 x 63 + 50 octets relative, under "ln.example." (12 octets): exactly 255 octets on the wire.
const owner = ['a'.repeat(63), 'b'.repeat(63), 'c'.repeat(63), 'd'.repeat(50)].join('.');

test('a 255-octet owner name works on every single-RRset route, and is served', async () => {
  const path = `/v1/zones/ln/rrsets/${owner}/TXT`;
  const put = await call('PUT', path, { ttl: 60, records: ['"long"'] });
  assert.equal(put.status, 200, put.text);
  const get = await call('GET', path);
  assert.equal(get.status, 200, get.text);
  assert.equal(get.body.owner, owner);
  await settle(s);
  const r = await query(s.dnsPort(), `${owner}.ln.example`, 'TXT', { transport: 'tcp' });
  assert.equal(r.rcode, 'NOERROR');
  assert.equal(r.answer.length, 1, r.answer.join('\n'));
  // Escaped octets in the path too (\\065 is "A"): still well under the parameter limit.
  const escaped = await call('GET', `/v1/zones/ln/rrsets/${encodeURIComponent(owner.replace(/a/g, '\\097'))}/TXT`);
  assert.equal(escaped.status, 200, escaped.text);
  const del = await call('DELETE', path);
  assert.equal(del.status, 204, del.text);
  const dom = await call('GET', `/v1/domains/${'x'.repeat(63)}.${'y'.repeat(63)}.${'z'.repeat(63)}.ln.example`);
  documentedError(dom, 404);
});

test('longer names and longer paths get the documented error shape', async () => {
  const tooLong = `${owner}.e`;
  documentedError(await call('PUT', `/v1/zones/ln/rrsets/${'e'.repeat(64)}/TXT`, { ttl: 60, records: ['"x"'] }), 422);
  documentedError(await call('PUT', `/v1/zones/ln/rrsets/${tooLong}.${'f'.repeat(60)}/TXT`, { ttl: 60, records: ['"x"'] }), 422);
  const huge = await call('GET', `/v1/zones/ln/rrsets/${'g'.repeat(5000)}/TXT`);
  documentedError(huge, 414);
  assert.equal(huge.body.error, 'uri_too_long');
});
