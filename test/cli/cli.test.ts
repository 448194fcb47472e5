// The `glidepath` command as operators script it: real processes (node bin/glidepath.js) on a real
// database. Every verb's --help; usage errors; migrate from an empty database and again; import and
// export round-trip both ways; a bad line names FILE:LINE and changes nothing; delegation-only;
// token create; and the errors an operator meets first (database unreachable, port in use, data
// directory not writable) are one line and a non-zero exit.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import net from 'node:net';
import { mkdtempSync, rmSync, writeFileSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { freshDatabase } from '../helpers/db.js';
import { query } from '../helpers/dig.js';
import { parseZoneFile } from '../../src/zonefile/parse.js';
import { toStored } from '../../src/store/zone-file-io.js';
import { parseAbsoluteName } from '../../src/dns/name.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const BIN = join(ROOT, 'bin/glidepath.js');
const ZONES = new URL('../../../test/conformance/zones/', import.meta.url);
const SHOP = fileURLToPath(new URL('shop.example.zone', ZONES));
const REGISTRY = fileURLToPath(new URL('registry.zone', ZONES));

const db = await freshDatabase();
after(() => db.drop());
const dir = mkdtempSync(join(tmpdir(), 'glidepath-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

// ---- running the command ------------------------------------------------------------------------

interface Ran { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }
const children = new Set<ChildProcess>();
after(() => { for (const c of children) c.kill('SIGKILL'); });

/** The environment of a child: nothing of ours leaks in (no DATABASE_URL or GLIDEPATH_* from the
 *  runner), the data directory is a scratch one, the API is off unless a test wants it. */
function childEnv(env: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (k !== 'DATABASE_URL' && !k.startsWith('GLIDEPATH_')) out[k] = v;
  Object.assign(out, {
    DATABASE_URL: db.url, GLIDEPATH_LOG_LEVEL: 'silent', GLIDEPATH_API: 'off',
    GLIDEPATH_DATA_DIR: join(dir, 'data-default'),
  }, env);
  for (const k of Object.keys(out)) if (out[k] === undefined) delete out[k];
  return out;
}

function start(args: string[], env: Record<string, string | undefined> = {}): ChildProcess {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  child.on('close', () => children.delete(child));
  return child;
}

/** Runs `glidepath ARGS` to completion; a child that hangs is killed after `timeoutMs` (and the
 *  test then fails on its exit code). */
function glidepath(args: string[], env: Record<string, string | undefined> = {}, timeoutMs = 30_000): Promise<Ran> {
  return new Promise((resolve) => {
    const child = start(args, env);
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
    child.stderr!.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code, signal) => { clearTimeout(timer); resolve({ code, signal, stdout, stderr }); });
  });
}

/** An operator error: a non-zero exit and exactly one line on stderr, starting "glidepath: ". */
function oneLineError(r: Ran, code?: number): string {
  assert.equal(r.signal, null, `killed (${r.signal}): it hung`);
  if (code === undefined) assert.ok(r.code !== 0 && r.code !== null, `exit code ${r.code}`);
  else assert.equal(r.code, code, `exit code; stderr: ${r.stderr}`);
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  assert.equal(lines.length, 1, `one line on stderr, got:\n${r.stderr}`);
  assert.match(lines[0], /^glidepath: /);
  assert.doesNotMatch(lines[0], /\n|^\s+at /, 'no stack trace');
  return lines[0];
}

function ok(r: Ran): Ran {
  assert.equal(r.code, 0, `exit ${r.code} (${r.signal}); stderr: ${r.stderr}`);
  return r;
}

// ---- the database, as the tests read it ------------------------------------------------------------

type Row = { owner: string; type: number; ttl: number; rdata: string };
const domainRows = async (domain: string): Promise<Row[]> => (await db.pool.query<Row>(
  `SELECT owner, type, ttl, rdata FROM records r JOIN domains d ON d.zone_id = r.zone_id
    WHERE d.name = $1 ORDER BY owner, type, rdata, ttl`, [domain])).rows;
const allRecords = async () => (await db.pool.query('SELECT id, zone_id, owner, type, ttl, rdata FROM records ORDER BY id')).rows;
const journalSeq = async () => Number((await db.pool.query('SELECT coalesce(max(seq), 0) AS s FROM journal')).rows[0].s);
const everything = async () => ({
  records: await allRecords(),
  zones: (await db.pool.query('SELECT id, tenant_id, name, version FROM zones ORDER BY id')).rows,
  domains: (await db.pool.query('SELECT name, tenant_id, zone_id, d.serial, delegation_only FROM domains d ORDER BY name')).rows,
  tenants: (await db.pool.query('SELECT id, name FROM tenants ORDER BY id')).rows,
  journal: await journalSeq(),
});

/** What the parser makes of a file, in stored form and the same order as domainRows(). */
function expectedRows(text: string, origin: string): Row[] {
  return toStored(parseZoneFile(text, { origin: parseAbsoluteName(origin) }))
    .sort((a, b) => (a.owner < b.owner ? -1 : a.owner > b.owner ? 1 : a.type - b.type || (a.rdata < b.rdata ? -1 : a.rdata > b.rdata ? 1 : a.ttl - b.ttl)));
}

function write(name: string, text: string): string {
  const f = join(dir, name);
  writeFileSync(f, text);
  return f;
}

// ---- help and usage ---------------------------------------------------------------------------------

test('--help of every verb exits 0, needs no database, and names the verb\'s flags', async () => {
  const nowhere = { DATABASE_URL: 'postgres://x:y@127.0.0.1:1/db' };
  const want: Record<string, RegExp[]> = {
    serve: [/glidepath serve/, /GLIDEPATH_DNS/, /GLIDEPATH_API/, /DATABASE_URL/, /GLIDEPATH_DATA_DIR/],
    migrate: [/glidepath migrate/],
    import: [/glidepath import FILE/, /--domain NAME/, /--zone ZONE/, /--tenant NAME/, /--delegation-only/],
    export: [/glidepath export DOMAIN/],
    token: [/glidepath token create/, /--tenant NAME/, /--admin/],
    reload: [/glidepath reload/, /GLIDEPATH_CONTROL_SOCKET/, /SIGHUP/],
    restart: [/glidepath restart/, /GLIDEPATH_CONTROL_SOCKET/],
  };
  await Promise.all(Object.entries(want).map(async ([verb, res]) => {
    for (const flag of ['--help', '-h']) {
      const r = ok(await glidepath(verb === 'token' ? ['token', 'create', flag] : [verb, flag], nowhere));
      for (const re of res) assert.match(r.stdout, re, `${verb} ${flag}`);
      assert.equal(r.stderr, '', `${verb} ${flag}`);
    }
  }));
  const main = ok(await glidepath(['--help'], nowhere));
  for (const verb of ['serve', 'restart', 'reload', 'migrate', 'import FILE', 'export DOMAIN', 'token create']) assert.match(main.stdout, new RegExp(`\\n  ${verb} `));
  assert.match((await glidepath(['help'], nowhere)).stdout, /Usage: glidepath <command>/);
});

test('an unknown flag is exit 2 and one line naming it, for every verb, before any database work', async () => {
  const nowhere = { DATABASE_URL: 'postgres://x:y@127.0.0.1:1/db' };
  const cases: string[][] = [
    ['serve', '--frobnicate'], ['migrate', '--frobnicate'], ['import', SHOP, '--frobnicate'],
    ['export', 'shop.example', '--frobnicate'], ['token', 'create', '--tenant', 'x', '--frobnicate'],
  ];
  await Promise.all(cases.map(async (args) => {
    const line = oneLineError(await glidepath(args, nowhere), 2);
    assert.match(line, /--frobnicate/, args.join(' '));
    assert.match(line, new RegExp(`^glidepath: ${args[0]}: `), 'names the verb');
    assert.doesNotMatch(line, /PostgreSQL/, 'fails before connecting');
  }));
  assert.match(oneLineError(await glidepath(['import', SHOP, '-x'], nowhere), 2), /'-x'/);
});

test('other usage errors: exit 2, one line, saying what is missing', async () => {
  const nowhere = { DATABASE_URL: 'postgres://x:y@127.0.0.1:1/db' };
  const [noVerb, badVerb, noFile, twoFiles, noDomain, tokenWhat, tokenNeither, tokenBoth, tokenSub, missingFile, noValue] = await Promise.all([
    glidepath([], nowhere), glidepath(['frobnicate'], nowhere), glidepath(['import'], nowhere),
    glidepath(['import', 'a', 'b'], nowhere), glidepath(['export'], nowhere), glidepath(['token'], nowhere),
    glidepath(['token', 'create'], nowhere), glidepath(['token', 'create', '--admin', '--tenant', 'x'], nowhere),
    glidepath(['token', 'delete', '--admin'], nowhere), glidepath(['import', join(dir, 'no-such.zone')], nowhere),
    glidepath(['import', SHOP, '--domain'], nowhere),
  ]);
  assert.equal(noVerb.code, 2);
  assert.match(noVerb.stdout, /Usage: glidepath <command>/);
  assert.match(oneLineError(badVerb, 2), /unknown command "frobnicate"/);
  assert.match(oneLineError(noFile, 2), /import: expected 1 argument, got 0/);
  assert.match(oneLineError(twoFiles, 2), /import: expected 1 argument, got 2/);
  assert.match(oneLineError(noDomain, 2), /export: expected 1 argument, got 0/);
  assert.match(oneLineError(tokenWhat, 2), /token: expected 1 argument/);
  assert.match(oneLineError(tokenNeither, 2), /exactly one of --tenant NAME or --admin/);
  assert.match(oneLineError(tokenBoth, 2), /exactly one of --tenant NAME or --admin/);
  assert.match(oneLineError(tokenSub, 2), /unknown subcommand "delete"/);
  assert.match(oneLineError(missingFile, 1), /no-such\.zone: no such file/, 'a missing file is exit 1: the usage was right');
  assert.match(oneLineError(noValue, 2), /--domain/);
});

// ---- migrate ----------------------------------------------------------------------------------------

test('migrate on an empty database applies every migration, and a second run applies nothing (exit 0 twice)', async () => {
  const admin = process.env.GLIDEPATH_TEST_ADMIN_URL!;
  const name = 'cli_empty_' + randomBytes(4).toString('hex');
  const c = new pg.Client({ connectionString: admin });
  await c.connect();
  await c.query(`CREATE DATABASE ${name}`);
  await c.end();
  after(async () => {
    const a = new pg.Client({ connectionString: admin });
    await a.connect();
    await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await a.end();
  });
  const u = new URL(admin);
  u.pathname = '/' + name;
  const files = readdirSync(join(ROOT, 'migrations')).filter((f) => /^\d+_.*\.sql$/.test(f)).sort();
  assert.ok(files.length >= 1);
  // Before any migration: export is one clean line (no stack, no "relation ... does not exist"), exit 1.
  assert.equal(oneLineError(await glidepath(['export', 'shop.example'], { DATABASE_URL: u.toString() }), 1),
    'glidepath: the database has no Glidepath tables yet (run "glidepath migrate", or "glidepath serve" which migrates at start)');
  const first = ok(await glidepath(['migrate'], { DATABASE_URL: u.toString() }));
  assert.equal(first.stdout, `applied: ${files.join(', ')}\n`);
  const second = ok(await glidepath(['migrate'], { DATABASE_URL: u.toString() }));
  assert.equal(second.stdout, 'up to date\n');
  const p = new pg.Client({ connectionString: u.toString() });
  await p.connect();
  try {
    assert.deepEqual((await p.query('SELECT name FROM schema_migrations ORDER BY name')).rows.map((r) => r.name), files);
    assert.equal((await p.query("SELECT to_regclass('public.records') IS NOT NULL AS ok")).rows[0].ok, true);
  } finally { await p.end(); }
  // The suite's own database (already migrated from the template): also nothing to do.
  assert.equal(ok(await glidepath(['migrate'])).stdout, 'up to date\n');
});

// ---- import and export -----------------------------------------------------------------------------

test('import stores exactly the parsed records, with a domain pointing at the zone', async () => {
  const r = ok(await glidepath(['import', SHOP]));
  const text = readFileSync(SHOP, 'utf8');
  const want = expectedRows(text, 'shop.example.');
  assert.equal(r.stdout, `imported ${want.length} records into zone shop.example for shop.example. (serial 2026010101)\n`);
  assert.deepEqual(await domainRows('shop.example.'), want);
  // A few by hand: relative names, the apex as "@", TTLs from $TTL and from the record.
  const rows = await domainRows('shop.example.');
  const has = (o: string, t: number, ttl: number, rdata: string) =>
    assert.ok(rows.some((x) => x.owner === o && x.type === t && x.ttl === ttl && x.rdata === rdata), `${o} ${t} ${ttl} ${rdata}`);
  has('www', 5, 1800, '@');
  has('@', 15, 1800, '5 mx1');
  has('@', 15, 1800, '15 mx2.mailhost.example.');
  has('api-pool', 1, 120, '198.51.100.82');
  has('*.pages', 5, 300, 'pages-host');
  has('@', 6, 1800, 'ns1.hoster.example. dns.hoster.example. 2026010101 10800 3600 604800 600');
  const d = (await db.pool.query(
    `SELECT z.name AS zone, t.name AS tenant, d.delegation_only, d.serial FROM domains d JOIN zones z ON z.id = d.zone_id
      JOIN tenants t ON t.id = d.tenant_id WHERE d.name = 'shop.example.'`)).rows[0];
  assert.deepEqual(d, { zone: 'shop.example', tenant: 'default', delegation_only: false, serial: 2026010101 });
});

test('file -> db -> file -> db: the same records; db -> file -> db -> file: the same text', async () => {
  ok(await glidepath(['import', SHOP]));
  const imported = await domainRows('shop.example.');
  const exported = ok(await glidepath(['export', 'shop.example']));
  assert.match(exported.stdout, /^\$ORIGIN shop\.example\.\n@\t1800\tIN\tSOA\tns1\.hoster\.example\. dns\.hoster\.example\. 2026010101 /);
  const file = write('shop.exported.zone', exported.stdout);
  const ids = (await allRecords()).map((r) => r.id);
  const serial = async () => Number((await db.pool.query("SELECT d.serial FROM domains d WHERE name = 'shop.example.'")).rows[0].serial);
  const serialBefore = await serial();
  ok(await glidepath(['import', file]));
  assert.deepEqual(await domainRows('shop.example.'), imported, 'file -> db -> file -> db: same records');
  assert.deepEqual((await allRecords()).map((r) => r.id), ids, 'not even rewritten');
  assert.equal(await serial(), serialBefore, 'and the serial stays');
  const again = ok(await glidepath(['export', 'shop.example.']));
  assert.equal(again.stdout, exported.stdout, 'db -> file -> db -> file: same text');
  assert.equal(ok(await glidepath(['export', 'SHOP.Example.'])).stdout.toLowerCase(), exported.stdout.toLowerCase(), 'domain names are case-insensitive');
});

test('after a change that moves the serial past the SOA\'s, export -> import -> export still gives the same text', async () => {
  // Same SOA serial, one more record: the domain serial goes one past the file's SOA serial.
  const changed = write('shop.changed.zone', readFileSync(SHOP, 'utf8') + 'added 60 IN TXT "one more"\n');
  ok(await glidepath(['import', changed]));
  const serial = Number((await db.pool.query("SELECT d.serial FROM domains d WHERE name = 'shop.example.'")).rows[0].serial);
  assert.equal(serial, 2026010102);
  const first = ok(await glidepath(['export', 'shop.example'])).stdout;
  assert.match(first, /\tSOA\t\S+ \S+ 2026010102 /, 'export shows the serial the domain serves');
  const rows = await domainRows('shop.example.');
  ok(await glidepath(['import', write('shop.changed.exported.zone', first)]));
  assert.deepEqual(await domainRows('shop.example.'), rows, 'db -> file -> db: the same records');
  const second = ok(await glidepath(['export', 'shop.example'])).stdout;
  assert.equal(second, first, 'db -> file -> db -> file: the same text, serial included');
  // An edit to that export is one change: the serial goes up by one, not two.
  ok(await glidepath(['import', write('shop.changed.edited.zone', first + 'edited\t60\tIN\tA\t192.0.2.7\n')]));
  assert.match(ok(await glidepath(['export', 'shop.example'])).stdout, /\tSOA\t\S+ \S+ 2026010103 /);
});

test('import replaces what was there, and --domain, --zone and --tenant say where it goes', async () => {
  const text = '$TTL 300\n@ SOA ns1 hostmaster 7 3600 600 86400 300\n  NS ns1\nns1 A 192.0.2.53\nwww A 192.0.2.80\n';
  const f = write('alt.zone', text);
  const r = ok(await glidepath(['import', f, '--domain', 'alt.example', '--zone', 'alt-zone', '--tenant', 'acme']));
  assert.equal(r.stdout, 'imported 4 records into zone alt-zone for alt.example. (serial 7)\n');
  assert.deepEqual(await domainRows('alt.example.'), expectedRows(text, 'alt.example.'));
  const d = (await db.pool.query(
    `SELECT z.name AS zone, tz.name AS zone_tenant, t.name AS tenant FROM domains d JOIN zones z ON z.id = d.zone_id
      JOIN tenants t ON t.id = d.tenant_id JOIN tenants tz ON tz.id = z.tenant_id WHERE d.name = 'alt.example.'`)).rows;
  assert.deepEqual(d, [{ zone: 'alt-zone', zone_tenant: 'acme', tenant: 'acme' }]);
  const out = ok(await glidepath(['export', 'alt.example'])).stdout;
  assert.equal(out, '$ORIGIN alt.example.\n@\t300\tIN\tSOA\tns1 hostmaster 7 3600 600 86400 300\n@\t300\tIN\tNS\tns1\nns1\t300\tIN\tA\t192.0.2.53\nwww\t300\tIN\tA\t192.0.2.80\n');

  // A smaller file replaces everything: www is gone, mail is new.
  const smaller = '$TTL 300\n@ SOA ns1 hostmaster 8 3600 600 86400 300\n  NS ns1\nns1 A 192.0.2.53\nmail A 192.0.2.25\n';
  ok(await glidepath(['import', write('alt2.zone', smaller), '--domain', 'alt.example', '--zone', 'alt-zone', '--tenant', 'acme']));
  assert.deepEqual(await domainRows('alt.example.'), expectedRows(smaller, 'alt.example.'));
  assert.equal((await db.pool.query("SELECT count(*)::int AS n FROM zones WHERE name = 'alt-zone'")).rows[0].n, 1, 'the same zone, replaced');

  // Another tenant cannot take the domain over.
  const before = await everything();
  const line = oneLineError(await glidepath(['import', f, '--domain', 'alt.example', '--zone', 'alt-zone', '--tenant', 'other']), 1);
  assert.match(line, /alt\.example\. belongs to another tenant/);
  assert.deepEqual(await everything(), before);
});

test('a bad line fails the whole import with FILE:LINE and changes nothing', async () => {
  ok(await glidepath(['import', SHOP]));
  const lines = readFileSync(SHOP, 'utf8').split('\n');
  const at = lines.findIndex((l) => l.startsWith('mx1 '));
  assert.ok(at > 5);
  lines[at] = lines[at].replace(/198\.51\.100\.25/, '198.51.100.300');
  lines.splice(3, 0, 'added-first 300 IN A 192.0.2.1'); // a good record before the bad one...
  lines.push('added-last 300 IN A 192.0.2.2'); // ...and after it
  const bad = write('bad.zone', lines.join('\n'));
  const before = await everything();
  const line = oneLineError(await glidepath(['import', bad]), 1);
  assert.equal(line, `glidepath: ${bad}:${at + 2}: A: "198.51.100.300" is not an IPv4 address`);
  assert.deepEqual(await everything(), before, 'records, zones, domains, tenants and journal unchanged');
});

test('an error inside a multi-line record names the line the record starts on; a new domain and tenant are not created', async () => {
  const text = '$ORIGIN fresh.example.\n$TTL 60\n; comment\n@ SOA ns1 hostmaster (\n  1 ; serial\n  2h 1h oops 5m )\n  NS ns1\nns1 A 192.0.2.1\n';
  const bad = write('fresh.zone', text);
  const before = await everything();
  const line = oneLineError(await glidepath(['import', bad, '--tenant', 'newcomer']), 1);
  assert.match(line, new RegExp(`^glidepath: ${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:4: .*oops`));
  assert.deepEqual(await everything(), before, 'no tenant, zone or domain appeared');
});

test('a zone-level problem (CNAME beside other data, no SOA) fails the import naming the owner, and changes nothing', async () => {
  const before = await everything();
  const cname = write('cname.zone', '$ORIGIN c.example.\n$TTL 60\n@ SOA ns1 h 1 2 3 4 5\n NS ns1\nns1 A 192.0.2.1\nwww CNAME @\nwww TXT "x"\n');
  assert.match(oneLineError(await glidepath(['import', cname]), 1), /www\/CNAME: a CNAME must stand alone/);
  const nosoa = write('nosoa.zone', '$ORIGIN c.example.\n$TTL 60\n@ NS ns1\nns1 A 192.0.2.1\n');
  assert.match(oneLineError(await glidepath(['import', nosoa]), 1), /@\/SOA: the apex needs exactly one SOA/);
  assert.match(oneLineError(await glidepath(['export', 'c.example']), 1), /no domain c\.example\./);
  assert.deepEqual(await everything(), before);
});

test('--delegation-only: delegations, DS and name-server addresses go in; anything else below the apex is refused by name', async () => {
  const reg = ok(await glidepath(['import', REGISTRY, '--delegation-only']));
  assert.match(reg.stdout, /^imported \d+ records into zone registry for registry\. /);
  assert.deepEqual(await domainRows('registry.'), expectedRows(readFileSync(REGISTRY, 'utf8'), 'registry.'));
  assert.equal((await db.pool.query("SELECT delegation_only FROM domains WHERE name = 'registry.'")).rows[0].delegation_only, true);

  const good = '$ORIGIN tld.\n$TTL 3600\n@ SOA a.nic hostmaster 1 3600 600 86400 300\n  NS a.nic\na.nic A 192.0.2.1\n'
    + 'child NS ns.child\n  DS 12345 13 2 0123456789ABCDEF\nns.child A 192.0.2.53\n  AAAA 2001:db8::53\n';
  ok(await glidepath(['import', write('tld.zone', good), '--delegation-only']));
  const before = await everything();
  for (const [extra, named] of [
    ['www A 192.0.2.80\n', /www\/A: in a delegation-only domain an address below the apex must belong to a name server/],
    ['info TXT "hello"\n', /info\/TXT: a delegation-only domain holds only NS delegations/],
    ['orphan DS 1 13 2 AB\n', /orphan\/DS/],
    ['*.child A 192.0.2.9\n', /\*\.child: a delegation-only domain has no wildcards/],
  ] as const) {
    const f = write('tld-bad.zone', good + extra);
    const line = oneLineError(await glidepath(['import', f, '--delegation-only']), 1);
    assert.ok(line.startsWith(`glidepath: ${f}: `), line);
    assert.match(line, named);
    assert.deepEqual(await everything(), before, extra);
  }
  // The same file is fine for an ordinary domain: the flag is what refuses it.
  ok(await glidepath(['import', write('tld-www.zone', good + 'www A 192.0.2.80\n')]));
  assert.equal((await db.pool.query("SELECT delegation_only FROM domains WHERE name = 'tld.'")).rows[0].delegation_only, false);
});

// ---- tokens -----------------------------------------------------------------------------------------

test('token create prints a new token once; only its SHA-256 is stored, for the tenant or as admin', async () => {
  // A mistyped tenant is refused: no tenant, no token, unless --create-tenant says so.
  assert.match(oneLineError(await glidepath(['token', 'create', '--tenant', 'tok-tenant']), 1), /no tenant "tok-tenant" \(add --create-tenant to create it\)/);
  assert.equal((await db.pool.query("SELECT count(*)::int AS n FROM tenants WHERE name = 'tok-tenant'")).rows[0].n, 0);
  const a = ok(await glidepath(['token', 'create', '--tenant', 'tok-tenant', '--create-tenant']));
  const b = ok(await glidepath(['token', 'create', '--tenant', 'tok-tenant']));
  const admin = ok(await glidepath(['token', 'create', '--admin']));
  for (const r of [a, b, admin]) assert.match(r.stdout, /^gp_[A-Za-z0-9_-]{43}\n$/, 'the token and nothing else');
  const [ta, tb, tadmin] = [a, b, admin].map((r) => r.stdout.trim());
  assert.notEqual(ta, tb);
  const row = async (t: string) => (await db.pool.query(
    `SELECT t.name AS tenant, k.is_admin, k.revoked_at FROM api_tokens k LEFT JOIN tenants t ON t.id = k.tenant_id
      WHERE k.token_hash = $1`, [createHash('sha256').update(t, 'utf8').digest()])).rows;
  assert.deepEqual(await row(ta), [{ tenant: 'tok-tenant', is_admin: false, revoked_at: null }]);
  assert.deepEqual(await row(tb), [{ tenant: 'tok-tenant', is_admin: false, revoked_at: null }]);
  assert.deepEqual(await row(tadmin), [{ tenant: null, is_admin: true, revoked_at: null }]);
  const dump = JSON.stringify((await db.pool.query('SELECT * FROM api_tokens')).rows);
  for (const t of [ta, tb, tadmin]) assert.ok(!dump.includes(t) && !dump.includes(t.slice(3)), 'the token itself is not stored');
  assert.equal((await db.pool.query("SELECT count(*)::int AS n FROM tenants WHERE name = 'tok-tenant'")).rows[0].n, 1, 'tenant created once');
});

// ---- errors an operator meets first -----------------------------------------------------------------

test('settings are checked before anything starts: a bad log level or DATABASE_URL is one line naming it, exit 1', async () => {
  const loud = await glidepath(['export', 'a.example'], { GLIDEPATH_LOG_LEVEL: 'loud' });
  assert.equal(oneLineError(loud, 1), 'glidepath: GLIDEPATH_LOG_LEVEL: "loud" is not one of trace, debug, info, warn, error, fatal, silent');
  const serveLoud = await glidepath(['serve', '--workers', '0'], { GLIDEPATH_LOG_LEVEL: 'loud' });
  assert.match(oneLineError(serveLoud, 1), /GLIDEPATH_LOG_LEVEL: "loud"/);
  assert.equal(oneLineError(await glidepath(['export', 'a.example'], { DATABASE_URL: 'notaurl' }), 1),
    'glidepath: DATABASE_URL: not a URL (postgres://USER:PASSWORD@HOST:PORT/DATABASE)');
  assert.match(oneLineError(await glidepath(['migrate'], { DATABASE_URL: 'mysql://h/db' }), 1), /DATABASE_URL: scheme "mysql:" is not postgres/);
});

test('a DATABASE_URL that does not connect: one line naming the host and why, non-zero, for every verb', async () => {
  const closed = 'postgres://x:y@127.0.0.1:1/db';
  const runs = await Promise.all([
    glidepath(['migrate'], { DATABASE_URL: closed }),
    glidepath(['import', SHOP], { DATABASE_URL: closed }),
    glidepath(['export', 'shop.example'], { DATABASE_URL: closed }),
    glidepath(['token', 'create', '--admin'], { DATABASE_URL: closed }),
    glidepath(['serve'], { DATABASE_URL: closed, GLIDEPATH_DNS: '127.0.0.1:0', GLIDEPATH_LOG_LEVEL: 'info' }),
  ]);
  for (const r of runs) {
    assert.equal(oneLineError(r, 1), 'glidepath: cannot connect to PostgreSQL at 127.0.0.1:1/db: connect ECONNREFUSED 127.0.0.1:1');
  }
  // A server that is there but refuses the password: the host and the server's reason.
  const u = new URL(db.url);
  u.password = 'wrong-password';
  const line = oneLineError(await glidepath(['migrate'], { DATABASE_URL: u.toString() }), 1);
  assert.match(line, new RegExp(`cannot connect to PostgreSQL at ${u.hostname}:${u.port}${u.pathname}: .*password authentication failed`));
  assert.doesNotMatch(line, /wrong-password/, 'the password is not printed');
});

/** Binds UDP and/or TCP on one free port of 127.0.0.1 and keeps them until the suite ends. */
async function occupy(which: { udp: boolean; tcp: boolean }): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    const tcp = net.createServer();
    await new Promise<void>((res, rej) => { tcp.once('error', rej); tcp.listen(0, '127.0.0.1', () => res()); });
    const port = (tcp.address() as net.AddressInfo).port;
    if (!which.tcp) await new Promise<void>((res) => tcp.close(() => res()));
    else after(() => new Promise<void>((res) => tcp.close(() => res())));
    if (!which.udp) return port;
    const udp = dgram.createSocket('udp4');
    try {
      await new Promise<void>((res, rej) => { udp.once('error', rej); udp.bind(port, '127.0.0.1', () => res()); });
      after(() => new Promise<void>((res) => udp.close(() => res())));
      return port;
    } catch (err) {
      udp.close();
      if (attempt > 20) throw err;
    }
  }
}

