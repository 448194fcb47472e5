// DNS Cookies on the query path (RFC 7873 5.2): reads the client's COOKIE option, checks its server
// cookie against the secrets, and gives the option for the response. The secrets are shared by
// every worker and every node (GLIDEPATH_COOKIE_SECRET, or one the primary makes at start for its
// workers), so a cookie one of them made is valid at all of them. The first secret makes cookies;
// the others are only accepted, which is how a new secret rolls out (RFC 9018 5): add it second
// everywhere, then make it first everywhere, then drop the old one, with no client ever refused.
import { readCookie, makeServerCookie, serverCookieValid, addressOctets, appendOption,
  OPTION_COOKIE, CLIENT_COOKIE_SIZE, SERVER_COOKIE_SIZE } from '../dns/cookie.js';
import type { Query } from '../dns/query.js';

/** What a query's COOKIE option amounted to. */
export interface CookieState {
  readonly client: Uint8Array;
  readonly ip: Uint8Array;
  /** It carried a server cookie we (or a node sharing our secrets) made for this client. */
  readonly valid: boolean;
}

export const MALFORMED = 'malformed';

export class Cookies {
  private secrets: readonly Uint8Array[];

  /** `secrets`: 16 octets each, the one that makes cookies first. `require`: a UDP query without
   *  a valid server cookie gets BADCOOKIE (RFC 7873 5.2.3, the server's policy choice). */
  constructor(secrets: readonly Uint8Array[], readonly require = false) {
    if (!secrets.length || secrets.some((s) => s.length !== 16)) throw new RangeError('cookie secrets are 16 octets each, at least one');
    this.secrets = secrets;
  }

  /** A new list of secrets (SIGHUP). */
  setSecrets(secrets: readonly Uint8Array[]): void {
    if (!secrets.length || secrets.some((s) => s.length !== 16)) throw new RangeError('cookie secrets are 16 octets each, at least one');
    this.secrets = secrets;
  }

  /** The query's cookie; undefined when it has none; MALFORMED for FORMERR (RFC 7873 5.2.2). */
  check(msg: Uint8Array, q: Query, peer: string, nowMs: number): CookieState | typeof MALFORMED | undefined {
    const c = readCookie(msg, q);
    if (c === undefined || c === MALFORMED) return c;
    return this.state(c.client, c.server, peer, nowMs);
  }

  /** The COOKIE option whose data is msg[at, at + len) (found by the response cache's probe, of a
   *  length that is not FORMERR), as check() reads it. */
  read(msg: Uint8Array, at: number, len: number, peer: string, nowMs: number): CookieState {
    return this.state(msg.subarray(at, at + CLIENT_COOKIE_SIZE), msg.subarray(at + CLIENT_COOKIE_SIZE, at + len), peer, nowMs);
  }

  private state(client: Uint8Array, server: Uint8Array, peer: string, nowMs: number): CookieState {
    const ip = addressOctets(peer);
    // RFC 7873 5.2.3 / 5.2.4: no server cookie, or one that is not ours, is answered as if only
    // the client cookie came (with a fresh server cookie); a valid one proves the address.
    const valid = server.length > 0 && serverCookieValid(this.secrets, client, server, ip, Math.floor(nowMs / 1000));
    return { client, ip, valid };
  }

  /** The response with our COOKIE option: the client cookie and a fresh server cookie (RFC 7873
   *  5.2.3; RFC 9018 4.3 allows a new one in every response, which keeps its age below the hour). */
  attach(resp: Buffer, c: CookieState, nowMs: number): Buffer {
    const data = new Uint8Array(CLIENT_COOKIE_SIZE + SERVER_COOKIE_SIZE);
    data.set(c.client, 0);
    data.set(makeServerCookie(this.secrets[0], c.client, c.ip, Math.floor(nowMs / 1000)), CLIENT_COOKIE_SIZE);
    return appendOption(resp, OPTION_COOKIE, data);
  }
}
