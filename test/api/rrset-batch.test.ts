// A large RRset PATCH (a body over 16 KiB) is parsed, checked and applied in a thread
// (src/api/rrset-batch-runner.ts); a small one on the event loop. Both must behave alike: the same
// result and response, the same errors (400 for a body the schema refuses, 422 naming the record
// or the zone rule, 412 for a stale If-Match, 422 unknown_health_check), the same health checks
// stored and gated_ttl_long warnings, and nothing written on any error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startApi, makeZone, errorOf, type Res } from './helpers.js';

const api = await startApi();
const Z = (zone: string) => `/v1/zones/${zone}/rrsets`;
await makeZone(api, 'small');
await makeZone(api, 'large');

type Change = { owner: string; type: string; ttl?: number; records?: string[]; delete?: true };
/** `n` TXT RRsets, then `tail`: over 16 KiB from about 300 changes on. */
const txt = (n: number, tail: Change[] = []): { changes: Change[] } =>
  ({ changes: [...Array.from({ length: n }, (_, i): Change => ({ owner: `r${i}`, type: 'TXT', ttl: 300, records: [`"rrset ${i}"`] })), ...tail] });
const size = (b: unknown) => JSON.stringify(b).length;

async function rows(zone: string): Promise<string[]> {
  const r = await api.db.pool.query<{ owner: string; type: number; ttl: number; rdata: string }>(
    'SELECT owner, type, ttl, rdata FROM records WHERE zone_id = (SELECT id FROM zones WHERE name = $1) ORDER BY owner, type, rdata', [zone]);
  return r.rows.map((x) => `${x.owner} ${x.type} ${x.ttl} ${x.rdata}`);
}
const version = async (zone: string) => (await api.db.pool.query<{ version: number }>('SELECT version FROM zones WHERE name = $1', [zone])).rows[0].version;

/** The same body to the small zone in batches of 100 (inline) and to the large zone at once. */
async function both(body: { changes: Change[] }, headers?: (zone: string) => Promise<Record<string, string>>): Promise<{ inline: Res; thread: Res }> {
  assert.ok(size(body) > 16 * 1024, `the body (${size(body)} bytes) takes the thread`);
  const inlineBody = { changes: body.changes.slice(-100) };
  assert.ok(size(inlineBody) < 16 * 1024);
  return {
    inline: await api.call('PATCH', Z('small'), { body: inlineBody, headers: await headers?.('small') }),
    thread: await api.call('PATCH', Z('large'), { body, headers: await headers?.('large') }),
  };
}

test('a 3,000-change PATCH: applied in order, the response and the rows as the inline path gives them', async () => {
  // Replacements, a deletion of one set before, a set replaced twice (the last wins), duplicates
  // in one set dropped (RFC 2181 5), a quote and a backslash in TXT data.
  const tail: Change[] = [
    { owner: 'r5', type: 'TXT', delete: true },
    { owner: 'twice', type: 'A', ttl: 60, records: ['192.0.2.1'] },
    { owner: 'twice', type: 'A', ttl: 120, records: ['192.0.2.2', '192.0.2.2', '192.0.2.3'] },
    { owner: 'q', type: 'TXT', ttl: 60, records: ['"say \\"hi\\"" "back\\\\slash"'] },
  ];
  await api.call('PATCH', Z('small'), { body: { changes: txt(6).changes } });
  const v = await version('large');
  const { inline, thread } = await both(txt(3000, tail));
  assert.equal(thread.status, 200, thread.text);
  assert.equal(inline.status, 200, inline.text);
  assert.equal(String(thread.headers['content-type']), 'application/json; charset=utf-8');
  const t = thread.body as { version: number; rrsets: Array<{ owner: string }> };
  assert.ok(t.version > v);
  assert.equal(thread.headers.etag, `"${t.version}"`);
  assert.equal(t.rrsets.length, 3000 - 1 + 2, 'every RRset set by the batch, none deleted');
  // The touched RRsets the batch ended with are the same whichever path applied them.
  const last = (r: Res) => JSON.stringify((r.body as { rrsets: Array<{ owner: string }> }).rrsets.filter((s) => ['twice', 'q', 'r2999'].includes(s.owner)));
  assert.equal(last(thread), last(inline));
  const got = await rows('large');
  assert.equal(got.filter((l) => l.startsWith('r')).length, 2999);
  assert.ok(got.includes('twice 1 120 192.0.2.2') && got.includes('twice 1 120 192.0.2.3') && !got.some((l) => l.startsWith('twice 1 60')));
  assert.ok(got.includes('q 16 60 "say \\"hi\\"" "back\\\\slash"'), 'quotes and backslashes survive the array literal');
  assert.ok(!got.some((l) => l.startsWith('r5 ')));
  // GET agrees with the rows.
  const g = await api.call('GET', `${Z('large')}/twice/A`);
  assert.deepEqual(g.body, { owner: 'twice', type: 'A', ttl: 120, records: ['192.0.2.2', '192.0.2.3'] });
});

