// A transfer client for tests: AXFR/IXFR queries (optionally TSIG-signed), read over TCP until the
// transfer is complete by RFC 5936 / RFC 1995 rules, each message parsed by test/helpers/dig.ts.
import net from 'node:net';
import tls from 'node:tls';
import { buildQuery, parseResponse, type Response } from './dig.js';
import { sign, type TsigKey } from '../../src/dns/tsig.js';

export interface XfrResult { messages: Response[]; raw: Buffer[]; records: Response['records']; rcode: string }

/** An AXFR or IXFR query; for IXFR the client's SOA (serial `serial`) goes in the authority section. */
export function xfrQuery(zone: string, type: 'AXFR' | 'IXFR', serial = 0, id = Math.floor(Math.random() * 65536)): Buffer {
  const q = buildQuery(zone, type, { edns: null, id });
  if (type === 'AXFR') return q;
  // Authority: owner = pointer to the question name, SOA IN, TTL 0, rdata ". . serial 0 0 0 0".
  const rr = Buffer.alloc(12 + 2 + 20);
  rr.writeUInt16BE(0xc00c, 0); rr.writeUInt16BE(6, 2); rr.writeUInt16BE(1, 4); rr.writeUInt32BE(0, 6);
  rr.writeUInt16BE(22, 10); rr[12] = 0; rr[13] = 0; rr.writeUInt32BE(serial >>> 0, 14);
  const out = Buffer.concat([q, rr]);
  out.writeUInt16BE(1, 8); // NSCOUNT
  return out;
}

export function signQuery(q: Buffer, key: TsigKey, nowSec = Date.now() / 1000): { message: Buffer; mac: Buffer } {
  return sign(q, key, { now: nowSec });
}

/** True when the records so far make a complete AXFR or IXFR answer. */
export function complete(records: Response['records']): boolean {
  const soa = (i: number) => records[i]?.type === 'SOA';
  if (records.length === 0 || !soa(0)) return false;
  const serialOf = (i: number) => Number(records[i].rdata.split(' ')[2]);
  const current = serialOf(0);
  if (records.length === 1) return false;
  if (!soa(1)) { // AXFR form: ends at the second SOA
    for (let i = 1; i < records.length; i++) if (soa(i)) return true;
    return false;
  }
  // IXFR form: (old SOA, deletions, new SOA, additions)*, then the current SOA.
  let i = 1;
  for (;;) {
    if (i >= records.length) return false;
    if (serialOf(i) === current) return true;
    i++;
    while (i < records.length && !soa(i)) i++; // deletions
    i++; // new SOA
    while (i < records.length && !soa(i)) i++; // additions
  }
}

/** Sends `packet` over TCP (or TLS, with `tls` options: XoT, RFC 9103) and reads until the
 *  transfer is complete, an error RCODE arrives, or the server sends a lone SOA (IXFR: up to date /
 *  retry over TCP). */
export async function xfr(port: number, packet: Buffer, o: { host?: string; timeoutMs?: number; tls?: tls.ConnectionOptions } = {}): Promise<XfrResult> {
  const host = o.host ?? '127.0.0.1';
  const conn = o.tls ? tls.connect({ host, port, ...o.tls }) : net.connect(port, host);
  const messages: Response[] = [];
  const raw: Buffer[] = [];
  const records: Response['records'] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`transfer incomplete after ${messages.length} messages`)), o.timeoutMs ?? 10_000);
      let buf = Buffer.alloc(0);
      conn.on('error', reject);
      conn.on('close', () => { clearTimeout(t); resolve(); });
      conn.on('data', (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
        while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
          const m = buf.subarray(2, 2 + buf.readUInt16BE(0));
          buf = buf.subarray(2 + m.length);
          const r = parseResponse(Buffer.from(m));
          messages.push(r);
          raw.push(Buffer.from(m));
          records.push(...r.records.filter((x) => x.section === 'answer'));
          const lone = messages.length === 1 && records.length === 1;
          if (r.rcode !== 'NOERROR' || complete(records) || lone) { clearTimeout(t); resolve(); return; }
        }
      });
      const len = Buffer.alloc(2);
      len.writeUInt16BE(packet.length);
      conn.write(Buffer.concat([len, packet]));
    });
  } finally {
    conn.destroy();
  }
  return { messages, raw, records, rcode: messages[0]?.rcode ?? 'none' };
}
