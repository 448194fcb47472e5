// Does the API stall DNS? `npm run -s build && node dist/bench/upload-stall.js [--workers 0]
// [--records 395000] [--rate 1000] [--changes 10000]`: runs `glidepath serve` on its own (embedded)
// PostgreSQL, sends UDP queries at a fixed rate, and reports DNS latency (p50, p99, max, lost) while
// idle, during a 10 MiB zone-file PUT (395,000 records) to a served zone, until its last record is
// answered (the workers compile it), and during a 10,000-RRset PATCH. With --workers 0 the API and
// DNS share one event loop: the case the parser thread is for.
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { startPostgres, dbUrl } from './pg.js';
import { freePort, sleep, summarize, query } from './util.js';

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
}
const workers = arg('workers', 0);
const records = arg('records', 395_000);
const rate = arg('rate', 1000);
const changes = arg('changes', 10_000);
const ADMIN = 'bench-admin';

function buildQuery(id: number): Buffer {
  const name = Buffer.from([3, 0x77, 0x77, 0x77, 5, 0x73, 0x6d, 0x61, 0x6c, 0x6c, 7, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0]); // www.small.example
  const h = Buffer.alloc(12);
  h.writeUInt16BE(id, 0);
  h.writeUInt16BE(1, 4);
  return Buffer.concat([h, name, Buffer.from([0, 1, 0, 1])]);
}

/** Queries at `rate` per second until stop(); latencies in ms, and the unanswered. */
function pacedLoad(port: number) {
  const sock = dgram.createSocket('udp4');
  const sentAt = new Map<number, number>();
  let lat: number[] = [];
  let lost = 0;
  let id = 0;
  sock.on('message', (m) => {
    const t = sentAt.get(m.readUInt16BE(0));
    if (t === undefined) return;
    sentAt.delete(m.readUInt16BE(0));
    lat.push(Number(process.hrtime.bigint() - BigInt(t)) / 1e6);
  });
  const perTick = Math.max(1, Math.round(rate / 200));
  const timer = setInterval(() => {
    const now = process.hrtime.bigint();
    for (const [k, t] of sentAt) if (Number(now - BigInt(t)) / 1e6 > 2000) { sentAt.delete(k); lost++; }
    for (let i = 0; i < perTick; i++) {
      id = (id + 1) & 0xffff;
      sentAt.set(id, Number(process.hrtime.bigint()));
      sock.send(buildQuery(id), port, '127.0.0.1');
    }
  }, 5);
  return {
    /** Latencies (and losses) since the last call. */
    take(): { lat: number[]; lost: number } { const out = { lat, lost }; lat = []; lost = 0; return out; },
    stop() { clearInterval(timer); sock.close(); },
  };
}

