// The timing of a pre-publish rollover of a combined signing key (CSK), as pure arithmetic over the
// domain's TTLs (RFC 7583). Glidepath signs with one CSK (flags 257), so a rollover changes both the
// key that signs the zone and the key the parent's DS points at:
//   publish  the new key joins the DNSKEY RRset without signing; CDS/CDNSKEY list old and new, so
//            the parent may add the new DS beside the old (RFC 7583 3.3.2 Double-DS). Waits
//            Ipub = Dprp + TTLkey (RFC 7583 3.2.1), until every cache holding the DNSKEY RRset
//            knows the new key.
//   ds       waits for the new key's DS at the parent (seen in a parent domain served here, or
//            confirmed by the operator), then for Dprp + TTLds (RFC 7583 3.3.2), until no cache
//            holds a DS RRset without it.
//   retire   the new key signs everything, the old one stays in the DNSKEY RRset without signing;
//            CDS/CDNSKEY list only the new key (the parent drops the old DS). Waits
//            Iret = Dprp + max(TTLsig, TTLkey) (RFC 7583 3.2.1; Dsgn is 0: online signing signs
//            with the new key from the first answer), until no cache holds a signature of the old key.
//   done     the old key leaves the DNSKEY RRset.
// Only one key signs at any time: pre-publication needs no double signatures.

export type RolloverPhase = 'publish' | 'ds' | 'retire';

/** Longest the DNSKEY (and CDS, CDNSKEY) RRset is cached: the SOA's TTL, at most an hour. */
export const MAX_DNSKEY_TTL = 3600;

export function dnskeyTtl(soaTtl: number | undefined): number {
  return soaTtl === undefined ? MAX_DNSKEY_TTL : Math.min(MAX_DNSKEY_TTL, soaTtl);
}

/** What the intervals are computed from (seconds). */
export interface RolloverInputs {
  /** TTL of the DNSKEY RRset (dnskeyTtl() of the largest SOA TTL the domain may serve). */
  readonly dnskeyTtl: number;
  /** Largest TTL of any RRset the domain may serve while the rollover runs (its zone, the zone of
   *  a pending PZC, scheduled RRset changes): the longest a cache keeps a signature of the old key.
   *  PZC caps only ever shorten a TTL, so the uncapped figure is an upper bound. */
  readonly maxZoneTtl: number;
  /** Dprp: how long a change takes to reach every server of the domain (secondaries included). */
  readonly propagationDelay: number;
}

export interface RolloverTiming extends RolloverInputs {
  /** RFC 7583 3.2.1 Ipub = Dprp + TTLkey. */
  readonly ipub: number;
  /** RFC 7583 3.2.1 Iret = Dsgn + Dprp + TTLsig, with Dsgn = 0 and the DNSKEY signature counted. */
  readonly iret: number;
}

export function rolloverTiming(i: RolloverInputs): RolloverTiming {
  return {
    ...i,
    ipub: i.propagationDelay + i.dnskeyTtl,
    iret: i.propagationDelay + Math.max(i.maxZoneTtl, i.dnskeyTtl),
  };
}

/** RFC 7583 3.3.2: once the DS is at the parent, caches forget the old DS RRset after Dprp + TTLds. */
export function dsWait(dsTtl: number, propagationDelay: number): number {
  return propagationDelay + dsTtl;
}

/** Parses DS RDATA text ("tag alg digest-type hex", hex possibly split by spaces) to a comparable
 *  form; undefined when it is not DS text. */
export function dsKey(text: string): string | undefined {
  const m = /^\s*(\d+)\s+(\d+)\s+(\d+)\s+([0-9a-fA-F\s]+)$/.exec(text);
  return m ? `${Number(m[1])} ${Number(m[2])} ${Number(m[3])} ${m[4].replace(/\s+/g, '').toUpperCase()}` : undefined;
}