test('a bad record anywhere in a large batch: 422 naming it, nothing written', async () => {
  const before = await rows('large');
  const v = await version('large');
  const body = txt(2000);
  body.changes[1500] = { owner: 'bad', type: 'AAAA', ttl: 60, records: ['not::an::address::'] };
  body.changes[1700] = { owner: 'x', type: 'NOPE', ttl: 60, records: ['1'] };
  const r = await api.call('PATCH', Z('large'), { body });
  assert.equal(r.status, 422, r.text);
  assert.deepEqual(errorOf(r).details.map((d) => d.path), ['changes[1500].records[0]', 'changes[1700].type']);
  assert.deepEqual(await rows('large'), before);
  assert.equal(await version('large'), v);
});

test('a zone rule broken by the result: 422 as inline (a CNAME beside other data, the apex NS deleted)', async () => {
  const before = await rows('large');
  const tail: Change[] = [{ owner: 'r1', type: 'CNAME', ttl: 60, records: ['elsewhere.example.'] }];
  const { inline, thread } = await both(txt(1000, tail));
  assert.equal(thread.status, 422, thread.text);
  assert.equal(inline.status, 422, inline.text);
  assert.deepEqual(errorOf(thread).details, errorOf(inline).details);
  assert.deepEqual(errorOf(thread).details.map((d) => d.path), ['r1/CNAME']);
  const apex = await api.call('PATCH', Z('large'), { body: txt(1000, [{ owner: '@', type: 'NS', delete: true }]) });
  assert.equal(apex.status, 422);
  assert.deepEqual(errorOf(apex).details.map((d) => d.path), ['@/NS']);
  assert.deepEqual(await rows('large'), before);
});

test('a body the schema refuses: 400 bad_request, the details from the thread as from the inline check', async () => {
  const before = await rows('large');
  const bad = txt(1000);
  (bad.changes[700] as { ttl: unknown }).ttl = '60';
  (bad.changes[800] as Record<string, unknown>).extra = 1;
  const small = { changes: [bad.changes[700], bad.changes[800]] };
  const r = await api.call('PATCH', Z('large'), { body: bad });
  const s = await api.call('PATCH', Z('small'), { body: small });
  assert.equal(r.status, 400, r.text);
  assert.equal(errorOf(r).error, 'bad_request');
  const norm = (x: Res) => errorOf(x).details.map((d) => ({ ...d, path: d.path.replace(/changes\.\d+/, 'changes.N') }));
  assert.deepEqual(norm(r), norm(s));
  assert.ok(errorOf(r).details.some((d) => d.path === 'body.changes.700.ttl'), JSON.stringify(errorOf(r).details));
  const notJson = await api.call('PATCH', Z('large'), { raw: `{"changes": [${'{},'.repeat(9000)}`, type: 'application/json' });
  assert.equal(notJson.status, 400);
  assert.equal(errorOf(notJson).error, 'bad_request');
  const tooMany = await api.call('PATCH', Z('large'), { body: txt(10_001) });
  assert.equal(tooMany.status, 400);
  assert.deepEqual(await rows('large'), before);
});

test('If-Match on a large batch: stale is 412 and changes nothing, current passes; an unknown zone is 404', async () => {
  const v = await version('large');
  const before = await rows('large');
  const stale = await api.call('PATCH', Z('large'), { body: txt(1000), headers: { 'if-match': `"${v - 1}"` } });
  assert.equal(stale.status, 412);
  assert.equal(errorOf(stale).error, 'precondition_failed');
  assert.deepEqual(await rows('large'), before);
  const ok = await api.call('PATCH', Z('large'), { body: txt(1000, [{ owner: 'im', type: 'A', ttl: 60, records: ['192.0.2.4'] }]), headers: { 'if-match': `"${v}"` } });
  assert.equal(ok.status, 200, ok.text);
  assert.equal((await api.call('PATCH', Z('nosuch'), { body: txt(1000) })).status, 404);
});

