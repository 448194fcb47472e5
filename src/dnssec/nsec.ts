// NSEC for online signing (RFC 4034 4, RFC 4470, RFC 9824): the type bitmap, and the names that make
// a minimal NSEC: the immediate successor of a name ("\000." + name, RFC 4471 3.1.2) and a
// predecessor close enough that nothing real lies between (RFC 4470 4.1).
import { TYPE } from '../dns/constants.js';

/** RFC 9824 2: the pseudo-type that marks a name that does not exist. */
export const NXNAME = 128;

/** RFC 4034 4.1.2: window blocks of bitmaps, types ascending. */
export function typeBitmap(types: Iterable<number>): Uint8Array {
  const sorted = [...new Set(types)].sort((a, b) => a - b);
  const out: number[] = [];
  let i = 0;
  while (i < sorted.length) {
    const win = sorted[i] >> 8;
    const bits = new Uint8Array(32);
    let len = 0;
    while (i < sorted.length && sorted[i] >> 8 === win) {
      const low = sorted[i] & 0xff;
      bits[low >> 3] |= 0x80 >> (low & 7);
      len = (low >> 3) + 1;
      i++;
    }
    out.push(win, len, ...bits.subarray(0, len));
  }
  return Uint8Array.from(out);
}

/** The types an NSEC at a name lists besides the name's own: RRSIG and NSEC (RFC 4034 4.1.2). */
export const NSEC_SELF = [TYPE.RRSIG, TYPE.NSEC] as const;

function lowerLabel(l: string): string {
  return l.replace(/[A-Z]/g, (c) => c.toLowerCase());
}

/** Labels (lower case) of the immediate successor of `labels`: "\000" prepended (RFC 4471 3.1.2). */
export function successor(labels: readonly string[]): string[] {
  return ['\u0000', ...labels.map(lowerLabel)];
}

/** Labels of the first name after `labels` and everything below it (RFC 4470 4.1): a zero octet
 *  appended to the first label ("\000." + name would make the name an ancestor of the NSEC's next
 *  name, so it would seem to exist, which breaks a wildcard proof). */
export function successorAfterSubtree(labels: readonly string[]): string[] {
  const [first, ...rest] = labels.map(lowerLabel);
  if (first.length < 63) return [first + '\u0000', ...rest];
  // A full label: increment its last octet instead (no name longer than it, so none in between).
  return [first.slice(0, -1) + String.fromCharCode(Math.min(255, first.charCodeAt(62) + 1)), ...rest];
}

/** Labels of a name just before `labels` in canonical order (RFC 4470 4.1, simplified): the first
 *  label with its last octet decremented and filled with \255 up to 63 octets, so that only names
 *  below that made-up label could lie in between. A label ending in \000 loses that octet. */
export function predecessor(labels: readonly string[], apexLength: number): string[] {
  const [first, ...rest] = labels.map(lowerLabel);
  let label: string;
  const last = first.charCodeAt(first.length - 1);
  if (last === 0) {
    label = first.slice(0, -1);
  } else {
    let c = last - 1;
    if (c >= 0x41 && c <= 0x5a) c = 0x40; // upper case sorts as lower case: step past the letters
    label = first.slice(0, -1) + String.fromCharCode(c);
  }
  // Keep the whole name within 255 octets (RFC 1035 2.3.4).
  let used = 1 + apexLength;
  for (const l of rest) used += l.length + 1;
  const room = Math.min(63, 255 - used - 1);
  if (label.length < room) label += '\u00ff'.repeat(room - label.length);
  return label.length ? [label, ...rest] : rest;
}
