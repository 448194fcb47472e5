// Zones that include zones through the native API: includes on create and update, shown on GET;
// missing zones, other tenants' zones and cycles (direct, through a chain, self, twice) refused
// with their own codes and nothing changed; deleting an included zone refused; the effective
// RRsets and the effective zone file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startApi, errorOf, apexSets } from '../api/helpers.js';

const api = await startApi();
const tok = await api.tenant('inc');
const other = await api.tenant('inc-other');

interface ZoneOut { name: string; version: number; includes: string[] }
interface RRsetOut { owner: string; type: string; ttl: number; records: string[]; zone?: string }

/** A zone with `rrsets`: created with them when they hold an apex, else created empty and filled
 *  by PATCH (a zone no domain serves may lack an apex: a base zone of common records). */
const make = async (name: string, rrsets: Array<{ owner: string; type: string; ttl: number; records: string[] }>, includes?: string[], token = tok) => {
  const apex = rrsets.some((s) => s.owner === '@' && s.type === 'SOA');
  const r = await api.call('POST', '/v1/zones', { token, body: { name, ...(apex ? { rrsets } : {}), ...(includes ? { includes } : {}) } });
  assert.equal(r.status, 201, r.text);
  if (!apex && rrsets.length) {
    const p = await api.call('PATCH', `/v1/zones/${name}/rrsets`, { token, body: { changes: rrsets } });
    assert.equal(p.status, 200, p.text);
  }
  return r.body as ZoneOut;
};
const includesOf = async (name: string) => ((await api.call('GET', `/v1/zones/${name}`, { token: tok })).body as ZoneOut).includes;
const patch = (name: string, body: unknown) => api.call('PATCH', `/v1/zones/${name}`, { token: tok, body });
/** Everything a refused include change could have moved. */
const state = async () => (await api.db.pool.query(
  `SELECT (SELECT json_agg(json_build_array(zone_id, position, included_id) ORDER BY zone_id, position) FROM zone_includes) AS inc,
          (SELECT json_agg(json_build_array(id, serial) ORDER BY id) FROM zones) AS serials,
          (SELECT count(*)::int FROM zone_history) AS history, (SELECT count(*)::int FROM journal) AS journal`)).rows[0];

await make('base', [
  { owner: '@', type: 'MX', ttl: 3600, records: ['10 mail'] },
  { owner: 'mail', type: 'A', ttl: 300, records: ['198.51.100.25'] },
  { owner: 'www', type: 'A', ttl: 300, records: ['198.51.100.80'] },
  { owner: '@', type: 'TXT', ttl: 300, records: ['"v=spf1 mx -all"'] },
]);
await make('extra', [
  { owner: 'www', type: 'A', ttl: 300, records: ['203.0.113.80'] },
  { owner: 'ftp', type: 'CNAME', ttl: 300, records: ['www'] },
]);

test('includes on create, shown on GET and in listings, replaced and cleared by PATCH', async () => {
  const z = await make('site', [...apexSets(), { owner: 'www', type: 'A', ttl: 60, records: ['192.0.2.80'] }], ['base', 'extra']);
  assert.deepEqual(z.includes, ['base', 'extra']);
  assert.deepEqual(await includesOf('site'), ['base', 'extra']);
  const list = (await api.call('GET', '/v1/zones', { token: tok })).body as { zones: ZoneOut[] };
  assert.deepEqual(list.zones.find((x) => x.name === 'base')?.includes, []);
  const p = await patch('site', { includes: ['extra', 'base'] });
  assert.equal(p.status, 200, p.text);
  assert.deepEqual((p.body as ZoneOut).includes, ['extra', 'base']);
  assert.equal((await patch('site', { includes: [] })).status, 200);
  assert.deepEqual(await includesOf('site'), []);
  assert.equal((await patch('site', { includes: ['base', 'extra'] })).status, 200);
  // Rename and includes in one PATCH; the include list follows the zone, not its name.
  assert.equal((await patch('base', { name: 'common' })).status, 200);
  assert.deepEqual(await includesOf('site'), ['common', 'extra']);
  assert.equal((await patch('common', { name: 'base' })).status, 200);
});

test('effective RRsets: the zone\'s own override, the first include wins, each with its zone', async () => {
  const own = (await api.call('GET', '/v1/zones/site/rrsets', { token: tok })).body as { rrsets: RRsetOut[] };
  assert.equal(own.rrsets.some((s) => s.owner === 'mail'), false, 'the plain listing is the zone\'s own');
  const r = await api.call('GET', '/v1/zones/site/rrsets?effective=true', { token: tok });
  assert.equal(r.status, 200, r.text);
  const sets = (r.body as { rrsets: RRsetOut[] }).rrsets;
  const at = (owner: string, type: string) => sets.find((s) => s.owner === owner && s.type === type);
  assert.deepEqual(at('www', 'A'), { owner: 'www', type: 'A', ttl: 60, records: ['192.0.2.80'], zone: 'site' }, 'own RRset overrides both includes');
  assert.deepEqual(at('mail', 'A')?.zone, 'base');
  assert.deepEqual(at('@', 'MX')?.records, ['10 mail']);
  assert.deepEqual(at('ftp', 'CNAME')?.zone, 'extra');
  assert.equal(at('@', 'SOA')?.zone, 'site');
  // Order: with extra first, extra's www would win over base's (the zone's own still wins).
  await patch('site', { includes: ['extra', 'base'] });
  const www = async () => ((await api.call('GET', '/v1/zones/site/rrsets?effective=true&owner=www', { token: tok })).body as { rrsets: RRsetOut[] }).rrsets;
  assert.deepEqual((await www()).map((s) => s.records), [['192.0.2.80']]);
  await api.call('DELETE', '/v1/zones/site/rrsets/www/A', { token: tok });
  assert.deepEqual((await www()).map((s) => [s.zone, s.records]), [['extra', ['203.0.113.80']]], 'first include wins');
  await patch('site', { includes: ['base', 'extra'] });
  assert.deepEqual((await www()).map((s) => [s.zone, s.records]), [['base', ['198.51.100.80']]]);
});

