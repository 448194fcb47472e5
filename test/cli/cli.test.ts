// The `glidepath` command as operators script it: real processes on a real database. Import and
// export round-trip both ways, a bad line names FILE:LINE and changes nothing, usage and connection
// errors are one line and a non-zero exit.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freshDatabase } from '../helpers/db.js';
import { SHARED } from '../helpers/server.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const db = await freshDatabase();
after(() => db.drop());
const dir = mkdtempSync(join(tmpdir(), 'glidepath-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

interface Ran { code: number; stdout: string; stderr: string }
function glidepath(args: string[], env: Record<string, string> = {}): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(ROOT, 'bin/glidepath.js'), ...args], {
      cwd: ROOT, timeout: 60_000,
      env: { ...process.env, DATABASE_URL: db.url, GLIDEPATH_LOG_LEVEL: 'silent', ...env },
    }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}
const rows = async () => (await db.pool.query(
  "SELECT owner, type, ttl, rdata FROM records r JOIN domains d ON d.zone_id = r.zone_id WHERE d.name = 'shop.example.' ORDER BY 1, 2, 4")).rows;
const journalSeq = async () => Number((await db.pool.query('SELECT coalesce(max(seq), 0) AS s FROM journal')).rows[0].s);
const SHOP = fileURLToPath(new URL('conformance/zones/shop.example.zone', SHARED));

test('migrate is idempotent from the command line', async () => {
  assert.equal((await glidepath(['migrate'])).code, 0);
  const again = await glidepath(['migrate']);
  assert.equal(again.code, 0, again.stderr);
});

test('import -> export -> import gives the same records, and export -> import -> export the same text', async () => {
  const first = await glidepath(['import', SHOP]);
  assert.equal(first.code, 0, first.stderr);
  const imported = await rows();
  assert.ok(imported.length > 20);
  const exported = await glidepath(['export', 'shop.example']);
  assert.equal(exported.code, 0, exported.stderr);
  const file = join(dir, 'shop.exported.zone');
  writeFileSync(file, exported.stdout);
  const second = await glidepath(['import', file]);
  assert.equal(second.code, 0, second.stderr);
  assert.deepEqual(await rows(), imported, 'file -> db -> file -> db: same records');
  const again = await glidepath(['export', 'shop.example.']);
  assert.equal(again.stdout, exported.stdout, 'db -> file -> db -> file: same text');
});

test('a bad line fails the whole import with FILE:LINE and changes nothing', async () => {
  const lines = readFileSync(SHOP, 'utf8').split('\n');
  const at = lines.findIndex((l) => /\sA\s+\d/.test(l) && !l.trim().startsWith(';'));
  assert.ok(at > 0);
  lines[at] = lines[at].replace(/(\sA\s+)[\d.]+/, '$1192.0.2.300');
  lines.push('added-but-never-stored 300 IN A 192.0.2.1');
  const bad = join(dir, 'bad.zone');
  writeFileSync(bad, lines.join('\n'));
  const before = await rows();
  const seq = await journalSeq();
  const r = await glidepath(['import', bad]);
  assert.notEqual(r.code, 0);
  const msg = r.stderr.trim();
  assert.equal(msg.split('\n').length, 1, msg);
  assert.ok(msg.includes(`${bad}:${at + 1}:`), msg);
  assert.match(msg, /192\.0\.2\.300/);
  assert.deepEqual(await rows(), before);
  assert.equal(await journalSeq(), seq, 'not even a journal entry');
});

test('usage errors exit 2 with one line; --help exits 0 and names the flags', async () => {
  const r = await glidepath(['import', SHOP, '--frobnicate']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--frobnicate/);
  assert.equal(r.stderr.trim().split('\n').length, 1);
  const h = await glidepath(['import', '--help']);
  assert.equal(h.code, 0);
  assert.match(h.stdout, /--delegation-only/);
  assert.match(h.stdout, /--domain/);
  for (const verb of ['serve', 'migrate', 'export', 'token']) {
    assert.equal((await glidepath([verb, '--help'])).code, 0, verb);
  }
});

test('a DATABASE_URL that does not connect is one line naming the host, and a non-zero exit', async () => {
  const r = await glidepath(['migrate'], { DATABASE_URL: 'postgres://u:p@127.0.0.1:1/none' });
  assert.notEqual(r.code, 0);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, /127\.0\.0\.1:1/);
});

test('token create prints a token once; only its hash is stored', async () => {
  const r = await glidepath(['token', 'create', '--admin']);
  assert.equal(r.code, 0, r.stderr);
  const token = r.stdout.trim();
  assert.ok(token.length >= 20);
  const stored = (await db.pool.query('SELECT * FROM api_tokens')).rows;
  assert.equal(stored.length, 1);
  assert.ok(!JSON.stringify(stored).includes(token), 'the token itself is not in the database');
});
