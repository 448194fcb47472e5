// Domain names as label arrays (RFC 1035 3.1). A label is a "binary string": one JS char per octet
// (0..255), original case kept. Comparison is ASCII case-insensitive only (RFC 4343 2): octets outside
// A-Z are compared exactly, so we never use String.prototype.toLowerCase on labels.

export type Labels = readonly string[];

/** RFC 1035 2.3.4: a label is at most 63 octets, a name at most 255 octets on the wire. */
export const MAX_LABEL = 63;
export const MAX_NAME_WIRE = 255;

export class NameError extends Error {}

/** Lower-cases A-Z only (RFC 4343 3). Fast path when there is nothing to change. */
export function asciiLower(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 65 && c <= 90) return lowerFrom(s, i);
  }
  return s;
}

function lowerFrom(s: string, start: number): string {
  let out = s.slice(0, start);
  for (let i = start; i < s.length; i++) {
    const c = s.charCodeAt(i);
    out += c >= 65 && c <= 90 ? String.fromCharCode(c + 32) : s[i];
  }
  return out;
}

/** Presentation form of one label (RFC 1035 5.1 escapes: \. \\ \" and \DDD for non-printables). */
export function labelToText(label: string): string {
  let plain = true;
  for (let i = 0; i < label.length; i++) {
    const c = label.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f || c === 0x2e || c === 0x5c || c === 0x22 || c === 0x28 || c === 0x29 || c === 0x3b || c === 0x40 || c === 0x24) {
      plain = false;
      break;
    }
  }
  if (plain) return label;
  let out = '';
  for (let i = 0; i < label.length; i++) {
    const c = label.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f) out += '\\' + String(c).padStart(3, '0');
    else if (c === 0x2e || c === 0x5c || c === 0x22 || c === 0x28 || c === 0x29 || c === 0x3b || c === 0x40 || c === 0x24) out += '\\' + label[i];
    else out += label[i];
  }
  return out;
}

/** Absolute presentation form with the trailing dot; the root is ".". */
export function nameToText(labels: Labels): string {
  if (labels.length === 0) return '.';
  let out = '';
  for (const l of labels) out += labelToText(l) + '.';
  return out;
}

/** Lower-case key of an absolute name: presentation form with trailing dot ("." for the root). */
export function nameKey(labels: Labels): string {
  return asciiLower(nameToText(labels));
}

/** Lower-case key of a name relative to an apex: "" for the apex itself, "www", "a.b". */
export function relativeKey(labels: Labels): string {
  let out = '';
  for (let i = 0; i < labels.length; i++) out += (i ? '.' : '') + labelToText(labels[i]);
  return asciiLower(out);
}

/** Splits presentation text into labels, honouring \X and \DDD escapes. Returns the labels and
 *  whether the text was absolute (ended in an unescaped dot). Throws NameError on bad syntax. */
export function splitName(text: string): { labels: string[]; absolute: boolean } {
  if (text === '.') return { labels: [], absolute: true };
  if (text.length === 0) throw new NameError('empty name');
  const labels: string[] = [];
  let cur = '';
  let absolute = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '\\') {
      const next = text[i + 1];
      if (next === undefined) throw new NameError(`dangling backslash in name "${text}"`);
      if (next >= '0' && next <= '9') {
        const digits = text.slice(i + 1, i + 4);
        if (!/^[0-9]{3}$/.test(digits)) throw new NameError(`bad \\DDD escape in name "${text}"`);
        const v = Number(digits);
        if (v > 255) throw new NameError(`\\DDD escape over 255 in name "${text}"`);
        cur += String.fromCharCode(v);
        i += 3;
      } else {
        cur += next;
        i += 1;
      }
    } else if (ch === '.') {
      if (cur.length === 0) throw new NameError(`empty label in name "${text}"`);
      labels.push(cur);
      cur = '';
      if (i === text.length - 1) absolute = true;
    } else {
      const c = text.charCodeAt(i);
      if (c > 255) throw new NameError(`non-ASCII character in name "${text}" (use IDNA A-labels)`);
      cur += ch;
    }
  }
  if (!absolute) {
    if (cur.length === 0) throw new NameError(`empty label in name "${text}"`);
    labels.push(cur);
  }
  checkLengths(labels, text);
  return { labels, absolute };
}

/** RFC 1035 2.3.4 limits; throws NameError naming the offending name. */
export function checkLengths(labels: Labels, shown?: string): void {
  let wire = 1;
  for (const l of labels) {
    if (l.length > MAX_LABEL) throw new NameError(`label "${labelToText(l)}" is ${l.length} octets, over 63 (RFC 1035 2.3.4)`);
    if (l.length === 0) throw new NameError('empty label');
    wire += l.length + 1;
  }
  if (wire > MAX_NAME_WIRE) throw new NameError(`name "${shown ?? nameToText(labels)}" is ${wire} octets on the wire, over 255 (RFC 1035 2.3.4)`);
}

/** Parses an absolute name given as text, with or without the trailing dot (API input). */
export function parseAbsoluteName(text: string): string[] {
  const t = text.endsWith('.') ? text : text + '.';
  return splitName(t).labels;
}

/** True when `name` equals `apex` or lies under it (case-insensitive). */
export function isAtOrBelow(name: Labels, apex: Labels): boolean {
  if (name.length < apex.length) return false;
  const off = name.length - apex.length;
  for (let i = 0; i < apex.length; i++) {
    if (asciiLower(name[off + i]) !== asciiLower(apex[i])) return false;
  }
  return true;
}

/** Wire length of an uncompressed name. */
export function wireLength(labels: Labels): number {
  let n = 1;
  for (const l of labels) n += l.length + 1;
  return n;
}

/** Names in stored zone text: "@" is the apex, a trailing dot makes a name absolute, anything else
 *  is relative to whatever domain serves the zone. (The shape is dns/rdata.ts's RdataName.) */
export function resolveZoneName(text: string): { labels: string[]; relative: boolean } {
  if (text === '@') return { labels: [], relative: true };
  const { labels, absolute } = splitName(text);
  return { labels, relative: !absolute };
}
