// Questions a server answers about itself, in class CHAOS (RFC 4892): which node answered
// ("id.server", and BIND's older "hostname.bind"), so that an operator can tell the nodes of an
// anycast address apart; and, only when the operator configured one, the version ("version.server",
// "version.bind"). Everything else in CHAOS is REFUSED, as before. Pure: the identity is passed in.
import { MessageWriter } from '../dns/writer.js';
import { RCODE, TYPE, CLASS_CH } from '../dns/constants.js';
import type { Query } from '../dns/query.js';
import { header, question, opt, nsidFor, responseLimit } from './encode.js';

export interface ServerIdentity {
  /** GLIDEPATH_NODE_ID: answers id.server and hostname.bind, and NSID. */
  readonly nodeId: string;
  /** The same as octets, for the NSID option (RFC 5001 2.3). */
  readonly nsid: Uint8Array;
  /** GLIDEPATH_VERSION: version.server and version.bind stay REFUSED without it. */
  readonly version: string | undefined;
}

const writer = new MessageWriter(4096);

/** The TXT string a CHAOS name answers with, or undefined (REFUSED). Names compared lower-case. */
export function chaosText(keys: readonly string[], id: ServerIdentity): string | undefined {
  if (keys.length !== 2) return undefined;
  const name = `${keys[0]}.${keys[1]}`;
  // RFC 4892 2.3: id.server names the server instance; hostname.bind is what BIND answered first.
  if (name === 'id.server' || name === 'hostname.bind') return id.nodeId;
  if (name === 'version.server' || name === 'version.bind') return id.version;
  return undefined;
}

/** The answer to a CHAOS-class query: a TXT record with the text (TTL 0: it is about this node, not
 *  for caches to share, RFC 4892 2.2), NODATA for another type, REFUSED for a name we do not know. */
export function encodeChaos(msg: Uint8Array, q: Query, id: ServerIdentity, tcp: boolean, maxUdp: number): { out: Buffer; rcode: number } {
  const text = q.qclass === CLASS_CH ? chaosText(q.keys, id) : undefined;
  const rcode = text === undefined ? RCODE.REFUSED : RCODE.NOERROR;
  const w = writer;
  w.reset();
  header(w, q.id, q.opcode, text !== undefined, q.rd, q.cd, rcode);
  w.setU16(4, 1);
  question(w, msg, q);
  const nsid = nsidFor(q.edns, id.nsid);
  if (text !== undefined && (q.qtype === TYPE.TXT || q.qtype === TYPE.ANY)) {
    const octets = Buffer.from(text, 'utf8').subarray(0, 255); // one character-string (RFC 1035 3.3)
    const room = responseLimit(q.edns, tcp, maxUdp) - w.pos - (q.edns ? 15 + (nsid?.length ?? 0) : 0);
    if (12 + octets.length + 1 <= room) {
      w.u16(0xc000 | 12); // the question's name
      w.u16(TYPE.TXT);
      w.u16(CLASS_CH);
      w.u32(0);
      w.u16(octets.length + 1);
      w.u8(octets.length);
      w.bytes(octets);
      w.setU16(6, 1);
    }
  }
  if (q.edns) { opt(w, rcode, maxUdp, undefined, nsid); w.setU16(10, 1); }
  return { out: w.take(), rcode };
}
