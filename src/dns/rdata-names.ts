// Names inside rdata relative to a domain apex and back. Glidepath stores names at or under the apex
// relative to it (so a zone can serve several domains); clients (PowerDNS API, UPDATE) speak
// absolute names. Also the comparison key of an rdata, as RFC 2136 compares records: on the wire
// form, names case-insensitively (RFC 4343).
import { labelToText, asciiLower } from './name.js';
import type { RdataPart } from './rdata.js';

/** Absolute names ending in the apex become relative. `exact`: only when the apex labels match byte
 *  for byte (then the absolute form comes back unchanged); otherwise case-insensitively. */
export function relativize(parts: readonly RdataPart[], apex: readonly string[], exact: boolean): RdataPart[] {
  const apexText = apex.map(labelToText).join('.');
  return parts.map((p) => {
    if (p instanceof Uint8Array || p.relative || p.labels.length < apex.length) return p;
    const tail = p.labels.slice(p.labels.length - apex.length).map(labelToText).join('.');
    if (exact ? tail !== apexText : asciiLower(tail) !== asciiLower(apexText)) return p;
    return { labels: p.labels.slice(0, p.labels.length - apex.length), relative: true };
  });
}

/** Relative names completed with the apex. */
export function absolutize(parts: readonly RdataPart[], apex: readonly string[]): RdataPart[] {
  return parts.map((p) => (p instanceof Uint8Array || !p.relative ? p : { labels: [...p.labels, ...apex], relative: false }));
}

/** A key equal for two rdatas exactly when their wire forms are equal, names compared without case. */
export function rdataKey(parts: readonly RdataPart[], apex: readonly string[]): string {
  let k = '';
  for (const p of absolutize(parts, apex)) {
    if (p instanceof Uint8Array) k += Buffer.from(p).toString('hex');
    else k += '|' + p.labels.map((l) => asciiLower(labelToText(l))).join('.') + '.|';
  }
  return k;
}
