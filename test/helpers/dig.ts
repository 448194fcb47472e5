// A small dig for tests: sends real packets over real sockets and presents the response as
// lower-case "owner TYPE ttl rdata" strings. Message parsing here is written independently of
// src/dns (only rdata presentation reuses the codec, which has its own known-byte tests).
import dgram from 'node:dgram';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import { decodeRdata, formatRdata } from '../../src/dns/rdata.js';
import { typeName, typeCode, RCODE_NAMES } from '../../src/dns/constants.js';

export interface Response {
  id: number;
  rcode: string;
  aa: boolean;
  tc: boolean;
  rd: boolean;
  ra: boolean;
  question: string;
  answer: string[];
  authority: string[];
  additional: string[];
  /** Records with TTLs as numbers, for PZC checks. */
  records: Array<{ section: 'answer' | 'authority' | 'additional'; owner: string; type: string; ttl: number; rdata: string }>;
  opt: { udpSize: number; extRcode: number; version: number } | undefined;
  size: number;
  raw: Buffer;
}

export interface QueryOptions {
  transport?: 'udp' | 'tcp';
  /** EDNS payload size; null for no OPT. Default 1232. */
  edns?: number | null;
  ednsVersion?: number;
  id?: number;
  rd?: boolean;
  qclass?: number;
  host?: string;
  timeoutMs?: number;
  /** UDP attempts, each waiting timeoutMs (dig's +tries); default 1. */
  tries?: number;
}

export function buildQuery(name: string, type: string | number, o: QueryOptions = {}): Buffer {
  const labels = name.replace(/\.$/, '').split('.').filter((l) => l.length);
  const parts: number[] = [];
  const id = o.id ?? Math.floor(Math.random() * 65536);
  parts.push(id >> 8, id & 0xff, o.rd ? 0x01 : 0, 0, 0, 1, 0, 0, 0, 0, 0, o.edns === null ? 0 : 1);
  for (const l of labels) { parts.push(l.length); for (const ch of Buffer.from(l, 'latin1')) parts.push(ch); }
  parts.push(0);
  const t = typeof type === 'number' ? type : typeCode(type)!;
  const cls = o.qclass ?? 1;
  parts.push(t >> 8, t & 0xff, cls >> 8, cls & 0xff);
  if (o.edns !== null) {
    const size = o.edns ?? 1232;
    parts.push(0, 0, 41, size >> 8, size & 0xff, 0, o.ednsVersion ?? 0, 0, 0, 0, 0);
  }
  return Buffer.from(parts);
}

function readName(msg: Buffer, off: number): [string, number] {
  const labels: string[] = [];
  let p = off;
  let end = -1;
  for (let guard = 0; guard < 128; guard++) {
    const len = msg[p];
    if (len === 0) { if (end < 0) end = p + 1; return [labels.length ? labels.join('.') + '.' : '.', end]; }
    if ((len & 0xc0) === 0xc0) {
      if (end < 0) end = p + 2;
      p = ((len & 0x3f) << 8) | msg[p + 1];
      continue;
    }
    labels.push(msg.subarray(p + 1, p + 1 + len).toString('latin1'));
    p += 1 + len;
  }
  throw new Error('name loop');
}

export function parseResponse(raw: Buffer): Response {
  const id = raw.readUInt16BE(0);
  const f = raw.readUInt16BE(2);
  const counts = [raw.readUInt16BE(4), raw.readUInt16BE(6), raw.readUInt16BE(8), raw.readUInt16BE(10)];
  let p = 12;
  let question = '';
  for (let i = 0; i < counts[0]; i++) {
    const [n, e] = readName(raw, p);
    question = `${n} ${typeName(raw.readUInt16BE(e))}`;
    p = e + 4;
  }
  const out: Response = {
    id, rcode: '', aa: (f & 0x0400) !== 0, tc: (f & 0x0200) !== 0, rd: (f & 0x0100) !== 0, ra: (f & 0x0080) !== 0,
    question, answer: [], authority: [], additional: [], records: [], opt: undefined, size: raw.length, raw,
  };
  const names = ['answer', 'authority', 'additional'] as const;
  for (let s = 0; s < 3; s++) {
    for (let i = 0; i < counts[s + 1]; i++) {
      const [owner, e] = readName(raw, p);
      const type = raw.readUInt16BE(e);
      const cls = raw.readUInt16BE(e + 2);
      const ttl = raw.readUInt32BE(e + 4);
      const len = raw.readUInt16BE(e + 8);
      const rstart = e + 10;
      p = rstart + len;
      if (type === 41) {
        out.opt = { udpSize: cls, extRcode: raw[e + 4], version: raw[e + 5] };
        continue;
      }
      const rdata = formatRdata(type, decodeRdata(type, raw, rstart, len)).toLowerCase();
      const rec = { section: names[s], owner: owner.toLowerCase(), type: typeName(type), ttl, rdata };
      out.records.push(rec);
      out[names[s]].push(`${rec.owner} ${rec.type} ${ttl} ${rdata}`);
    }
  }
  const rcode = (f & 0x0f) | ((out.opt?.extRcode ?? 0) << 4);
  out.rcode = RCODE_NAMES[rcode] ?? String(rcode);
  return out;
}

export async function exchange(port: number, packet: Buffer, o: QueryOptions = {}): Promise<Buffer> {
  const host = o.host ?? '127.0.0.1';
  const timeout = o.timeoutMs ?? 2000;
  if ((o.transport ?? 'udp') === 'udp') {
    const sock = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
    try {
      return await new Promise<Buffer>((resolve, reject) => {
        let left = o.tries ?? 1;
        let t: NodeJS.Timeout;
        const attempt = () => {
          if (left-- === 0) { reject(new Error(`no UDP answer from ${host}:${port}`)); return; }
          t = setTimeout(attempt, timeout);
          sock.send(packet, port, host);
        };
        // Only the answer to this query (same ID) counts, as a resolver would insist.
        sock.on('message', (m) => { if (m.length >= 2 && m.readUInt16BE(0) === packet.readUInt16BE(0)) { clearTimeout(t); resolve(m); } });
        attempt();
      });
    } finally {
      sock.close();
    }
  }
  const conn = net.connect(port, host);
  try {
    return await new Promise<Buffer>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no TCP answer from ${host}:${port}`)), timeout);
      let buf = Buffer.alloc(0);
      conn.on('error', reject);
      conn.on("data", (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
        if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) { clearTimeout(t); resolve(buf.subarray(2, 2 + buf.readUInt16BE(0))); }
      });
      const len = Buffer.alloc(2);
      len.writeUInt16BE(packet.length);
      conn.write(Buffer.concat([len, packet]));
    });
  } finally {
    conn.destroy();
  }
}

export async function query(port: number, name: string, type: string | number, o: QueryOptions = {}): Promise<Response> {
  return parseResponse(await exchange(port, buildQuery(name, type, o), o));
}

/** The real dig (Debian: bind9-dnsutils), when installed. */
export const DIG_BIN = ['/usr/bin/dig', '/bin/dig'].find((p) => existsSync(p));

/** Runs the real dig against 127.0.0.1:port and returns its output. */
export function dig(port: number, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => execFile(DIG_BIN!, ['@127.0.0.1', '-p', String(port), '+time=2', '+tries=1', ...args],
    { timeout: 10_000 }, (err, stdout) => (err ? reject(err) : resolve(stdout))));
}