test('a tenant\'s large batch reaches only its own zone of that name', async () => {
  const tok = await api.tenant('other');
  assert.equal((await api.call('PATCH', Z('large'), { token: tok, body: txt(1000) })).status, 404);
  await makeZone(api, 'large', tok);
  const r = await api.call('PATCH', Z('large'), { token: tok, body: txt(1000) });
  assert.equal(r.status, 200, r.text);
  const mine = await api.db.pool.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM records r JOIN zones z ON z.id = r.zone_id JOIN tenants t ON t.id = z.tenant_id WHERE z.name = 'large' AND t.name = 'other'");
  assert.equal(mine.rows[0].n, 1000 + 4);
});

// Health-gated records (issue 20) through a large PATCH: the same checks stored, the same warnings
// and errors as inline, and records the batch does not touch keep the check they name.
await makeZone(api, 'gsmall');
await makeZone(api, 'glarge');
type Gated = Change & { health_checks?: Record<string, string> };
async function gatedRows(zone: string, owners: string[]): Promise<string[]> {
  const r = await api.db.pool.query<{ line: string }>(
    `SELECT r.owner || ' ' || r.type || ' ' || r.ttl || ' ' || r.rdata || ' ' || coalesce(h.name, '-') AS line
       FROM records r LEFT JOIN health_checks h ON h.id = r.health_check_id
      WHERE r.zone_id = (SELECT id FROM zones WHERE name = $1) AND r.owner = ANY($2::text[]) ORDER BY 1`, [zone, owners]);
  return r.rows.map((x) => x.line);
}
const inThread = (body: { changes: Gated[] }) => ({ changes: [...txt(1000).changes, ...body.changes] });
const normPaths = (r: Res) => errorOf(r).details.map((d) => ({ ...d, path: d.path.replace(/^changes\[\d+\]/, 'changes[N]') }));

test('health-gated records in a large batch: the checks stored, the response and the warnings as inline; untouched gates stay', async () => {
  for (const name of ['web', 'db']) {
    const r = await api.call('POST', '/v1/health-checks', { body: { name, kind: 'passive', max_age: 60 } });
    assert.equal(r.status, 201, r.text);
  }
  for (const zone of ['gsmall', 'glarge']) {
    const keep = await api.call('PUT', `${Z(zone)}/keep/A`, { body: { ttl: 30, records: ['192.0.2.10', '192.0.2.11'], health_checks: { '192.0.2.10': 'web' } } });
    assert.equal(keep.status, 200, keep.text);
    for (const owner of ['move', 'ungate']) {
      const r = await api.call('PUT', `${Z(zone)}/${owner}/A`, { body: { ttl: 30, records: ['192.0.2.20'], health_checks: { '192.0.2.20': 'web' } } });
      assert.equal(r.status, 200, r.text);
    }
  }
  const tail: Gated[] = [
    { owner: 'g1', type: 'A', ttl: 30, records: ['192.0.2.1', '192.0.2.2'], health_checks: { '192.0.2.1': 'web' } },
    // Keyed by the record as written, matched in canonical form; a TTL over 60 s is warned about.
    { owner: 'g2', type: 'AAAA', ttl: 300, records: ['2001:db8::1'], health_checks: { '2001:DB8:0::1': 'db' } },
    { owner: 'move', type: 'A', ttl: 30, records: ['192.0.2.20'], health_checks: { '192.0.2.20': 'db' } },
    { owner: 'ungate', type: 'A', ttl: 30, records: ['192.0.2.20'] },
    { owner: 'plain', type: 'A', ttl: 600, records: ['192.0.2.30'] },
  ];
  const logged = () => api.logs.filter((l) => l.includes('health-gated RRset with a long TTL')).length;
  const owners = ['g1', 'g2', 'move', 'ungate', 'plain', 'keep'];
  const l0 = logged();
  const inline = await api.call('PATCH', Z('gsmall'), { body: { changes: tail } });
  assert.equal(logged(), l0 + 1);
  const body = inThread({ changes: tail });
  assert.ok(size(body) > 16 * 1024);
  const thread = await api.call('PATCH', Z('glarge'), { body });
  assert.equal(thread.status, 200, thread.text);
  assert.equal(inline.status, 200, inline.text);
  assert.equal(logged(), l0 + 2, 'the thread\'s warning is logged as the inline one');
  type Out = { rrsets: Array<{ owner: string }>; warnings?: unknown };
  const mine = (r: Res) => (r.body as Out).rrsets.filter((s) => owners.includes(s.owner));
  assert.deepEqual(mine(thread), mine(inline));
  assert.deepEqual(mine(thread).find((s) => s.owner === 'g2'), { owner: 'g2', type: 'AAAA', ttl: 300, records: ['2001:db8::1'], health_checks: { '2001:db8::1': 'db' } });
  assert.deepEqual((thread.body as Out).warnings, (inline.body as Out).warnings);
  assert.deepEqual((thread.body as Out).warnings, [{ code: 'gated_ttl_long',
    message: 'g2/AAAA is health-gated with a TTL of 300 s: resolvers may hand out a record up to 300 s after its check went down; 60 s or less is advised' }]);
  const stored = await gatedRows('glarge', owners);
  assert.deepEqual(stored, await gatedRows('gsmall', owners));
  assert.deepEqual(stored, [
    'g1 1 30 192.0.2.1 web', 'g1 1 30 192.0.2.2 -', 'g2 28 300 2001:db8::1 db',
    'keep 1 30 192.0.2.10 web', 'keep 1 30 192.0.2.11 -',
    'move 1 30 192.0.2.20 db', 'plain 1 600 192.0.2.30 -', 'ungate 1 30 192.0.2.20 -',
  ]);
  const keep = await api.call('GET', `${Z('glarge')}/keep/A`);
  assert.deepEqual((keep.body as { health_checks?: unknown }).health_checks, { '192.0.2.10': 'web' });
  // A large batch that names no check leaves every gate in place.
  const plain = await api.call('PATCH', Z('glarge'), { body: txt(1000) });
  assert.equal(plain.status, 200, plain.text);
  assert.equal((plain.body as Out).warnings, undefined);
  assert.deepEqual(await gatedRows('glarge', owners), stored);
});

