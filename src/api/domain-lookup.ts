// Finding a tenant's domain by the name a request gives, and the check that a zone can serve a
// domain: shared by the domain, PZC and transfer routes.
import { getDomain, type Domain } from '../store/domains.js';
import { lockZoneById } from '../store/zones.js';
import { checkZoneContent, loadZoneRecords } from '../store/records.js';
import { parseAbsoluteName, nameKey, NameError } from '../dns/name.js';
import type { Client, Pool } from '../store/db.js';
import { notFound } from './errors.js';

/** Stored key of a domain name; null when it is not a valid name (or the root). */
export function domainKey(text: string): string | null {
  try {
    const labels = parseAbsoluteName(text);
    return labels.length ? nameKey(labels) : null;
  } catch (e) {
    if (e instanceof NameError) return null;
    throw e;
  }
}

/** The zone must have its apex SOA and NS (and, for a delegation-only domain, only delegations).
 *  Locks the zone row so that no RRset change slips in between the check and the commit. */
export async function checkServable(db: Client, zoneId: number, delegationOnly: boolean): Promise<void> {
  await lockZoneById(db, zoneId);
  checkZoneContent(await loadZoneRecords(db, zoneId), { delegationOnly, requireApex: true });
}

/** The tenant's domain named `text` (with or without the trailing dot), else 404; `lock` takes
 *  the row FOR UPDATE. Another tenant's domain is a 404 like a missing one. */
export async function findDomain(db: Client | Pool, tenantId: number | null, text: string, lock = false): Promise<Domain> {
  const key = domainKey(text);
  const d = key === null || tenantId === null ? undefined : await getDomain(db, tenantId, key, lock);
  if (!d) throw notFound(`domain "${text}"`);
  return d;
}