test('chains flatten: a zone including a zone that includes another serves all three', async () => {
  await make('mid', [{ owner: 'mid', type: 'TXT', ttl: 300, records: ['"mid"'] }], ['base']);
  await make('top', apexSets(), ['mid']);
  const sets = ((await api.call('GET', '/v1/zones/top/rrsets?effective=true', { token: tok })).body as { rrsets: RRsetOut[] }).rrsets;
  assert.deepEqual(sets.filter((s) => s.zone !== 'top').map((s) => `${s.owner} ${s.type} ${s.zone}`).sort(),
    ['@ MX base', '@ TXT base', 'mail A base', 'mid TXT mid', 'www A base']);
  const file = await api.call('GET', '/v1/zones/top/file?effective=true', { token: tok });
  assert.equal(file.status, 200);
  assert.match(file.text, /^mail\t300\tIN\tA\t198\.51\.100\.25$/m);
  assert.doesNotMatch((await api.call('GET', '/v1/zones/top/file', { token: tok })).text, /198\.51\.100\.25/, 'the plain file is the zone\'s own');
});

test('missing zones, other tenants\' zones and cycles are refused, and nothing changes', async () => {
  const cases: Array<[string, () => Promise<{ status: number; body: unknown; text: string }>, number, string, string]> = [
    ['missing', () => patch('site', { includes: ['base', 'nope'] }), 422, 'include_not_found', 'includes[1]'],
    ['another tenant\'s', async () => { await make('theirs', [], undefined, other); return patch('site', { includes: ['theirs'] }); }, 422, 'include_not_found', 'includes[0]'],
    ['itself', () => patch('site', { includes: ['site'] }), 422, 'include_cycle', 'includes[0]'],
    ['twice', () => patch('site', { includes: ['base', 'base'] }), 422, 'include_cycle', 'includes[1]'],
    ['direct cycle', () => patch('base', { includes: ['mid'] }), 422, 'include_cycle', 'includes[0]'],
    ['cycle through a chain', () => patch('base', { includes: ['top'] }), 422, 'include_cycle', 'includes[0]'],
    ['missing on create', () => api.call('POST', '/v1/zones', { token: tok, body: { name: 'new1', includes: ['nope'] } }), 422, 'include_not_found', 'includes[0]'],
  ];
  for (const [what, run, status, code, path] of cases) {
    const before = await state();
    const r = await run();
    assert.equal(r.status, status, `${what}: ${r.text}`);
    assert.equal(errorOf(r as never).error, code, what);
    assert.equal(errorOf(r as never).details[0].path, path, what);
    if (what !== 'another tenant\'s') assert.deepEqual(await state(), before, `${what}: nothing changed`);
  }
  assert.match(errorOf(await patch('base', { includes: ['top'] }) as never).message, /top -> mid -> base/);
  assert.equal((await api.call('GET', '/v1/zones/new1', { token: tok })).status, 404, 'the refused create made no zone');
});

test('the database refuses a cycle too (plain SQL, a race past the API)', async () => {
  const id = async (n: string) => (await api.db.pool.query<{ id: number }>("SELECT id FROM zones WHERE name = $1", [n])).rows[0].id;
  const [base, top] = [await id('base'), await id('top')];
  await assert.rejects(api.db.pool.query("INSERT INTO zone_includes (zone_id, tenant_id, position, included_id) SELECT $1, tenant_id, 0, $2 FROM zones WHERE id = $1", [base, top]),
    /include itself/);
});

test('deleting an included zone is refused while it is included', async () => {
  const before = await state();
  const r = await api.call('DELETE', '/v1/zones/base', { token: tok });
  assert.equal(r.status, 409, r.text);
  assert.equal(errorOf(r).error, 'zone_included');
  assert.deepEqual(errorOf(r).details.map((d) => d.path), ['mid', 'site']);
  assert.deepEqual(await state(), before);
  // The database refuses it as well (the foreign key; errors.ts maps it to zone_included).
  await assert.rejects(api.db.pool.query("DELETE FROM zones WHERE name = 'base'"), /zone_includes_included_fkey/);
  // Out of every list, it goes; an including zone can always go.
  assert.equal((await api.call('DELETE', '/v1/zones/top', { token: tok })).status, 204);
  assert.equal((await patch('mid', { includes: [] })).status, 200);
  assert.equal((await patch('site', { includes: ['extra'] })).status, 200);
  assert.equal((await api.call('DELETE', '/v1/zones/base', { token: tok })).status, 204);
});