test('serve on a DNS port already in use: one line naming the address and protocol, non-zero, no hang', async () => {
  const both = await occupy({ udp: true, tcp: true });
  const line = oneLineError(await glidepath(['serve'], { GLIDEPATH_DNS: `127.0.0.1:${both}`, GLIDEPATH_LOG_LEVEL: 'info' }, 20_000), 1);
  assert.equal(line, `glidepath: cannot listen on 127.0.0.1:${both}/udp: address already in use`);
  const tcpOnly = await occupy({ udp: false, tcp: true });
  const line2 = oneLineError(await glidepath(['serve'], { GLIDEPATH_DNS: `127.0.0.1:${tcpOnly}`, GLIDEPATH_LOG_LEVEL: 'info' }, 20_000), 1);
  assert.equal(line2, `glidepath: cannot listen on 127.0.0.1:${tcpOnly}/tcp: address already in use`);
  const api = await occupy({ udp: false, tcp: true });
  const line3 = oneLineError(await glidepath(['serve'], { GLIDEPATH_DNS: '127.0.0.1:0', GLIDEPATH_API: `127.0.0.1:${api}` }, 20_000), 1);
  assert.equal(line3, `glidepath: cannot listen on 127.0.0.1:${api}/tcp (API): address already in use`);
});

test('serve with no DATABASE_URL and a data directory that cannot be written: one line naming it, non-zero', async () => {
  const file = write('not-a-directory', 'x');
  const dataDir = join(file, 'data');
  const line = oneLineError(await glidepath(['serve'], {
    DATABASE_URL: undefined, GLIDEPATH_DATA_DIR: dataDir, GLIDEPATH_DNS: '127.0.0.1:0', GLIDEPATH_LOG_LEVEL: 'info',
  }, 20_000), 1);
  assert.ok(line.startsWith(`glidepath: data directory ${dataDir} is not writable: `), line);
  assert.match(line, /ENOTDIR|not a directory/);
  const m = oneLineError(await glidepath(['migrate'], { DATABASE_URL: undefined, GLIDEPATH_DATA_DIR: dataDir }, 20_000), 1);
  assert.ok(m.startsWith(`glidepath: data directory ${dataDir} is not writable: `), m);
});

