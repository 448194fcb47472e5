// RFC 1035 5 master files: $ORIGIN, $TTL, @, relative and omitted owners, omitted TTL and class,
// parentheses across lines, comments, quoted strings with escapes, \DDD and RFC 3597 \# rdata.
// Every name is relativized against the apex the file is for, so the stored zone can be shared.
import { splitName, isAtOrBelow, checkLengths, nameToText, NameError } from '../dns/name.js';
import { typeCode, isMetaType, typeName } from '../dns/constants.js';
import { parseRdata, RdataError, type RdataName, type RdataPart } from '../dns/rdata.js';

export interface ZoneFileRecord { owner: RdataName; ttl: number; type: number; parts: RdataPart[]; line: number }

export class ZoneFileError extends Error {
  constructor(readonly line: number, message: string) { super(message); }
}

export interface ParseOptions { origin: string[]; defaultTtl?: number }

const MAX_TTL = 2147483647;

interface Logical { text: string; line: number; indented: boolean }

/** Joins parenthesized continuations and drops comments, tracking the line each entry starts on.
 *  One entry at a time: a 10 MiB file is never held as a list of lines beside its records. */
function* logicalLines(text: string): Generator<Logical> {
  let cur = '';
  let start = 0;
  let depth = 0;
  let inQuote = false;
  let line = 1;
  let indented = false;
  let atLineStart = true;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (atLineStart && depth === 0 && !inQuote) {
      start = line;
      indented = c === ' ' || c === '\t';
      atLineStart = false;
    }
    if (inQuote) {
      if (c === '\\' && i + 1 < text.length) { cur += c + text[++i]; continue; }
      if (c === '"') inQuote = false;
      if (c === '\n') { throw new ZoneFileError(line, 'a quoted string does not end on its line'); }
      cur += c;
      continue;
    }
    if (c === '\\' && i + 1 < text.length && text[i + 1] !== '\n') { cur += c + text[++i]; continue; }
    if (c === '"') { inQuote = true; cur += c; continue; }
    if (c === ';') { while (i + 1 < text.length && text[i + 1] !== '\n') i++; continue; }
    if (c === '(') { depth++; cur += ' '; continue; }
    if (c === ')') {
      if (depth === 0) throw new ZoneFileError(line, 'a ")" without its "("');
      depth--;
      cur += ' ';
      continue;
    }
    if (c === '\n') {
      line++;
      if (depth > 0) { cur += ' '; continue; }
      if (cur.trim() !== '') yield { text: cur, line: start, indented };
      cur = '';
      atLineStart = true;
      continue;
    }
    cur += c === '\r' ? '' : c;
  }
  if (inQuote) throw new ZoneFileError(line, 'unterminated quoted string');
  if (depth > 0) throw new ZoneFileError(start, 'a "(" that is never closed');
  if (cur.trim() !== '') yield { text: cur, line: start, indented };
}

/** Next whitespace-separated token (a quoted string counts as one) and where the rest starts. */
function nextToken(s: string, from: number): { tok: string; end: number } | undefined {
  let i = from;
  while (i < s.length && (s[i] === ' ' || s[i] === '\t')) i++;
  if (i >= s.length) return undefined;
  let j = i;
  if (s[j] === '"') {
    j++;
    while (j < s.length && s[j] !== '"') j += s[j] === '\\' ? 2 : 1;
    j++;
  } else {
    while (j < s.length && s[j] !== ' ' && s[j] !== '\t') j += s[j] === '\\' ? 2 : 1;
  }
  return { tok: s.slice(i, j), end: j };
}

/** A TTL: seconds, or BIND units (1h30m, 2d, 1w). Undefined when the token is not one. */
export function parseTtl(tok: string): number | undefined {
  if (/^[0-9]+$/.test(tok)) return Number(tok);
  if (!/^([0-9]+[smhdwSMHDW])+$/.test(tok)) return undefined;
  let total = 0;
  for (const m of tok.toLowerCase().matchAll(/([0-9]+)([smhdw])/g)) {
    total += Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86400, w: 604800 }[m[2] as 's' | 'm' | 'h' | 'd' | 'w'];
  }
  return total;
}

/** The `$ORIGIN` a file opens with (before any record), if it names an absolute one: an upload
 *  without a stated origin is read relative to it, as `named-checkzone` reads a file against its
 *  origin. A relative one has nothing to complete it here; it is read against the default origin. */
export function leadingOrigin(text: string): string | undefined {
  for (const l of logicalLines(text)) {
    const first = nextToken(l.text, 0)!;
    if (first.tok.toUpperCase() === '$ORIGIN') {
      const name = nextToken(l.text, first.end)?.tok;
      return name?.endsWith('.') ? name : undefined;
    }
    if (!first.tok.startsWith('$')) return undefined;
  }
  return undefined;
}

