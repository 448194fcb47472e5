// lego (Debian's 4.9.1) with its `pdns` provider obtains a certificate from a local pebble ACME
// server through DNS-01 against Glidepath's PowerDNS-compatible API, end to end. Nothing leaves
// loopback: lego asks Glidepath alone for SOAs (--dns.resolvers, --dns.disable-cp), pebble's
// validation asks Glidepath alone (-dnsserver), and no HTTP or TLS challenge port is used.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import { startTestServer, waitFor } from '../helpers/server.js';
import { freePort } from '../helpers/ports.js';
import { query } from '../helpers/dig.js';

const have = (bin: string) => spawnSync('sh', ['-c', `command -v ${bin}`]).status === 0;
const missing = ['lego', 'pebble', 'openssl'].filter((b) => !have(b));

const ADMIN = 'test-admin-token';

function tcpOpen(port: number): Promise<boolean> {
  return new Promise((r) => {
    const s = net.connect(port, '127.0.0.1', () => { s.destroy(); r(true); });
    s.on('error', () => r(false));
  });
}

test('lego pdns provider gets a certificate from pebble through DNS-01', { skip: missing.length ? `not installed: ${missing.join(', ')} (Debian packages lego, pebble)` : false, timeout: 120_000 }, async () => {
  const s = await startTestServer();
  const dir = mkdtempSync(join(tmpdir(), 'glidepath-lego-'));
  const children: ChildProcess[] = [];
  after(() => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  // A tenant and its token, through the native API.
  const api = async (method: string, path: string, body?: unknown, headers: Record<string, string> = { authorization: `Bearer ${ADMIN}` }) => {
    const r = await fetch(s.apiUrl() + path, { method, headers: { ...headers, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: r.status, text: await r.text() };
  };
  assert.equal((await api('POST', '/v1/tenants', { name: 'acme' })).status, 201);
  const token = (JSON.parse((await api('POST', '/v1/tokens', { tenant: 'acme' })).text) as { token: string }).token;
  // The zone, as a PowerDNS user would create it.
  const created = await api('POST', '/api/v1/servers/localhost/zones',
    { name: 'acme.example.com.', kind: 'Native', nameservers: ['ns1.acme.example.com.'] }, { 'x-api-key': token });
  assert.equal(created.status, 201, created.text);

  // pebble's TLS certificate (the ACME directory is HTTPS), made here; lego trusts it through
  // LEGO_CA_CERTIFICATES.
  const cert = join(dir, 'pebble.pem');
  const key = join(dir, 'pebble.key');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2',
    '-keyout', key, '-out', cert, '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
    '-addext', 'basicConstraints=critical,CA:TRUE'], { stdio: 'ignore' });
  const [acmePort, mgmtPort, httpPort, tlsPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
  writeFileSync(join(dir, 'pebble.json'), JSON.stringify({ pebble: {
    listenAddress: `127.0.0.1:${acmePort}`, managementListenAddress: `127.0.0.1:${mgmtPort}`,
    certificate: cert, privateKey: key, httpPort, tlsPort, ocspResponderURL: '', externalAccountBindingRequired: false,
  } }));
  let pebbleOut = '';
  const pebble = spawn('pebble', ['-config', join(dir, 'pebble.json'), '-dnsserver', `127.0.0.1:${s.dnsPort()}`], {
    env: { ...process.env, PEBBLE_VA_NOSLEEP: '1', PEBBLE_WFE_NONCEREJECT: '0', PEBBLE_AUTHZREUSE: '0' },
  });
  children.push(pebble);
  pebble.stdout.on('data', (b: Buffer) => { pebbleOut += b.toString(); });
  pebble.stderr.on('data', (b: Buffer) => { pebbleOut += b.toString(); });
  await waitFor(() => tcpOpen(acmePort), 15_000, `pebble listening on ${acmePort}`);

  let legoOut = '';
  const lego = spawn('lego', [
    '--server', `https://127.0.0.1:${acmePort}/dir`, '--accept-tos', '--email', 'ops@acme.example.com', '--path', join(dir, 'lego'),
    '--dns', 'pdns', '--dns.resolvers', `127.0.0.1:${s.dnsPort()}`, '--dns.disable-cp', '--key-type', 'ec256',
    '--domains', 'acme.example.com', '--domains', 'www.acme.example.com', 'run',
  ], {
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, LEGO_CA_CERTIFICATES: cert,
      PDNS_API_URL: s.apiUrl(), PDNS_API_KEY: token, PDNS_TTL: '120', PDNS_PROPAGATION_TIMEOUT: '30', PDNS_POLLING_INTERVAL: '1',
    },
  });
  children.push(lego);
  lego.stdout.on('data', (b: Buffer) => { legoOut += b.toString(); });
  lego.stderr.on('data', (b: Buffer) => { legoOut += b.toString(); });
  const code = await new Promise<number | null>((r) => lego.on('exit', (c) => r(c)));
  assert.equal(code, 0, `lego failed:\n${legoOut}\n--- pebble:\n${pebbleOut}`);
  const crt = join(dir, 'lego', 'certificates', 'acme.example.com.crt');
  assert.ok(existsSync(crt), `no certificate at ${crt}`);
  const text = execFileSync('openssl', ['x509', '-in', crt, '-noout', '-ext', 'subjectAltName']).toString();
  assert.match(text, /DNS:acme\.example\.com/);
  assert.match(text, /DNS:www\.acme\.example\.com/);
  void readFileSync;
  // lego cleaned up: no challenge TXT left, in the API or in the answers.
  const z = JSON.parse((await api('GET', '/api/v1/servers/localhost/zones/acme.example.com.', undefined, { 'x-api-key': token })).text) as { rrsets: { type: string }[] };
  assert.ok(!z.rrsets.some((r) => r.type === 'TXT'), JSON.stringify(z.rrsets));
  const r = await query(s.dnsPort(), '_acme-challenge.acme.example.com.', 'TXT');
  assert.equal(r.answer.length, 0);
});