test('a missing certificate file or --config file is one line naming it, exit 1', async () => {
  const cert = write('api-cert.pem', '-----BEGIN CERTIFICATE-----\nnot really\n-----END CERTIFICATE-----\n');
  const missing = join(dir, 'no-such-ca.pem');
  const line = oneLineError(await glidepath(['serve', '--workers', '1'], {
    GLIDEPATH_DNS: '127.0.0.1:0', GLIDEPATH_API: '127.0.0.1:0', GLIDEPATH_API_TLS_CERT: cert, GLIDEPATH_API_TLS_KEY: cert,
    GLIDEPATH_API_CLIENT_CA: missing,
  }, 20_000), 1);
  assert.equal(line, `glidepath: cannot read the API client CA file ${missing}: no such file`);
  const conf = join(dir, 'no-such.env');
  assert.equal(oneLineError(await glidepath(['serve', '--config', conf]), 1), `glidepath: --config ${conf}: no such file`);
  // A file that is not NAME=value lines is refused naming the file and line, not read as "no settings".
  const bad = write('bad.env', '# comment\nGLIDEPATH_LOG_LEVEL=info\nMULTI="a\nb"\n\nthis is not a config\n');
  assert.equal(oneLineError(await glidepath(['serve', '--config', bad]), 1), `glidepath: --config ${bad}:6: not a NAME=value line`);
});

