// The active probes: a TCP connect, and an HTTP(S) GET whose status must be the expected one.
// Each resolves (never rejects) with whether it succeeded and a short text for the check's
// `last_result` and history. No connection is reused: every run proves a fresh connection works.
import { connect } from 'node:net';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { TargetPolicy } from './targets.js';

export interface ProbeResult { ok: boolean; result: string }

/** Connects to host:port within `timeoutMs`, then closes. */
export function tcpProbe(host: string, port: number, timeoutMs: number, policy: TargetPolicy): Promise<ProbeResult> {
  const refused = policy.refusesLiteral(host);
  if (refused) return Promise.resolve({ ok: false, result: `tcp ${host}:${port}: ${refused}` });
  return new Promise((resolve) => {
    const t0 = Date.now();
    const s = connect({ host, port, lookup: policy.lookup });
    const done = (r: ProbeResult) => { clearTimeout(timer); s.destroy(); resolve(r); };
    const timer = setTimeout(() => done({ ok: false, result: `tcp ${host}:${port}: no connection within ${timeoutMs} ms` }), timeoutMs);
    s.once('connect', () => done({ ok: true, result: `tcp ${host}:${port}: connected in ${Date.now() - t0} ms` }));
    s.once('error', (err: Error & { code?: string }) => done({ ok: false, result: `tcp ${host}:${port}: ${err.code ?? err.message}` }));
  });
}

/** GET `url` within `timeoutMs` (headers and status; the body is not read past the first
 *  chunk): up when the status is `expected`. Redirects are not followed: a 301 is a 301. HTTPS
 *  verifies the certificate against the system CAs (NODE_EXTRA_CA_CERTS adds a private CA). */
export function httpProbe(url: string, expected: number, timeoutMs: number, policy: TargetPolicy): Promise<ProbeResult> {
  // Never rejects, as the other probe: a target that is no URL (written past the API) is a failure.
  let refused: string | undefined;
  try { refused = policy.refusesLiteral(new URL(url).hostname); } catch { refused = 'not a URL'; }
  if (refused) return Promise.resolve({ ok: false, result: `GET ${url}: ${refused}` });
  return new Promise((resolve) => {
    let settled = false;
    const done = (r: ProbeResult) => { if (!settled) { settled = true; clearTimeout(timer); req.destroy(); resolve(r); } };
    const u = new URL(url);
    const request = u.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = request(u, { method: 'GET', agent: false, lookup: policy.lookup, headers: { 'user-agent': 'glidepath-health-check', connection: 'close' } }, (res) => {
      const status = res.statusCode ?? 0;
      res.resume();
      done({ ok: status === expected, result: `GET ${url}: ${status}${status === expected ? '' : ` (expected ${expected})`}` });
    });
    const timer = setTimeout(() => done({ ok: false, result: `GET ${url}: no answer within ${timeoutMs} ms` }), timeoutMs);
    req.once('error', (err: Error & { code?: string }) => done({ ok: false, result: `GET ${url}: ${err.code ?? err.message}` }));
    req.end();
  });
}