test('a large batch naming a check the tenant lacks: 422 unknown_health_check as inline, nothing written', async () => {
  // A check of another tenant is no check of this one.
  const third = await api.tenant('third');
  assert.equal((await api.call('POST', '/v1/health-checks', { token: third, body: { name: 'theirs', kind: 'passive', max_age: 60 } })).status, 201);
  const tail: Gated[] = [
    { owner: 'u1', type: 'A', ttl: 30, records: ['192.0.2.1'], health_checks: { '192.0.2.1': 'nosuch' } },
    { owner: 'u2', type: 'A', ttl: 30, records: ['192.0.2.2', '192.0.2.3'], health_checks: { '192.0.2.2': 'web', '192.0.2.3': 'theirs' } },
  ];
  const before = await rows('glarge');
  const v = await version('glarge');
  const inline = await api.call('PATCH', Z('gsmall'), { body: { changes: tail } });
  const thread = await api.call('PATCH', Z('glarge'), { body: inThread({ changes: tail }) });
  for (const r of [inline, thread]) {
    assert.equal(r.status, 422, r.text);
    assert.equal(errorOf(r).error, 'unknown_health_check');
  }
  assert.equal(errorOf(thread).message, errorOf(inline).message);
  assert.deepEqual(normPaths(thread), normPaths(inline));
  assert.deepEqual(errorOf(thread).details.map((d) => d.path), ['changes[1000].health_checks.192.0.2.1', 'changes[1001].health_checks.192.0.2.3']);
  // A key that is none of the RRset's records: 422 naming it, from the thread's validation.
  const notMine: Gated[] = [{ owner: 'u3', type: 'A', ttl: 30, records: ['192.0.2.1'], health_checks: { '192.0.2.9': 'web' } }];
  const a = await api.call('PATCH', Z('gsmall'), { body: { changes: notMine } });
  const b = await api.call('PATCH', Z('glarge'), { body: inThread({ changes: notMine }) });
  assert.equal(b.status, 422, b.text);
  assert.deepEqual(normPaths(b), normPaths(a));
  assert.equal(errorOf(b).details[0].path, 'changes[1000].health_checks.192.0.2.9');
  assert.deepEqual(await rows('glarge'), before);
  assert.equal(await version('glarge'), v);
});
