// What the real-secondary suites (Knot, NSD) share: a Glidepath primary serving one domain with a
// TSIG key and NOTIFY to the secondary's port, the transfers it logs, and the answer comparison.
import assert from 'node:assert/strict';
import { after } from 'node:test';
import { spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { startTestServer, settle, waitFor, type TestServer } from './server.js';
import { query, type Response } from './dig.js';

export const ADMIN = 'test-admin-token';
export const ZONE = 'xfr.example.';
export const KEY_NAME = 'secondary-xfr.';

export interface Primary {
  s: TestServer;
  /** base64 TSIG secret (hmac-sha256) shared with the secondary. */
  secret: string;
  api(method: string, path: string, body?: unknown): Promise<unknown>;
  /** Transfers sent so far ('AXFR' or 'IXFR'), from the primary's 'transfer sent' log lines. */
  transfersSent(): string[];
}

/** A primary serving ZONE to 127.0.0.1 with TSIG, sending NOTIFY to the secondary's port. */
export async function startPrimary(secondaryPort: number): Promise<Primary> {
  const kinds: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) {
        if (!line.includes('transfer sent')) continue;
        try { kinds.push(String((JSON.parse(line) as { kind?: string }).kind)); } catch { /* not JSON */ }
      }
      done();
    },
  });
  const s = await startTestServer({ transfer: { notify: { firstDelayMs: 300 } }, log: pino({ level: 'info' }, sink) });
  const api = async (method: string, path: string, body?: unknown) => {
    const r = await fetch(s.apiUrl() + path, {
      method,
      headers: { authorization: `Bearer ${ADMIN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${text}`);
    return text ? JSON.parse(text) as unknown : undefined;
  };
  const secret = randomBytes(32).toString('base64');
  await api('POST', '/v1/zones', {
    name: 'xfr', rrsets: [
      { owner: '@', type: 'SOA', ttl: 3600, records: ['ns1 hostmaster 100 3600 600 86400 300'] },
      { owner: '@', type: 'NS', ttl: 3600, records: ['ns1', 'ns2.example.net.'] },
      { owner: '@', type: 'MX', ttl: 3600, records: ['10 mail'] },
      { owner: 'ns1', type: 'A', ttl: 3600, records: ['192.0.2.53'] },
      { owner: 'mail', type: 'A', ttl: 300, records: ['192.0.2.25'] },
      { owner: 'www', type: 'A', ttl: 300, records: ['192.0.2.80', '192.0.2.81'] },
      { owner: 'www', type: 'AAAA', ttl: 300, records: ['2001:db8::80'] },
      { owner: 'alias', type: 'CNAME', ttl: 600, records: ['www'] },
      { owner: '*.wild', type: 'TXT', ttl: 60, records: ['"wildcard"'] },
      { owner: 'txt', type: 'TXT', ttl: 60, records: ['"v=spf1 -all"', '"second string"'] },
      { owner: 'sub', type: 'NS', ttl: 3600, records: ['ns.sub'] },
      { owner: 'ns.sub', type: 'A', ttl: 3600, records: ['192.0.2.99'] },
    ],
  });
  await api('POST', '/v1/domains', { name: ZONE, zone: 'xfr' });
  await api('POST', '/v1/tsig-keys', { name: KEY_NAME, algorithm: 'hmac-sha256', secret });
  await api('PUT', `/v1/domains/${ZONE}/transfer`, { allow: ['127.0.0.0/8'], tsig_key: KEY_NAME, notify: [`127.0.0.1:${secondaryPort}`] });
  await settle(s);
  await waitFor(async () => s.transfer!.settings.get().domains.size === 1, 5000, 'transfer settings loaded');
  return { s, secret, api, transfersSent: () => [...kinds] };
}

export const soaSerial = (r: Response) => Number(r.answer[0]?.split(' ')[5]);

/** The edit both suites make: www A replaced, new TXT added. */
export async function editZone(p: Primary): Promise<void> {
  await p.api('PUT', '/v1/zones/xfr/rrsets/www/A', { ttl: 300, records: ['192.0.2.82'] });
  await p.api('PUT', '/v1/zones/xfr/rrsets/new/TXT', { ttl: 120, records: ['"added by the API"'] });
}

/** The secondary gives the same rcode, AA and answer (and, for empty answers, authority) as the
 *  primary for a spread of questions: data, CNAME, wildcard, NODATA, NXDOMAIN, referral. */
export async function assertSameAnswers(primaryPort: number, secondaryPort: number): Promise<void> {
  const questions: Array<[string, string]> = [
    [ZONE, 'SOA'], [ZONE, 'NS'], [ZONE, 'MX'], ['www.' + ZONE, 'A'], ['www.' + ZONE, 'AAAA'], ['alias.' + ZONE, 'A'],
    ['x.wild.' + ZONE, 'TXT'], ['txt.' + ZONE, 'TXT'], ['new.' + ZONE, 'TXT'], ['missing.' + ZONE, 'A'],
    ['www.' + ZONE, 'MX'], ['host.sub.' + ZONE, 'A'], ['mail.' + ZONE, 'A'],
  ];
  for (const [name, type] of questions) {
    const g = await query(primaryPort, name, type);
    const k = await query(secondaryPort, name, type);
    const what = `${name} ${type}`;
    assert.equal(k.rcode, g.rcode, what);
    assert.equal(k.aa, g.aa, what);
    assert.deepEqual([...k.answer].sort(), [...g.answer].sort(), what);
    if (g.answer.length === 0) assert.deepEqual([...k.authority].sort(), [...g.authority].sort(), what);
  }
}

/** Runs a secondary's daemon for the rest of the suite: its output lines are collected in the
 *  returned array; at the end it is stopped (SIGTERM, waited for) and its directory removed. */
export function runSecondary(bin: string, args: string[], dir: string): string[] {
  const lines: string[] = [];
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  for (const stream of [child.stdout, child.stderr]) stream.on('data', (d: Buffer) => lines.push(...d.toString().split('\n').filter(Boolean)));
  after(async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
    await rm(dir, { recursive: true, force: true });
  });
  return lines;
}
