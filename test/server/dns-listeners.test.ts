// UDP and TCP listeners of one address (src/server/dns-listeners.ts): with port 0, a port whose TCP
// side is already taken is given up for another, on real sockets; a port the operator chose is not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import dgram from 'node:dgram';
import pino from 'pino';
import { listenDns, type Binders } from '../../src/server/dns-listeners.js';
import { listenUdp } from '../../src/server/udp.js';
import { listenTcp } from '../../src/server/tcp.js';
import { ListenError } from '../../src/server/listen-error.js';
import type { QueryContext } from '../../src/server/handle-query.js';
import { buildSnapshot } from '../../src/snapshot/build.js';
import { query } from '../helpers/dig.js';

const snap = buildSnapshot([], new Map());
const ctx: QueryContext = { snapshot: () => snap, maxUdp: 1232, now: Date.now };
const log = pino({ level: 'silent' });
const stream = { idleMs: 1000, messageMs: 2000, maxConnections: 10 };

/** A TCP listener the test holds, on a port the system picks. */
async function holdTcp(): Promise<net.Server> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  return s;
}
const portOf = (s: net.Server) => (s.address() as net.AddressInfo).port;

/** Whether UDP port `port` on 127.0.0.1 can be bound now. */
async function udpFree(port: number): Promise<boolean> {
  const s = dgram.createSocket('udp4');
  const ok = await new Promise<boolean>((resolve) => {
    s.once('error', () => resolve(false));
    s.bind(port, '127.0.0.1', () => resolve(true));
  });
  await new Promise<void>((resolve) => { try { s.close(() => resolve()); } catch { resolve(); } });
  return ok;
}

/** Real binds, except that the first UDP bind is steered to `first`, whose TCP side the test holds. */
function steeredTo(first: number): Binders & { udpBinds: number[] } {
  const udpBinds: number[] = [];
  return {
    udpBinds,
    udp: async (addr, c, l) => {
      const u = await listenUdp(udpBinds.length === 0 ? { ...addr, port: first } : addr, c, l);
      udpBinds.push(u.port);
      return u;
    },
    tcp: listenTcp,
  };
}

test('port 0: when TCP is taken on the port UDP got, both move to another port and serve there', async () => {
  const held = await holdTcp();
  const taken = portOf(held);
  try {
    const bind = steeredTo(taken);
    const l = await listenDns({ host: '127.0.0.1', port: 0 }, ctx, log, stream, bind);
    try {
      assert.equal(bind.udpBinds[0], taken, 'the first attempt was on the taken port');
      assert.notEqual(l.port, taken);
      assert.equal(l.udp.port, l.port);
      assert.equal(l.tcp.port, l.port);
      assert.ok(await udpFree(taken), 'the UDP socket of the failed attempt was closed');
      // An empty snapshot refuses every name (RFC 1035 4.1.1): both transports answer on the port.
      assert.equal((await query(l.port, 'example.', 'SOA', { transport: 'udp' })).rcode, 'REFUSED');
      assert.equal((await query(l.port, 'example.', 'SOA', { transport: 'tcp' })).rcode, 'REFUSED');
    } finally {
      await l.tcp.close();
      await l.udp.close();
    }
  } finally {
    held.close();
  }
});

test('a port the operator chose is not swapped: its TCP conflict is the error, and UDP is released', async () => {
  const held = await holdTcp();
  const taken = portOf(held);
  try {
    await assert.rejects(listenDns({ host: '127.0.0.1', port: taken }, ctx, log, stream),
      (err: unknown) => err instanceof ListenError && err.code === 'EADDRINUSE'
        && err.message === `cannot listen on 127.0.0.1:${taken}/tcp: address already in use`);
    assert.ok(await udpFree(taken), 'the UDP socket bound before the failure was closed');
  } finally {
    held.close();
  }
});
