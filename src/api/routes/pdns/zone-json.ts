// The JSON PowerDNS returns for a zone (pdns ws-auth.cc fillZoneInfo / fillZone): the summary the
// zone list holds, and the full zone with its RRsets. Every key PowerDNS-Admin indexes is present;
// enums are the canonical spellings DNSControl's strict decoder accepts.
import type { PdnsDomain } from '../../../store/pdns.js';
import type { StoredRecord } from '../../../store/records.js';
import { typeName } from '../../../dns/constants.js';
import { zoneId, ownerName, storedToContent, apexLabels } from './names.js';

export const SERVER_PATH = '/api/v1/servers/localhost';

export function zoneSummary(d: PdnsDomain) {
  const id = zoneId(d.name);
  return {
    id, name: d.name, type: 'Zone', url: `${SERVER_PATH}/zones/${id}`, kind: d.kind, account: d.account,
    masters: d.masters, serial: d.serial, notified_serial: d.serial, edited_serial: d.serial, last_check: 0,
    dnssec: false, catalog: '',
  };
}

export interface PdnsRRset {
  name: string; type: string; ttl: number;
  records: { content: string; disabled: boolean }[];
  comments: unknown[];
}

/** RRsets by owner then type, each record's content with absolute names; the TTL shown is the
 *  lowest of the set, as the native API shows it. */
export function pdnsRRsets(d: PdnsDomain, records: readonly StoredRecord[]): PdnsRRset[] {
  const apex = apexLabels(d.name);
  const sets = new Map<string, { owner: string; type: number; ttl: number; contents: string[] }>();
  for (const r of records) {
    const k = `${r.owner}\u0000${r.type}`;
    const content = storedToContent(r.type, r.rdata, apex, d.serial);
    const s = sets.get(k);
    if (s) { s.contents.push(content); s.ttl = Math.min(s.ttl, r.ttl); } else sets.set(k, { owner: r.owner, type: r.type, ttl: r.ttl, contents: [content] });
  }
  return [...sets.values()]
    .map((s) => ({ name: ownerName(s.owner, d.name), type: typeName(s.type), ttl: s.ttl, contents: s.contents }))
    .sort((a, b) => (a.name === b.name ? (a.type < b.type ? -1 : a.type > b.type ? 1 : 0) : a.name < b.name ? -1 : 1))
    .map((s) => ({ name: s.name, type: s.type, ttl: s.ttl, records: s.contents.sort().map((content) => ({ content, disabled: false })), comments: [] }));
}

export function fullZone(d: PdnsDomain, records: readonly StoredRecord[]) {
  return {
    ...zoneSummary(d),
    rrsets: pdnsRRsets(d, records),
    soa_edit_api: d.soa_edit_api, soa_edit: '', api_rectify: false, nsec3param: '', nsec3narrow: false, presigned: false,
    master_tsig_key_ids: [], slave_tsig_key_ids: [],
  };
}
