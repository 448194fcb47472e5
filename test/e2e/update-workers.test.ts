// UPDATE under `glidepath serve --workers 2`: the worker that reads the message writes through its
// own pool, answers once its snapshot holds the change, and the other worker follows within the
// realtime bound; garbage UPDATEs hurt no worker.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { freshDatabase } from '../helpers/db.js';
import { exchange, query } from '../helpers/dig.js';
import { freePort } from '../helpers/ports.js';
import { waitFor } from '../helpers/server.js';
import { importZoneFile } from '../../src/store/zone-file-io.js';
import { sign, type TsigKey } from '../../src/dns/tsig.js';
import { RCODE } from '../../src/dns/constants.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const BIN = join(ROOT, 'bin/glidepath.js');

const wire = (name: string) => Buffer.concat([...name.replace(/\.$/, '').split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l, 'latin1')])), Buffer.from([0])]);
const u16 = (n: number) => Buffer.from([n >> 8, n & 0xff]);

function addTxt(owner: string, text: string): Buffer {
  const rdata = Buffer.concat([Buffer.from([text.length]), Buffer.from(text, 'latin1')]);
  return Buffer.concat([u16(Math.floor(Math.random() * 65536)), Buffer.from([0x28, 0]), u16(1), u16(0), u16(1), u16(0),
    wire('wk.example.'), u16(6), u16(1), wire(owner), u16(16), u16(1), Buffer.from([0, 0, 0, 60]), u16(rdata.length), rdata]);
}

test('UPDATE through the workers of serve --workers 2', { timeout: 120_000 }, async () => {
  const db = await freshDatabase();
  after(() => db.drop());
  const dir = mkdtempSync(join(tmpdir(), 'glidepath-upd-workers-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  await importZoneFile(db.pool, '$ORIGIN wk.example.\n@ 3600 SOA ns1 hostmaster 1 3600 600 86400 300\n@ 3600 NS ns1\nns1 3600 A 192.0.2.1\n',
    { file: 'inline', tenant: 'default', delegationOnly: false, actor: 'test' });
  const key: TsigKey = { name: 'worker-key.', algorithm: 'hmac-sha256', secret: randomBytes(32) };
  const port = await freePort();
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (k !== 'DATABASE_URL' && !k.startsWith('GLIDEPATH_')) env[k] = v;
  Object.assign(env, {
    DATABASE_URL: db.url, GLIDEPATH_DNS: `127.0.0.1:${port}`, GLIDEPATH_API: 'off', GLIDEPATH_LOG_LEVEL: 'warn',
    GLIDEPATH_DATA_DIR: join(dir, 'data'), GLIDEPATH_CONTROL_SOCKET: join(dir, 'control.sock'),
  });
  let log = '';
  const server: ChildProcess = spawn(process.execPath, [BIN, 'serve', '--workers', '2'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  server.stdout!.on('data', (d: Buffer) => { log += d.toString(); });
  server.stderr!.on('data', (d: Buffer) => { log += d.toString(); });
  after(() => { if (server.exitCode === null) server.kill('SIGKILL'); });
  await waitFor(() => query(port, 'ns1.wk.example.', 'A', { timeoutMs: 200 }).then((r) => r.answer.length === 1, () => false), 30_000, `the server answering:\n${log}`);
  // Key and policy after the start: the workers pick both up from the journal / the transaction.
  await db.pool.query('INSERT INTO tsig_keys (name, algorithm, secret) VALUES ($1, $2, $3)', [key.name, key.algorithm, key.secret]);
  await db.pool.query(`INSERT INTO update_policy (domain_id, key_name, names, types) SELECT id, $1, '{_acme-challenge}', '{TXT}' FROM domains WHERE name = 'wk.example.'`, [key.name]);
  // Keys reach the workers through the journal: wait until signed queries verify on both.
  const soaQuery = () => sign(Buffer.concat([u16(7), Buffer.from([0, 0]), u16(1), u16(0), u16(0), u16(0), wire('wk.example.'), u16(6), u16(1)]),
    key, { now: Date.now() / 1000 }).message;
  await waitFor(async () => {
    for (let k = 0; k < 6; k++) if (((await exchange(port, soaQuery(), { timeoutMs: 500 }))[3] & 0x0f) !== RCODE.NOERROR) return false;
    return true;
  }, 10_000, 'the key known to every worker');

  for (let i = 0; i < 10; i++) {
    // Garbage first: a truncated UPDATE and one with a broken zone section; no worker may fall.
    for (const junk of [addTxt('_acme-challenge.wk.example.', `x${i}`).subarray(0, 20), Buffer.from([1, 2, 0x28, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0])]) {
      await exchange(port, junk, { timeoutMs: 200 }).catch(() => undefined);
    }
    // The key reaches each worker through the journal; with node:cluster's one shared UDP socket
    // the probe above may have met only one of them, so a worker that has not read it yet answers
    // NOTAUTH (BADKEY): sent again (an add is idempotent, RFC 2136 3.4.2.2) until the bound.
    let out: Buffer = Buffer.alloc(4);
    const until = Date.now() + 2000;
    do {
      const signed = sign(addTxt('_acme-challenge.wk.example.', `tok-${i}`), key, { now: Date.now() / 1000 });
      out = await exchange(port, signed.message, { transport: i % 2 ? 'tcp' : 'udp', timeoutMs: 5000 });
    } while ((out[3] & 0x0f) === RCODE.NOTAUTH && Date.now() < until);
    assert.equal(out[3] & 0x0f, RCODE.NOERROR, log);
    // Every worker serves it within the realtime bound (UDP queries land on either worker).
    await waitFor(async () => {
      for (let k = 0; k < 4; k++) {
        const r = await query(port, '_acme-challenge.wk.example.', 'TXT');
        if (!r.answer.some((a) => a.includes(`"tok-${i}"`))) return false;
      }
      return true;
    }, 1000, `tok-${i} on every worker`);
  }
  const actors = await db.pool.query<{ actor: string }>(`SELECT DISTINCT actor FROM journal WHERE entity = 'records'`);
  assert.deepEqual(actors.rows.map((r) => r.actor).filter((a) => a.startsWith('tsig:')), ['tsig:worker-key.']);
  assert.equal(server.exitCode, null);
  assert.doesNotMatch(log, /worker .*(died|exited)/i);
});
