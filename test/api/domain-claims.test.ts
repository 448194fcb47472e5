// No name takeover (issue 14 item 2): over real HTTP on a running server, a tenant cannot create a
// domain at, above or below another tenant's domain, nor a public suffix; the refusal never names
// the holder nor a database constraint; the admin creates registries, whose names below are open;
// two tenants racing for overlapping names: exactly one wins; `glidepath import --tenant` (a real
// process) follows the same rule.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestServer, settle } from '../helpers/server.js';
import { query } from '../helpers/dig.js';
import { runGlidepath } from '../helpers/cli.js';

const ADMIN = 'test-admin-token';
const s = await startTestServer();
const api = s.apiUrl();

interface Res { status: number; body: { error?: string; message?: string; details?: unknown[] } & Record<string, unknown>; text: string }
async function call(method: string, path: string, token: string, body?: unknown): Promise<Res> {
  const r = await fetch(api + path, {
    method, headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  return { status: r.status, body: text ? JSON.parse(text) : {}, text };
}

async function tenant(name: string): Promise<string> {
  assert.equal((await call('POST', '/v1/tenants', ADMIN, { name })).status, 201);
  const k = await call('POST', '/v1/tokens', ADMIN, { tenant: name });
  assert.equal(k.status, 201, k.text);
  return k.body.token as string;
}

const zone = (address: string) => ({
  rrsets: [
    { owner: '@', type: 'SOA', ttl: 3600, records: ['ns1 hostmaster 1 3600 600 86400 300'] },
    { owner: '@', type: 'NS', ttl: 3600, records: ['ns1'] },
    { owner: 'ns1', type: 'A', ttl: 3600, records: ['192.0.2.53'] },
    { owner: 'www', type: 'A', ttl: 300, records: [address] },
    { owner: '*', type: 'A', ttl: 300, records: [address] },
  ],
});

const a = await tenant('tenant-a');
const b = await tenant('tenant-b');
assert.equal((await call('POST', '/v1/zones', a, { name: 'za', ...zone('198.51.100.1') })).status, 201);
assert.equal((await call('POST', '/v1/zones', b, { name: 'zb', ...zone('203.0.113.2') })).status, 201);
assert.equal((await call('POST', '/v1/domains', b, { name: 'b.example', zone: 'zb' })).status, 201);
assert.equal((await call('POST', '/v1/domains', b, { name: 'deep.c.example', zone: 'zb' })).status, 201);

const domainCount = async () => Number((await s.db.pool.query('SELECT count(*) AS n FROM domains')).rows[0].n);

/** A refusal that tells nothing about the holder: no tenant name, no constraint, no SQL detail. */
function opaque(r: Res, code: string, status: number) {
  assert.equal(r.status, status, r.text);
  assert.equal(r.body.error, code, r.text);
  assert.doesNotMatch(r.text, /tenant-b|tenant_id|domains_|Key \(|constraint/i, `leaks: ${r.text}`);
}

test('a tenant cannot create a domain at, below or above another tenant\'s domain', async () => {
  const before = await domainCount();
  const at = await call('POST', '/v1/domains', a, { name: 'b.example', zone: 'za' });
  const below = await call('POST', '/v1/domains', a, { name: 'www.b.example', zone: 'za' });
  const deeper = await call('POST', '/v1/domains', a, { name: 'x.y.b.example.', zone: 'za' });
  const above = await call('POST', '/v1/domains', a, { name: 'c.example', zone: 'za' });
  opaque(at, 'domain_taken', 409);
  for (const r of [below, deeper, above]) opaque(r, 'domain_unavailable', 409);
  // The same words above and below: nothing to probe the holder's names with.
  const norm = (r: Res) => r.text.replace(/[a-z.]*example\./g, 'NAME');
  assert.equal(norm(below), norm(above));
  assert.equal(await domainCount(), before, 'nothing was created');
  // B's names still answer B's data.
  await settle(s);
  const r = await query(s.dnsPort(), 'www.b.example', 'A');
  assert.equal(r.answer.length, 1, r.answer.join('\n'));
  assert.match(r.answer[0], /203\.0\.113\.2/, 'B\'s address, not A\'s');
  // A's own names overlap freely.
  assert.equal((await call('POST', '/v1/domains', a, { name: 'a.example', zone: 'za' })).status, 201);
  assert.equal((await call('POST', '/v1/domains', a, { name: 'www.a.example', zone: 'za' })).status, 201);
  const dup = await call('POST', '/v1/domains', a, { name: 'a.example', zone: 'za' });
  assert.equal(dup.status, 409);
  assert.equal(dup.body.error, 'domain_taken');
  // The same words for a taken name whoever holds it (here A itself, above B's).
  assert.equal(norm(at), norm(dup));
});

test('a tenant cannot claim a public suffix; the admin can, as a registry, and names below it stay open', async () => {
  for (const name of ['test', 'example', 'co.uk', 'github.io', 'COM.']) {
    const r = await call('POST', '/v1/domains', a, { name, zone: 'za' });
    assert.equal(r.status, 422, `${name}: ${r.text}`);
    assert.equal(r.body.error, 'public_suffix');
  }
  // The registry: the admin serves "test." delegation-only for tenant "registry".
  await tenant('registry');
  const reg = await call('POST', '/v1/zones?tenant=registry', ADMIN, { name: 'tld', rrsets: zone('192.0.2.9').rrsets.slice(0, 3) });
  assert.equal(reg.status, 201, reg.text);
  const d = await call('POST', '/v1/domains?tenant=registry', ADMIN, { name: 'test', zone: 'tld', delegation_only: true });
  assert.equal(d.status, 201, d.text);
  // Registrants (other tenants) serve names below it.
  assert.equal((await call('POST', '/v1/domains', a, { name: 'a.test', zone: 'za' })).status, 201);
  // ...and then the registry may not stop being delegation-only: it would answer for a.test.
  const widen = await call('PATCH', '/v1/domains/test?tenant=registry', ADMIN, { delegation_only: false });
  opaque(widen, 'domain_unavailable', 409);
  // Below a tenant's own non-delegation-only domain nobody else may go, delegation-only or not.
  const under = await call('POST', '/v1/domains', b, { name: 'x.a.test', zone: 'zb' });
  opaque(under, 'domain_unavailable', 409);
  // A tenant cannot put a delegation-only domain above another's either (only the admin can).
  assert.equal((await call('POST', '/v1/zones', a, { name: 'zd', rrsets: zone('192.0.2.9').rrsets.slice(0, 3) })).status, 201);
  const over = await call('POST', '/v1/domains', a, { name: 'c.example', zone: 'zd', delegation_only: true });
  opaque(over, 'domain_unavailable', 409);
});

test('two tenants racing for overlapping names: exactly one wins, the other gets the plain refusal', async () => {
  for (let i = 0; i < 8; i++) {
    // Parent against child, and the same name, at once.
    const [p, c, x, y] = await Promise.all([
      call('POST', '/v1/domains', a, { name: `race${i}.example`, zone: 'za' }),
      call('POST', '/v1/domains', b, { name: `www.race${i}.example`, zone: 'zb' }),
      call('POST', '/v1/domains', a, { name: `same${i}.example`, zone: 'za' }),
      call('POST', '/v1/domains', b, { name: `same${i}.example`, zone: 'zb' }),
    ]);
    assert.deepEqual([p.status, c.status].sort(), [201, 409], `round ${i}: ${p.text} / ${c.text}`);
    assert.deepEqual([x.status, y.status].sort(), [201, 409], `round ${i}: ${x.text} / ${y.text}`);
    for (const r of [p, c]) if (r.status === 409) opaque(r, 'domain_unavailable', 409);
    for (const r of [x, y]) if (r.status === 409) opaque(r, 'domain_taken', 409);
  }
  const overlaps = await s.db.pool.query(`SELECT p.name, c.name FROM domains p JOIN domains c
      ON c.name LIKE '%.' || p.name AND c.tenant_id <> p.tenant_id AND NOT p.delegation_only`);
  assert.deepEqual(overlaps.rows, [], 'no domain sits below another tenant\'s domain');
});

test('glidepath import --tenant follows the same rule', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'glidepath-claims-'));
  try {
    const file = join(dir, 'take.zone');
    writeFileSync(file, '$ORIGIN www.b.example.\n@ 60 IN SOA ns1 h 1 2 3 4 5\n@ 60 IN NS ns1\nns1 60 IN A 198.51.100.66\n');
    const before = await domainCount();
    const out = await runGlidepath(['import', file, '--tenant', 'tenant-a'], s.database.url);
    assert.notEqual(out.code, 0, 'refused');
    assert.match(out.stderr, /not available/);
    assert.doesNotMatch(out.stderr, /tenant-b/);
    assert.equal(await domainCount(), before);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
