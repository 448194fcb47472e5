// Master files in and out of the database: `glidepath import` and `glidepath export`.
import type { Client, Pool } from './db.js';
import { tx } from './db.js';
import { parseZoneFile, ZoneFileError } from '../zonefile/parse.js';
import { writeZoneFile } from '../zonefile/write.js';
import { formatRdata, parseRdata } from '../dns/rdata.js';
import { TYPE } from '../dns/constants.js';
import { parseAbsoluteName, relativeKey, nameToText, wireLength, NameError } from '../dns/name.js';
import { checkZoneContent, replaceZoneRecords, ZoneContentError, resolveZoneName, type StoredRecord } from './records.js';
import type { ZoneFileRecord } from '../zonefile/parse.js';
import { claimDomainName, DomainClaimError } from './domain-claims.js';
import { effectiveRecords } from './zone-includes.js';

export class ImportError extends Error {}
export class NotFoundError extends Error {}

export interface ImportOptions {
  file: string;
  domain?: string;
  zone?: string;
  tenant: string;
  delegationOnly: boolean;
  actor: string;
}

/** The stored form of parsed master-file records (owners and rdata names relative to the apex). */
export function toStored(records: readonly ZoneFileRecord[]): StoredRecord[] {
  return records.map((r) => ({
    owner: r.owner.relative ? (r.owner.labels.length ? relativeKey(r.owner.labels) : '@') : relativeKey(r.owner.labels),
    type: r.type,
    ttl: r.ttl,
    rdata: formatRdata(r.type, r.parts),
  }));
}

/** First $ORIGIN of the file, used when no --domain is given. */
function originOf(text: string): string | undefined {
  const m = /^\$ORIGIN[ \t]+(\S+)/im.exec(text);
  return m?.[1];
}

export async function importZoneFile(pool: Pool, text: string, o: ImportOptions) {
  const domainText = o.domain ?? originOf(text);
  if (!domainText) throw new ImportError(`${o.file}: no --domain given and no $ORIGIN in the file`);
  let apex: string[];
  try { apex = parseAbsoluteName(domainText); } catch (err) { throw new ImportError(`${o.file}: domain "${domainText}": ${(err as Error).message}`); }
  const domain = nameToText(apex).toLowerCase();
  const zoneName = o.zone ?? domain.replace(/\.$/, '');
  let stored: StoredRecord[];
  try {
    stored = toStored(parseZoneFile(text, { origin: apex }));
    checkZoneContent(stored, { delegationOnly: o.delegationOnly, requireApex: true, apexWireLength: wireLength(apex) });
  } catch (err) {
    if (err instanceof ZoneFileError) throw new ImportError(`${o.file}:${err.line}: ${err.message}`);
    if (err instanceof ZoneContentError || err instanceof NameError) throw new ImportError(`${o.file}: ${err.message}`);
    throw err;
  }
  return tx(pool, o.actor, async (c) => {
    await c.query('INSERT INTO tenants (name) VALUES ($1) ON CONFLICT (name) DO NOTHING', [o.tenant]);
    const tenantId = (await c.query<{ id: number }>('SELECT id FROM tenants WHERE name = $1', [o.tenant])).rows[0].id;
    const zoneId = (await c.query<{ id: number }>(
      `INSERT INTO zones (tenant_id, name) VALUES ($1, $2)
       ON CONFLICT (tenant_id, name) DO UPDATE SET name = EXCLUDED.name RETURNING id`, [tenantId, zoneName])).rows[0].id;
    await replaceZoneRecords(c, zoneId, await keepStoredSoaSerial(c, zoneId, domain, stored));
    const existing = (await c.query<{ tenant_id: number }>('SELECT tenant_id FROM domains WHERE name = $1 FOR UPDATE', [domain])).rows[0];
    // The operator's CLI acts as admin (it may load registries), under the same takeover rule.
    try {
      await claimDomainName(c, { key: domain, tenantId, delegationOnly: o.delegationOnly, admin: true, replacing: existing?.tenant_id === tenantId });
    } catch (err) {
      // The operator may be told who holds the very name; above or below, the rule's own words.
      if (err instanceof DomainClaimError && existing) throw new ImportError(`${o.file}: domain ${domain} belongs to another tenant`);
      if (err instanceof DomainClaimError) throw new ImportError(`${o.file}: ${err.message}`);
      throw err;
    }
    if (existing) {
      await c.query('UPDATE domains SET zone_id = $2, delegation_only = $3 WHERE name = $1', [domain, zoneId, o.delegationOnly]);
    } else {
      await c.query('INSERT INTO domains (name, tenant_id, zone_id, delegation_only) VALUES ($1, $2, $3, $4)',
        [domain, tenantId, zoneId, o.delegationOnly]);
    }
    const serial = (await c.query<{ serial: number }>('SELECT d.serial FROM domains d WHERE name = $1', [domain])).rows[0].serial;
    return { domain, zone: zoneName, records: stored.length, serial };
  });
}

