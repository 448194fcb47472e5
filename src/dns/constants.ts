// Registry values from IANA "Domain Name System (DNS) Parameters" that the server speaks.

export const TYPE = {
  A: 1, NS: 2, CNAME: 5, SOA: 6, PTR: 12, HINFO: 13, MX: 15, TXT: 16, RP: 17, AAAA: 28, SRV: 33,
  NAPTR: 35, DNAME: 39, OPT: 41, DS: 43, SSHFP: 44, RRSIG: 46, NSEC: 47, DNSKEY: 48, NSEC3: 50,
  TLSA: 52, SVCB: 64, HTTPS: 65, IXFR: 251, AXFR: 252, ANY: 255, CAA: 257,
} as const;

const TYPE_NAMES = new Map<number, string>(Object.entries(TYPE).map(([k, v]) => [v, k]));
const TYPE_CODES = new Map<string, number>(Object.entries(TYPE));

/** Mnemonic for a type code; RFC 3597 5 form "TYPE123" for codes we have no name for. */
export function typeName(code: number): string {
  return TYPE_NAMES.get(code) ?? `TYPE${code}`;
}

/** Type code for a mnemonic or RFC 3597 "TYPEnnn"; undefined when unknown. Case-insensitive. */
export function typeCode(name: string): number | undefined {
  const up = name.toUpperCase();
  const known = TYPE_CODES.get(up);
  if (known !== undefined) return known;
  const m = /^TYPE([0-9]{1,5})$/.exec(up);
  if (m) {
    const n = Number(m[1]);
    if (n <= 65535) return n;
  }
  return undefined;
}

/** Meta and question-only types (RFC 6895 3.1): never stored as data. */
export function isMetaType(code: number): boolean {
  return code === TYPE.OPT || (code >= 128 && code <= 255) || code === 0;
}

export const CLASS_IN = 1;
/** CHAOS: where servers answer questions about themselves (id.server, RFC 4892). */
export const CLASS_CH = 3;
export const CLASS_ANY = 255;

export const OPCODE = { QUERY: 0, NOTIFY: 4, UPDATE: 5 } as const;

export const RCODE = {
  NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5, YXDOMAIN: 6, NOTAUTH: 9,
  BADVERS: 16, // extended rcode (RFC 6891 6.1.3): upper 8 bits go in the OPT TTL
} as const;

export const RCODE_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(RCODE).map(([k, v]) => [v, k]),
);
