// Fallback load generator for machines without dnsperf: UDP from this node process to 127.0.0.1,
// closed loop (a fixed number of queries outstanding per socket) for throughput, or paced at a
// fixed rate for latency. One JavaScript thread: it saturates long before a fast server does, so
// its throughput figures are a floor, not comparable with dnsperf's.
import { createSocket, type Socket } from 'node:dgram';
import { readFile } from 'node:fs/promises';
import dnsPacket from 'dns-packet';
import type { LoadResult, LoadSpec } from './load.js';
import { summarize } from './util.js';

const SOCKETS = 4;
const WINDOW = 64;
const TIMEOUT_MS = 2000;
const RCODES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED'];

async function encodedQueries(file: string, max = 50_000): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for (const line of (await readFile(file, 'utf8')).split('\n')) {
    const [name, type] = line.trim().split(/\s+/);
    if (!name || !type) continue;
    out.push(dnsPacket.encode({ type: 'query', id: 0, flags: 0, questions: [{ name, type: type as dnsPacket.RecordType, class: 'IN' }] }));
    if (out.length >= max) break;
  }
  if (!out.length) throw new Error(`${file}: no queries`);
  return out;
}

interface Lane { sock: Socket; inflight: Map<number, number>; nextId: number }

export async function nodeLoad(spec: LoadSpec): Promise<LoadResult> {
  const queries = await encodedQueries(spec.queryFile);
  let qi = 0, sent = 0, completed = 0, lost = 0, sumMs = 0, maxMs = 0;
  const lat: number[] = [];
  const rcodes: Record<string, number> = {};
  const lanes: Lane[] = [];
  let running = true;
  const send = (lane: Lane): boolean => {
    let id = lane.nextId;
    for (let tries = 0; lane.inflight.has(id); tries++) {
      if (tries > 1000) return false;
      id = (id + 1) & 0xffff;
    }
    lane.nextId = (id + 1) & 0xffff;
    const q = Buffer.from(queries[qi++ % queries.length]);
    q.writeUInt16BE(id, 0);
    lane.inflight.set(id, performance.now());
    sent++;
    lane.sock.send(q, spec.port, '127.0.0.1');
    return true;
  };
  for (let i = 0; i < SOCKETS; i++) {
    const sock = createSocket({ type: 'udp4', recvBufferSize: 4 << 20, sendBufferSize: 4 << 20 });
    const lane: Lane = { sock, inflight: new Map(), nextId: 0 };
    sock.on('message', (msg) => {
      if (msg.length < 12) return;
      const t0 = lane.inflight.get(msg.readUInt16BE(0));
      if (t0 === undefined) return;
      lane.inflight.delete(msg.readUInt16BE(0));
      const ms = performance.now() - t0;
      completed++;
      sumMs += ms;
      if (ms > maxMs) maxMs = ms;
      if (spec.perQuery) lat.push(ms);
      const rc = RCODES[msg[3] & 0xf] ?? `RCODE${msg[3] & 0xf}`;
      rcodes[rc] = (rcodes[rc] ?? 0) + 1;
      if (running && spec.qps === undefined) send(lane);
    });
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
    lanes.push(lane);
  }
  const start = performance.now();
  const end = start + spec.seconds * 1000;
  const sweep = setInterval(() => {
    const now = performance.now();
    for (const lane of lanes) {
      for (const [id, t] of lane.inflight) {
        if (now - t < TIMEOUT_MS) continue;
        lane.inflight.delete(id);
        lost++;
        if (running && spec.qps === undefined) send(lane);
      }
    }
  }, 100);
  if (spec.qps === undefined) {
    for (const lane of lanes) for (let i = 0; i < WINDOW; i++) send(lane);
    while (performance.now() < end) await new Promise((r) => setTimeout(r, 50));
  } else {
    let li = 0;
    while (performance.now() < end) {
      const due = Math.floor(((performance.now() - start) / 1000) * spec.qps);
      while (sent < due) send(lanes[li++ % SOCKETS]);
      await new Promise((r) => setImmediate(r));
    }
  }
  running = false;
  const elapsed = (performance.now() - start) / 1000;
  const drainUntil = performance.now() + TIMEOUT_MS;
  while (lanes.some((l) => l.inflight.size) && performance.now() < drainUntil) await new Promise((r) => setTimeout(r, 20));
  clearInterval(sweep);
  for (const l of lanes) { lost += l.inflight.size; l.sock.close(); }
  return {
    tool: 'node', seconds: spec.seconds,
    command: `node UDP generator, ${SOCKETS} sockets, ${spec.qps === undefined ? `${WINDOW} outstanding each` : `paced at ${Math.round(spec.qps)} qps`}`,
    sent, completed, lost, qps: completed / elapsed, rcodes, avgMs: completed ? sumMs / completed : NaN, maxMs,
    ...(spec.perQuery ? summarize(lat) : {}),
  };
}