/** An exported file's SOA carries the serial the domain serves (exportDomain), which moves past the
 *  serial stored in the zone's SOA with every change. When the file's SOA serial is the domain's
 *  current one, the stored SOA serial is kept, so reading an export back changes nothing (and the
 *  serial still goes up by one when other records changed). */
async function keepStoredSoaSerial(c: Client, zoneId: number, domain: string, records: StoredRecord[]): Promise<StoredRecord[]> {
  const cur = (await c.query<{ serial: number; rdata: string | null }>(
    `SELECT d.serial, (SELECT rdata FROM records WHERE zone_id = $2 AND owner = '@' AND type = $3 LIMIT 1) AS rdata
       FROM domains d WHERE d.name = $1 AND d.zone_id = $2`, [domain, zoneId, TYPE.SOA])).rows[0];
  if (!cur?.rdata) return records;
  const storedSerial = cur.rdata.split(' ')[2];
  return records.map((r) => {
    if (r.owner !== '@' || r.type !== TYPE.SOA) return r;
    const f = r.rdata.split(' ');
    return f.length === 7 && Number(f[2]) === Number(cur.serial) ? { ...r, rdata: [...f.slice(0, 2), storedSerial, ...f.slice(3)].join(' ') } : r;
  });
}

/** The master file a domain serves now: its zone (the PZC target once the switch time has passed)
 *  with the zones it includes merged in, and the domain's serial in the SOA. */
export async function exportDomain(pool: Pool, name: string): Promise<string> {
  let apex: string[];
  try { apex = parseAbsoluteName(name); } catch (err) { throw new NotFoundError(`"${name}": ${(err as Error).message}`); }
  const key = nameToText(apex).toLowerCase();
  const d = (await pool.query<{ zone_id: number; serial: number }>(
    `SELECT CASE WHEN pzc_at <= now() THEN pzc_zone_id ELSE zone_id END AS zone_id, d.serial FROM domains d WHERE name = $1`, [key])).rows[0];
  if (!d) throw new NotFoundError(`no domain ${key}`);
  // What the domain serves: the zone's includes merged in (issue 20).
  return zoneText(apex, await effectiveRecords(pool, d.zone_id), d.serial);
}

export function zoneText(apex: string[], rows: readonly StoredRecord[], serial?: number): string {
  return writeZoneFile(apex, rows.map((r) => {
    let parts = parseRdata(r.type, r.rdata, resolveZoneName);
    if (r.type === TYPE.SOA && serial !== undefined) {
      parts = parts.map((p) => {
        if (!(p instanceof Uint8Array) || p.length !== 20) return p;
        const copy = new Uint8Array(p);
        new DataView(copy.buffer).setUint32(0, serial >>> 0);
        return copy;
      });
    }
    return { owner: resolveZoneName(r.owner), ttl: r.ttl, type: r.type, parts };
  }));
}