async function main(): Promise<void> {
  const out = resolve('bench/out/upload-stall');
  await rm(out, { recursive: true, force: true });
  await mkdir(out, { recursive: true });
  const pgs = await startPostgres(join(out, 'pg'));
  const admin = new pg.Client({ connectionString: pgs.adminUrl });
  await admin.connect();
  await admin.query('DROP DATABASE IF EXISTS glidepath_upload');
  await admin.query('CREATE DATABASE glidepath_upload');
  await admin.end();
  const port = await freePort();
  const apiPort = await freePort();
  const env = {
    ...process.env, DATABASE_URL: dbUrl(pgs, 'glidepath_upload'), GLIDEPATH_DNS: `127.0.0.1:${port}`, GLIDEPATH_API: `127.0.0.1:${apiPort}`,
    GLIDEPATH_ADMIN_TOKEN: ADMIN, GLIDEPATH_LOG_LEVEL: 'warn', GLIDEPATH_DATA_DIR: join(out, 'data'), GLIDEPATH_CONTROL_SOCKET: join(out, 'control.sock'),
  };
  // NODE_ARGS="--cpu-prof" profiles the server (node refuses that flag in NODE_OPTIONS).
  const nodeArgs = (process.env.NODE_ARGS ?? '').split(' ').filter((a) => a);
  const server = spawn(process.execPath, [...nodeArgs, 'bin/glidepath.js', 'serve', '--workers', String(workers)], { env, stdio: 'inherit' });
  const api = `http://127.0.0.1:${apiPort}`;
  const call = (method: string, path: string, body: string, type = 'application/json') =>
    fetch(api + path, { method, headers: { authorization: `Bearer ${ADMIN}`, 'content-type': type }, body });
  try {
    for (let i = 0; ; i++) {
      if (await fetch(api + '/healthz').then((r) => r.ok, () => false)) break;
      if (i > 600) throw new Error('serve did not start');
      await sleep(100);
    }
    const soa = [{ owner: '@', type: 'SOA', ttl: 3600, records: ['ns1 hostmaster 1 3600 600 86400 300'] }, { owner: '@', type: 'NS', ttl: 3600, records: ['ns1'] },
      { owner: 'ns1', type: 'A', ttl: 3600, records: ['192.0.2.1'] }];
    await call('POST', '/v1/zones', JSON.stringify({ name: 'small', rrsets: [...soa, { owner: 'www', type: 'A', ttl: 300, records: ['192.0.2.80'] }] }));
    await call('POST', '/v1/domains', JSON.stringify({ name: 'small.example', zone: 'small' }));
    await call('POST', '/v1/zones', JSON.stringify({ name: 'big', rrsets: soa }));
    // Served, so that the upload is compiled by every answering process, as a customer's would be.
    await call('POST', '/v1/domains', JSON.stringify({ name: 'big.example', zone: 'big' }));
    await call('POST', '/v1/zones', JSON.stringify({ name: 'batch', rrsets: soa }));
    await sleep(1000);
    const lines = ['$ORIGIN big.example.\n@ 3600 SOA ns1 hostmaster 1 3600 600 86400 300\n@ 3600 NS ns1\nns1 3600 A 192.0.2.1\n'];
    for (let i = 0; i < records; i++) lines.push(`h${i} 300 A 10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}\n`);
    const file = lines.join('');
    const patch = JSON.stringify({ changes: Array.from({ length: changes }, (_, i) => ({ owner: `r${i}`, type: 'TXT', ttl: 300, records: [`"rrset ${i}"`] })) });

    const load = pacedLoad(port);
    const rows: string[] = [];
    const report = (phase: string, ms: number, status = '') => {
      const { lat, lost } = load.take();
      const s = summarize(lat.sort((a, b) => a - b));
      rows.push(`| ${phase} | ${(ms / 1000).toFixed(1)} s ${status} | ${lat.length} | ${lost} | ${s.p50Ms.toFixed(2)} | ${s.p99Ms.toFixed(2)} | ${Math.max(0, ...lat).toFixed(1)} |`);
    };
    await sleep(1000);
    load.take();
    let t0 = Date.now();
    await sleep(5000);
    report('idle', Date.now() - t0);
    t0 = Date.now();
    const put = await call('PUT', '/v1/zones/big/file?origin=big.example.', file, 'text/dns');
    report(`PUT ${(file.length / 1048576).toFixed(1)} MiB zone file (${records} records)`, Date.now() - t0, `(${put.status})`);
    t0 = Date.now();
    for (let i = 0; ; i++) {
      const a = await query(port, `h${records - 1}.big.example`, 'A', 200);
      if (a && a.answers.length > 0) break;
      if (i > 3000) throw new Error('the uploaded zone was not served');
      await sleep(10);
    }
    report('after the PUT, until its last record is answered', Date.now() - t0);
    t0 = Date.now();
    const p = await call('PATCH', '/v1/zones/batch/rrsets', patch);
    report(`PATCH ${changes} RRsets (${(patch.length / 1048576).toFixed(2)} MiB JSON)`, Date.now() - t0, `(${p.status})`);
    load.stop();
    process.stdout.write(`\nglidepath serve --workers ${workers}, UDP queries at ${rate}/s (latency in ms; lost: no answer in 2 s)\n\n`
      + '| phase | took | answered | lost | p50 | p99 | max |\n| --- | --- | --- | --- | --- | --- | --- |\n' + rows.join('\n') + '\n');
  } finally {
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
    await pgs.stop();
  }
}

main().then(() => process.exit(0), (err: unknown) => { console.error(err); process.exit(1); });