test('a bad environment value is one line naming the variable, exit 1', async () => {
  assert.match(oneLineError(await glidepath(['serve'], { GLIDEPATH_DNS: '127.0.0.1:99999' }), 1), /GLIDEPATH_DNS: port in "127\.0\.0\.1:99999" is out of range/);
  assert.match(oneLineError(await glidepath(['serve'], { GLIDEPATH_RESPONSE_CACHE: 'maybe' }), 1), /GLIDEPATH_RESPONSE_CACHE: "maybe" must be on or off/);
  assert.match(oneLineError(await glidepath(['serve'], { GLIDEPATH_ROLE: 'replica' }), 1), /GLIDEPATH_ROLE: "replica" must be primary or edge/);
  assert.match(oneLineError(await glidepath(['serve'], { GLIDEPATH_ROLE: 'edge', DATABASE_URL: '' }), 1), /GLIDEPATH_ROLE=edge needs DATABASE_URL/);
  assert.match(oneLineError(await glidepath(['serve'], { GLIDEPATH_NODE_ID: 'two words' }), 1), /GLIDEPATH_NODE_ID: "two words" must be/);
});

test('serve answers from what import stored, takes a new log level from --config on SIGHUP, and stops cleanly (exit 0) on SIGTERM', async () => {
  ok(await glidepath(['import', SHOP]));
  const envFile = write('serve.env', 'GLIDEPATH_LOG_LEVEL=info\n');
  const child = start(['serve', '--workers', '2', '--config', envFile], { GLIDEPATH_DNS: '127.0.0.1:0', GLIDEPATH_LOG_LEVEL: 'warn' });
  let out = '';
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => { err += d; });
  const exited = new Promise<number | null>((res) => child.on('close', (code) => res(code)));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start in 20 s:\n${out}\n${err}`)), 20_000);
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      for (const l of out.split('\n')) {
        try {
          const o = JSON.parse(l) as { msg?: string; port?: number };
          if (o.msg === 'DNS listening (udp, tcp)' && o.port) { clearTimeout(timer); resolve(o.port); }
        } catch { /* a partial line */ }
      }
    });
    void exited.then((code) => { clearTimeout(timer); reject(new Error(`serve exited (${code}): ${err}`)); });
  });
  // The snapshot loads asynchronously after listening; ask until it answers.
  let answer: string[] = [];
  for (let i = 0; i < 50 && answer.length === 0; i++) {
    const r = await query(port, 'www.shop.example.', 'A', { timeoutMs: 500 }).catch(() => undefined);
    if (r?.rcode === 'NOERROR') answer = r.answer;
    else await new Promise((res) => setTimeout(res, 100));
  }
  assert.deepEqual(answer, ['www.shop.example. CNAME 1800 shop.example.', 'shop.example. A 1800 198.51.100.80']);
  // SIGHUP rereads the env file: the new log level reaches the primary and both workers (and TLS
  // material, none here, is reloaded); it must not stop the server.
  write('serve.env', 'GLIDEPATH_LOG_LEVEL=debug\n');
  child.kill('SIGHUP');
  const changed = () => out.split('\n').filter((l) => l.includes('"log level changed"') && l.includes('"logLevel":"debug"')).length;
  for (let i = 0; i < 50 && changed() < 3; i++) await new Promise((res) => setTimeout(res, 100));
  assert.equal(changed(), 3, `primary and two workers at debug after SIGHUP:\n${out}`);
  // A file that is not NAME=value lines: the reload is refused naming file and line; nothing changes.
  const envBefore = readFileSync(envFile, 'utf8');
  write('serve.env', 'GLIDEPATH_LOG_LEVEL=warn\nthis is not a config\n');
  child.kill('SIGHUP');
  const badLine = () => out.split('\n').some((l) => l.includes('reload refused: bad settings') && l.includes(`${envFile}:2: not a NAME=value line`));
  for (let i = 0; i < 50 && !badLine(); i++) await new Promise((res) => setTimeout(res, 100));
  assert.ok(badLine(), `the refusal names the file and line:\n${out}`);
  write('serve.env', envBefore);
  // A setting fixed at start (here the admin token) is refused loudly, and nothing changes.
  write('serve.env', 'GLIDEPATH_LOG_LEVEL=warn\nGLIDEPATH_ADMIN_TOKEN=rotated\n');
  child.kill('SIGHUP');
  const refused = () => out.split('\n').some((l) => l.includes('reload refused: these settings need a restart') && l.includes('GLIDEPATH_ADMIN_TOKEN'));
  for (let i = 0; i < 50 && !refused(); i++) await new Promise((res) => setTimeout(res, 100));
  assert.ok(refused(), `the refusal names the setting:\n${out}`);
  assert.ok(!out.includes('"logLevel":"warn"'), 'nothing of the refused file was applied');
  // `glidepath reload` is the same over the control socket, and says the outcome.
  const refusedAgain = await glidepath(['reload']);
  assert.equal(refusedAgain.code, 1, refusedAgain.stderr);
  assert.match(refusedAgain.stderr, /^glidepath: reload refused, nothing changed: these settings need a restart: GLIDEPATH_ADMIN_TOKEN\n$/);
  write('serve.env', 'GLIDEPATH_LOG_LEVEL=info\n');
  const reloaded = await glidepath(['reload']);
  assert.deepEqual([reloaded.code, reloaded.stdout, reloaded.stderr], [0, 'reloaded\n', '']);
  const atInfo = () => out.split('\n').filter((l) => l.includes('"log level changed"') && l.includes('"logLevel":"info"')).length;
  for (let i = 0; i < 50 && atInfo() < 3; i++) await new Promise((res) => setTimeout(res, 100));
  assert.equal(atInfo(), 3, `primary and two workers at info after glidepath reload:\n${out}`);
  // The primary's pid is logged and in DATA_DIR/glidepath.pid (not npm's: kill -HUP reaches it).
  const pidFile = join(dir, 'data-default', 'glidepath.pid');
  assert.equal(readFileSync(pidFile, 'utf8'), `${child.pid}\n`);
  assert.ok(out.split('\n').some((l) => l.includes(`"pid":${child.pid}`) && l.includes('primary pid written')), out);
  assert.equal(child.exitCode, null, `SIGHUP stopped the server: ${err}`);
  assert.equal((await query(port, 'shop.example.', 'SOA', { timeoutMs: 2000 })).rcode, 'NOERROR');
  child.kill('SIGTERM');
  assert.equal(await exited, 0, err);
  assert.equal(err, '');  assert.throws(() => statSync(join(dir, 'data-default', 'glidepath.pid')), /ENOENT/, 'pid file removed at a clean stop');
});

test('dnssec enable|show|disable: DS printed, key file created 0600 in the data directory, private key never printed; errors are one line', async () => {
  const data = join(dir, 'data-dnssec');
  const env = { GLIDEPATH_DATA_DIR: data };
  ok(await glidepath(['import', write('signed.zone', '$ORIGIN signed.example.\n@ 3600 SOA ns1 hostmaster 1 3600 600 86400 300\n@ 3600 NS ns1\nns1 3600 A 192.0.2.1\n')], env));
  const on = ok(await glidepath(['dnssec', 'enable', 'signed.example', '--algorithm', 'ed25519'], env));
  assert.match(on.stdout, /^signed\.example\. DNSKEY 257 3 15 \S+ ; key tag \d+, active$/m);
  assert.match(on.stdout, /^signed\.example\. DS \d+ 15 2 [0-9A-F]{64}$/m);
  assert.match(on.stdout, /^signed\.example\. DS \d+ 15 4 [0-9A-F]{96}$/m);
  const kekFile = join(data, 'dnssec-kek.key');
  assert.equal(statSync(kekFile).mode & 0o777, 0o600);
  const stored = (await db.pool.query<{ private_key: Buffer }>(`SELECT private_key FROM dnssec_keys k JOIN domains d ON d.id = k.domain_id WHERE d.name = 'signed.example.'`)).rows[0].private_key;
  assert.ok(!on.stdout.includes(stored.toString('base64').slice(0, 20)));
  const show = ok(await glidepath(['dnssec', 'show', 'signed.example.'], env));
  assert.equal(show.stdout, on.stdout);
  assert.match(oneLineError(await glidepath(['dnssec', 'enable', 'signed.example'], env)), /signed with ed25519; disable it first/);
  assert.match(oneLineError(await glidepath(['dnssec', 'enable', 'signed.example'], { GLIDEPATH_DATA_DIR: data, GLIDEPATH_KEY_FILE: join(dir, 'missing.key') })), /signed with/);
  assert.match(oneLineError(await glidepath(['dnssec', 'enable', 'nothere.example'], env)), /no domain "nothere\.example\."/);
  assert.match(oneLineError(await glidepath(['dnssec', 'rotate', 'signed.example'], env), 2), /unknown subcommand "rotate"/);
  assert.match(oneLineError(await glidepath(['dnssec', 'enable', 'signed.example', '--algorithm', 'rsasha1'], env), 2), /--algorithm "rsasha1"/);
  // A rollover: the new key published beside the old; a second one while it runs is one line.
  const roll = ok(await glidepath(['dnssec', 'rollover', 'signed.example'], env));
  assert.match(roll.stdout, /; key tag \d+, active\n.*; key tag \d+, published\n/);
  assert.match(roll.stdout, /^; key rollover \d+ -> \d+: phase publish, next step \d{4}-/m);
  assert.match(oneLineError(await glidepath(['dnssec', 'rollover', 'signed.example'], env)), /a key rollover of signed\.example\. is running/);
  assert.match(ok(await glidepath(['dnssec', 'ds-published', 'signed.example'], env)).stdout, /phase publish/);
  assert.match(oneLineError(await glidepath(['dnssec', 'ds-published', 'signed.example'], env)), /no key rollover of signed\.example\. is waiting/);
  const off = ok(await glidepath(['dnssec', 'disable', 'signed.example'], env));
  assert.match(off.stdout, /no longer signed/);
  assert.match(ok(await glidepath(['dnssec', 'show', 'signed.example'], env)).stdout, /not signed \(CDS delete published\)/);
  // Signing again with a missing key file named by the operator: one clear error, nothing changed.
  const missing = oneLineError(await glidepath(['dnssec', 'enable', 'signed.example'], { GLIDEPATH_DATA_DIR: data, GLIDEPATH_KEY_FILE: join(dir, 'missing.key') }));
  assert.match(missing, /GLIDEPATH_KEY_FILE: .*missing\.key does not exist/);
  assert.match(ok(await glidepath(['dnssec', 'show', 'signed.example'], env)).stdout, /not signed/);
});

test('a data directory under a parent that cannot hold one (/proc/nope): one line naming it, at once, also with DATABASE_URL', async () => {
  for (const env of [{ DATABASE_URL: undefined }, {}]) {
    const t0 = Date.now();
    const line = oneLineError(await glidepath(['serve', '--workers', '1'], { ...env, GLIDEPATH_DATA_DIR: '/proc/nope', GLIDEPATH_DNS: '127.0.0.1:0' }, 10_000), 1);
    assert.ok(line.startsWith('glidepath: data directory /proc/nope is not writable: '), line);
    assert.ok(Date.now() - t0 < 8000, `took ${Date.now() - t0} ms`);
  }
});

test('the default data directory is one fixed place, not the current directory: $XDG_DATA_HOME/glidepath, else ~/.local/share/glidepath', async () => {
  const home = mkdtempSync(join(dir, 'home-'));
  const xdg = join(home, 'xdg');
  // `glidepath reload` finds the control socket in the data directory, from whatever directory it
  // runs, and names the socket it tried (nothing listens: exit 1, one line).
  const run = (cwd: string, env: Record<string, string | undefined>) => new Promise<Ran>((resolve) => {
    const child = spawn(process.execPath, [BIN, 'reload'], { cwd, env: childEnv({ GLIDEPATH_DATA_DIR: undefined, XDG_DATA_HOME: undefined, HOME: home, ...env }), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  for (const cwd of [ROOT, home, tmpdir()]) {
    const line = oneLineError(await run(cwd, {}), 1);
    assert.ok(line.startsWith(`glidepath: no running "glidepath serve --workers" at ${join(home, '.local/share/glidepath/control.sock')} `), `${cwd}: ${line}`);
    const x = oneLineError(await run(cwd, { XDG_DATA_HOME: xdg }), 1);
    assert.ok(x.startsWith(`glidepath: no running "glidepath serve --workers" at ${join(xdg, 'glidepath/control.sock')} `), `${cwd}: ${x}`);
  }
  // --help says where it is.
  assert.match(ok(await glidepath(['serve', '--help'])).stdout, /default \$XDG_DATA_HOME\/glidepath, else\n~\/\.local\/share\/glidepath/);
});

test('a command that has to start the embedded PostgreSQL itself (no serve running there) says which data directory it used', async () => {
  // Inside the repository: as root the embedded PostgreSQL runs as "postgres", which cannot enter
  // a 0700 temporary directory of root's.
  const data = join(ROOT, `.glidepath-cli-${randomBytes(4).toString('hex')}`);
  after(() => rmSync(data, { recursive: true, force: true }));
  const r = ok(await glidepath(['migrate'], { DATABASE_URL: undefined, GLIDEPATH_DATA_DIR: data }, 60_000));
  assert.match(r.stdout, /^applied: 001_schema\.sql/);
  assert.equal(r.stderr, `glidepath: no running serve uses ${data}; using its embedded PostgreSQL directly\n`);
});
