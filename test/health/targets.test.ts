// What active health checks may connect to (src/health/targets.ts): public addresses only unless
// GLIDEPATH_HEALTH_ALLOW says more, checked on the address actually connected to, so neither a
// literal nor a name that resolves to loopback reaches the primary's own services.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import http from 'node:http';
import { TargetPolicy } from '../../src/health/targets.js';
import { tcpProbe, httpProbe } from '../../src/health/probe.js';

test('by default loopback, private, link-local, CGNAT, mapped and ULA addresses are refused; public ones are not', () => {
  const p = new TargetPolicy();
  for (const a of ['127.0.0.1', '10.1.2.3', '172.16.5.5', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '::1', '::', '::ffff:127.0.0.1', 'fd00::1', 'fe80::1']) {
    assert.equal(p.permits(a), false, a);
  }
  for (const a of ['192.0.2.1', '8.8.8.8', '2001:db8::1', '2a00:1450::1']) assert.equal(p.permits(a), true, a);
});

test('GLIDEPATH_HEALTH_ALLOW adds networks and single addresses; "any" allows everything', () => {
  const p = new TargetPolicy(['10.0.0.0/8', '::1']);
  assert.equal(p.permits('10.200.0.1'), true);
  assert.equal(p.permits('::1'), true);
  assert.equal(p.permits('192.168.1.1'), false);
  assert.equal(new TargetPolicy(['any']).permits('127.0.0.1'), true);
});

test('a probe of a loopback server: refused by default (literal and by name), run once allowed', async () => {
  const tcp = net.createServer((c) => c.end());
  await new Promise<void>((r) => tcp.listen(0, '127.0.0.1', () => r()));
  const web = http.createServer((_q, res) => res.end('ok'));
  await new Promise<void>((r) => web.listen(0, '127.0.0.1', () => r()));
  after(() => { tcp.close(); web.close(); });
  const port = (tcp.address() as net.AddressInfo).port;
  const webPort = (web.address() as net.AddressInfo).port;
  const deny = new TargetPolicy();
  const literal = await tcpProbe('127.0.0.1', port, 2000, deny);
  assert.equal(literal.ok, false);
  assert.match(literal.result, /not allowed/);
  // "localhost" comes from /etc/hosts: the refusal is on the resolved address.
  const named = await tcpProbe('localhost', port, 2000, deny);
  assert.equal(named.ok, false);
  assert.match(named.result, /EACCES|not allowed/);
  const get = await httpProbe(`http://127.0.0.1:${webPort}/`, 200, 2000, deny);
  assert.equal(get.ok, false);
  assert.match(get.result, /not allowed/);
  const allow = new TargetPolicy(['127.0.0.0/8']);
  assert.equal((await tcpProbe('127.0.0.1', port, 2000, allow)).ok, true);
  assert.equal((await httpProbe(`http://127.0.0.1:${webPort}/`, 200, 2000, allow)).ok, true);
});
