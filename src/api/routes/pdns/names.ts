// Names and record content as PowerDNS clients see them: zone ids (=XX escapes), absolute owner
// names with the trailing dot, and record content in presentation form with absolute names, while
// Glidepath stores owners and names at or under the apex relative to it. Content round-trips byte
// for byte when the client sends it in canonical form (lego, octoDNS, external-dns and terraform
// compare strings).
import { splitName, nameToText, relativeKey, asciiLower, isAtOrBelow, NameError } from '../../../dns/name.js';
import { relativize, absolutize } from '../../../dns/rdata-names.js';
import { parseRdata, formatRdata, RdataError, type RdataPart } from '../../../dns/rdata.js';
import { TYPE } from '../../../dns/constants.js';
import { resolveZoneName } from '../../../store/records.js';

/** PowerDNS zone id (pdns ws-api.cc apiZoneNameToId): the name with every character outside
 *  [A-Za-z0-9.-] written as =XX; the root is "=2E". */
export function zoneId(name: string): string {
  if (name === '.') return '=2E';
  let out = '';
  for (const ch of Buffer.from(name, 'latin1')) {
    const c = String.fromCharCode(ch);
    out += /[A-Za-z0-9.-]/.test(c) ? c : '=' + ch.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

/** Inverse of zoneId (after the URL decoding fastify did): =XX decoded, the trailing dot optional,
 *  case ignored. Returns the domain key (lower case, trailing dot), or null when it is no name. */
export function zoneKeyOfId(id: string): string | null {
  const text = id.replace(/=([0-9A-Fa-f]{2})/g, (_m, h: string) => {
    const c = String.fromCharCode(parseInt(h, 16));
    // A decoded dot or backslash is part of a label, not a separator.
    return c === '.' || c === '\\' ? '\\' + c : c;
  });
  if (text === '\\.' || text === '' || text === '.') return null;
  try {
    const { labels } = splitName(text.endsWith('.') && !text.endsWith('\\.') ? text : text + '.');
    return labels.length ? asciiLower(nameToText(labels)) : null;
  } catch (e) {
    if (e instanceof NameError) return null;
    throw e;
  }
}

export class ContentError extends Error {}

/** Labels of the domain apex, from its key. */
export const apexLabels = (key: string): string[] => splitName(key).labels;

/** An absolute owner name from a client ("www.example.com.") as the stored relative owner ("www",
 *  "@" for the apex). Throws ContentError when it lacks the dot or lies outside the domain. */
export function ownerOf(name: string, apex: readonly string[]): string {
  if (typeof name !== 'string' || !name.endsWith('.')) throw new ContentError(`Name "${name}" is not canonical: it must end with a dot`);
  let labels: string[];
  try { labels = splitName(name).labels; } catch (e) { throw new ContentError(`Name "${name}": ${(e as Error).message}`); }
  if (!isAtOrBelow(labels, apex)) throw new ContentError(`Name "${name}" is out of zone ${nameToText(apex)}`);
  const rel = labels.slice(0, labels.length - apex.length);
  return rel.length ? relativeKey(rel) : '@';
}

/** The absolute owner name of a stored owner. */
export function ownerName(owner: string, apexKey: string): string {
  return owner === '@' ? apexKey : `${owner}.${apexKey}`;
}

/** Client content -> stored rdata. Names must be absolute (PowerDNS answers "Not in expected
 *  format" for a name without its dot); those ending exactly in the apex become relative, as the
 *  importer stores them, so the zone stays consistent for glue and delegation checks. */
export function contentToStored(type: number, content: string, apex: readonly string[]): string {
  let parts: RdataPart[];
  try {
    parts = parseRdata(type, content, (text) => {
      const { labels, absolute } = text === '.' ? { labels: [], absolute: true } : splitName(text);
      if (!absolute) throw new NameError(`"${text}" is not an absolute name (end it with a dot)`);
      return { labels, relative: false };
    });
  } catch (e) {
    if (e instanceof RdataError || e instanceof NameError) throw new ContentError(`Record content "${content}" is not in expected format: ${e.message}`);
    throw e;
  }
  // Only a byte-exact apex suffix is made relative: the output then reproduces the input.
  const rel = relativize(parts, apex, true);
  return formatRdata(type, rel);
}

/** Stored rdata -> client content, names absolute; the SOA serial replaced by the domain's. */
export function storedToContent(type: number, rdata: string, apex: readonly string[], serial?: number): string {
  let parts = absolutize(parseRdata(type, rdata, resolveZoneName), apex);
  if (type === TYPE.SOA && serial !== undefined) {
    parts = parts.map((p) => {
      if (!(p instanceof Uint8Array) || p.length !== 20) return p;
      const copy = new Uint8Array(p);
      new DataView(copy.buffer).setUint32(0, serial >>> 0);
      return copy;
    });
  }
  return formatRdata(type, parts);
}