export function parseZoneFile(text: string, opts: ParseOptions): ZoneFileRecord[] {
  return [...zoneFileRecords(text, opts)];
}

/** The records of a master file one at a time, so a caller can convert or count them as they come
 *  (the API stops at its record limit) instead of holding every parsed record at once. */
export function* zoneFileRecords(text: string, opts: ParseOptions): Generator<ZoneFileRecord> {
  const apex = opts.origin;
  let origin: string[] = [...apex];
  let defaultTtl = opts.defaultTtl;
  let lastTtl: number | undefined;
  let lastOwner: string[] | undefined;

  const absolute = (t: string, line: number): string[] => {
    try {
      if (t === '@') return origin;
      const { labels, absolute: abs } = splitName(t);
      const full = abs ? labels : [...labels, ...origin];
      checkLengths(full);
      return full;
    } catch (e) {
      throw new ZoneFileError(line, e instanceof Error ? e.message : String(e));
    }
  };
  const relativize = (labels: string[]): RdataName =>
    isAtOrBelow(labels, apex) ? { labels: labels.slice(0, labels.length - apex.length), relative: true } : { labels, relative: false };

  for (const l of logicalLines(text)) {
    const line = l.line;
    const first = nextToken(l.text, 0)!;
    if (first.tok.startsWith('$')) {
      const dir = first.tok.toUpperCase();
      const arg = nextToken(l.text, first.end);
      if (dir === '$ORIGIN') {
        if (!arg) throw new ZoneFileError(line, '$ORIGIN needs a name');
        // A relative name is relative to the current origin (RFC 1035 5.1: a relative name is
        // completed with the origin), as BIND, NSD and Knot read `$ORIGIN sub`.
        origin = absolute(arg.tok, line);
      } else if (dir === '$TTL') {
        const ttl = arg ? parseTtl(arg.tok) : undefined;
        if (ttl === undefined || ttl > MAX_TTL) throw new ZoneFileError(line, `$TTL needs a TTL from 0 to ${MAX_TTL}`);
        defaultTtl = ttl;
      } else if (dir === '$INCLUDE') {
        throw new ZoneFileError(line, '$INCLUDE is not supported: import each file on its own');
      } else {
        throw new ZoneFileError(line, `unknown directive ${first.tok}`);
      }
      continue;
    }
    let pos = 0;
    let owner: string[];
    if (l.indented) {
      if (!lastOwner) throw new ZoneFileError(line, 'no owner name, and no previous record to take it from');
      owner = lastOwner;
    } else {
      owner = absolute(first.tok, line);
      pos = first.end;
    }
    let ttl: number | undefined;
    let type: number | undefined;
    let typeText = '';
    for (let k = 0; k < 3; k++) {
      const t = nextToken(l.text, pos);
      if (!t) throw new ZoneFileError(line, 'missing record type');
      const up = t.tok.toUpperCase();
      const asTtl = parseTtl(t.tok);
      if (asTtl !== undefined && ttl === undefined) {
        if (asTtl > MAX_TTL) throw new ZoneFileError(line, `TTL ${t.tok} is over ${MAX_TTL} (RFC 2181 8)`);
        ttl = asTtl;
        pos = t.end;
        continue;
      }
      if (up === 'IN') { pos = t.end; continue; }
      if (up === 'CH' || up === 'HS' || up === 'CS' || /^CLASS[0-9]+$/.test(up)) throw new ZoneFileError(line, `class ${t.tok} is not served: only IN`);
      type = typeCode(t.tok);
      typeText = t.tok;
      pos = t.end;
      break;
    }
    if (type === undefined) throw new ZoneFileError(line, typeText ? `unknown record type "${typeText}"` : 'missing record type');
    if (isMetaType(type)) throw new ZoneFileError(line, `${typeName(type)} is a query type, not data`);
    if (ttl === undefined) ttl = defaultTtl ?? lastTtl;
    if (ttl === undefined) throw new ZoneFileError(line, 'no TTL: give one, or a $TTL before this record');
    const ownerName = relativize(owner);
    if (!ownerName.relative) throw new ZoneFileError(line, `owner ${nameToText(owner)} is outside the zone apex ${nameToText(apex)}`);
    let parts: RdataPart[];
    try {
      parts = parseRdata(type, l.text.slice(pos), (t) => relativize(absolute(t, line)));
    } catch (e) {
      if (e instanceof ZoneFileError) throw e;
      if (e instanceof RdataError || e instanceof NameError) throw new ZoneFileError(line, e.message);
      throw e;
    }
    lastOwner = owner;
    lastTtl = ttl;
    yield { owner: ownerName, ttl, type, parts, line };
  }
}
