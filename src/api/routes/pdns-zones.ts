// PowerDNS zones (pdns ws-auth.cc): a PowerDNS zone is a Glidepath domain. Creating one creates the
// domain and a zone of its own; every write is one transaction through the store (serial bumped
// once, journaled). A domain whose zone other domains use too (now or after a pending PZC) is
// refused with 422 `zone_shared`, naming the zone: a write here must not change those others.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { RouteContext } from '../app.js';
import { caller, tenantFor } from '../auth.js';
import { tx, type Client } from '../../store/db.js';
import { createZone, deleteZone, lockZoneById, zoneUse } from '../../store/zones.js';
import { createDomain, deleteDomain } from '../../store/domains.js';
import { claimDomainName, DomainClaimError } from '../../store/domain-claims.js';
import { checkZoneContent, loadZoneRecords, replaceZoneRecords, type StoredRecord } from '../../store/records.js';
import { domainNameTaken, freeZoneName, getPdnsDomain, listPdnsDomains, putPdnsMeta, type PdnsDomain, type PdnsMeta } from '../../store/pdns.js';
import { TYPE } from '../../dns/constants.js';
import { apexLabels, contentToStored, zoneKeyOfId, ContentError } from '../pdns/names.js';
import { PdnsError, invalid, zoneNotFound } from '../pdns/errors.js';
import { applyChanges, parseRRsets } from '../pdns/rrset-changes.js';
import { fullZone, zoneSummary } from '../pdns/zone-json.js';

type Json = Record<string, unknown>;
type IdParams = { Params: { id: string } };

const KINDS: Record<string, string> = {
  NATIVE: 'Native', MASTER: 'Master', SLAVE: 'Slave', PRODUCER: 'Producer', CONSUMER: 'Consumer',
  // pdns dnsbackend.hh: the newer names are aliases.
  PRIMARY: 'Master', SECONDARY: 'Slave',
};
const SOA_EDIT_API = new Set(['', 'DEFAULT', 'INCREASE', 'EPOCH', 'SOA-EDIT', 'SOA-EDIT-INCREASE', 'NONE']);
const ZONE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,252}$/;

const body = (req: FastifyRequest): Json => {
  const b = req.body;
  if (b === undefined || b === null) return {};
  if (typeof b !== 'object' || Array.isArray(b)) throw new PdnsError(400, 'the body must be a JSON object', 'bad_request');
  return b as Json;
};

function kindOf(v: unknown, fallback?: string): string {
  if (v === undefined || v === null) {
    if (fallback) return fallback;
    throw invalid('"kind" is required (Native, Master or Slave)', 'kind_required');
  }
  const k = typeof v === 'string' ? KINDS[v.toUpperCase()] : undefined;
  if (!k) throw invalid(`"kind" "${String(v)}" is not one of Native, Master, Slave, Producer, Consumer`, 'invalid_kind');
  return k;
}

function soaEditApiOf(v: unknown, fallback: string): string {
  if (v === undefined || v === null) return fallback;
  const s = typeof v === 'string' ? v.toUpperCase() : undefined;
  if (s === undefined || !SOA_EDIT_API.has(s)) throw invalid(`"soa_edit_api" "${String(v)}" is not one of DEFAULT, INCREASE, EPOCH, SOA-EDIT, SOA-EDIT-INCREASE, NONE, ""`, 'invalid_soa_edit_api');
  return s;
}

function metaOf(b: Json, cur: PdnsMeta | undefined): PdnsMeta {
  const account = b.account === undefined || b.account === null ? cur?.account ?? '' : b.account;
  if (typeof account !== 'string' || account.length > 255) throw invalid('"account" must be a string of at most 255 characters', 'invalid_account');
  const masters = b.masters === undefined || b.masters === null ? cur?.masters ?? [] : b.masters;
  if (!Array.isArray(masters) || !masters.every((m) => typeof m === 'string')) throw invalid('"masters" must be an array of strings', 'invalid_masters');
  return {
    kind: kindOf(b.kind, cur?.kind), account, masters: masters as string[],
    soa_edit_api: soaEditApiOf(b.soa_edit_api, cur?.soa_edit_api ?? 'DEFAULT'),
  };
}

/** The caller's tenant scope: a tenant token its own, the admin token every tenant (null). */
const scope = (req: FastifyRequest): number | null => { const c = caller(req); return c.admin ? null : c.tenantId; };

/** The domain a zone id names, visible to the caller, else 404 (another tenant's answers the same). */
export async function domainOf(db: Client | RouteContext['pool'], req: FastifyRequest, id: string, lock = false): Promise<PdnsDomain> {
  const key = zoneKeyOfId(id);
  const d = key === null ? undefined : await getPdnsDomain(db, scope(req), key, lock);
  if (!d) throw zoneNotFound();
  return d;
}

/** Refuses a write to a domain whose zone other domains serve (now or after a pending PZC). */
export async function ownZoneOrRefuse(db: Client, d: PdnsDomain): Promise<void> {
  const use = await zoneUse(db, d.zone_id);
  const others = use.domains.filter((n) => n !== d.name);
  if (others.length) {
    throw invalid(`Zone "${d.zone}" that serves ${d.name} is shared with ${others.join(', ')}; a change here would change them too. `
      + 'Edit the zone through /v1/zones, or point this domain at a zone of its own', 'zone_shared');
  }
}

/** Applies `edit` to the domain's records under the zone lock, with the zone-wide rules checked on
 *  the result; writes only the difference (one serial bump, one journal entry per statement). */
export async function editDomainRecords(db: Client, d: PdnsDomain, edit: (cur: StoredRecord[]) => StoredRecord[]): Promise<void> {
  await ownZoneOrRefuse(db, d);
  await lockZoneById(db, d.zone_id);
  const cur = await loadZoneRecords(db, d.zone_id);
  const next = edit(cur);
  checkZoneContent(next, { delegationOnly: d.delegation_only, requireApex: true });
  await replaceZoneRecords(db, d.zone_id, next);
}

export async function pdnsZoneRoutes(app: FastifyInstance, { ctx }: { ctx: RouteContext }): Promise<void> {
  const S = '/v1/servers/localhost';

  app.get(`${S}/zones`, { schema: { tags: ['powerdns'], summary: 'PowerDNS: list zones (the caller\'s domains)' } }, async (req) => {
    const q = req.query as { zone?: string };
    let list = await listPdnsDomains(ctx.pool, scope(req));
    if (q.zone !== undefined) { const k = zoneKeyOfId(q.zone); list = list.filter((d) => d.name === k); }
    return list.map(zoneSummary);
  });

  app.get<IdParams>(`${S}/zones/:id`, { schema: { tags: ['powerdns'], summary: 'PowerDNS: a zone with its RRsets' } }, async (req) => {
    const d = await domainOf(ctx.pool, req, req.params.id);
    return fullZone(d, await loadZoneRecords(ctx.pool, d.zone_id));
  });

  app.post(`${S}/zones`, { schema: { tags: ['powerdns'], summary: 'PowerDNS: create a zone (a domain with a zone of its own); 201' } }, async (req, reply) => {
    const b = body(req);
    if (typeof b.name !== 'string' || !b.name.endsWith('.')) throw invalid(`DNS Name "${String(b.name)}" is not canonical: a zone name must end with a dot`, 'invalid_name');
    const key = zoneKeyOfId(b.name);
    if (key === null) throw invalid(`"${b.name}" is not a domain name`, 'invalid_name');
    const meta = metaOf(b, undefined);
    const apex = apexLabels(key);
    const changes = parseRRsets(b.rrsets, apex, { create: true });
    let records = applyChanges([], changes);
    const nameservers = b.nameservers ?? [];
    if (!Array.isArray(nameservers) || !nameservers.every((n) => typeof n === 'string')) throw invalid('"nameservers" must be an array of names', 'invalid_nameservers');
    const hasNs = records.some((r) => r.owner === '@' && r.type === TYPE.NS);
    // pdns: the nameservers list and an apex NS RRset are two ways to say one thing; the RRset wins.
    if (!hasNs && nameservers.length) {
      records.push(...(nameservers as string[]).map((n) => {
        try { return { owner: '@', type: TYPE.NS, ttl: 3600, rdata: contentToStored(TYPE.NS, n, apex) }; } catch (e) {
          if (e instanceof ContentError) throw invalid(`nameservers: ${e.message}`, 'invalid_nameservers');
          throw e;
        }
      }));
    }
    if (!records.some((r) => r.owner === '@' && r.type === TYPE.SOA)) {
      // pdns builds a default SOA (default-soa-content); ours names the first name server.
      const ns = records.find((r) => r.owner === '@' && r.type === TYPE.NS);
      const mname = ns ? ns.rdata : 'ns.invalid.';
      records.push({ owner: '@', type: TYPE.SOA, ttl: 3600, rdata: `${mname} hostmaster 1 10800 3600 604800 3600` });
    }
    records = [...new Map(records.map((r) => [`${r.owner}\u0000${r.type}\u0000${r.rdata}`, r])).values()];
    checkZoneContent(records, { delegationOnly: false, requireApex: true });
    const c = caller(req);
    const d = await tx(ctx.pool, c.actor, async (db) => {
      const tenantId = c.admin ? (await tenantFor(req, db, true))! : c.tenantId!;
      if (await domainNameTaken(db, key)) throw new PdnsError(409, `Conflict: domain ${key} already exists`, 'domain_taken');
      // The one rule against taking over another tenant's names (store/domain-claims.ts), as in the
      // native API: PowerDNS's 409 for a name held (by anyone), 422 for a public suffix.
      try {
        await claimDomainName(db, { key, tenantId, delegationOnly: false, admin: c.admin });
      } catch (e) {
        if (e instanceof DomainClaimError) throw new PdnsError(e.code === 'public_suffix' ? 422 : 409, e.message, e.code);
        throw e;
      }
      const base = key.replace(/\.$/, '');
      const zone = await createZone(db, tenantId, await freeZoneName(db, tenantId, ZONE_NAME.test(base) ? base : 'pdns-zone'));
      await replaceZoneRecords(db, zone.id, records);
      await createDomain(db, { name: key, tenantId, zoneId: zone.id, delegationOnly: false });
      const created = (await getPdnsDomain(db, tenantId, key))!;
      await putPdnsMeta(db, created.id, meta);
      return (await getPdnsDomain(db, tenantId, key))!;
    });
    return reply.code(201).send(fullZone(d, await loadZoneRecords(ctx.pool, d.zone_id)));
  });

  app.put<IdParams>(`${S}/zones/:id`, { schema: { tags: ['powerdns'], summary: 'PowerDNS: change kind, account, soa_edit_api, masters; 204' } }, async (req, reply) => {
    const b = body(req);
    await tx(ctx.pool, caller(req).actor, async (db) => {
      const d = await domainOf(db, req, req.params.id, true);
      await putPdnsMeta(db, d.id, metaOf(b, d));
      // pdns: a PUT may carry rrsets too; they replace the sets they name.
      if (b.rrsets !== undefined) {
        const changes = parseRRsets(b.rrsets, apexLabels(d.name), { create: true });
        if (changes.length) await editDomainRecords(db, d, (cur) => applyChanges(cur, changes));
      }
    });
    return reply.code(204).send();
  });

  app.delete<IdParams>(`${S}/zones/:id`, { schema: { tags: ['powerdns'], summary: 'PowerDNS: delete a zone (the domain, and its zone unless another domain uses it); 204' } }, async (req, reply) => {
    await tx(ctx.pool, caller(req).actor, async (db) => {
      const d = await domainOf(db, req, req.params.id, true);
      await deleteDomain(db, d.id);
      await lockZoneById(db, d.zone_id);
      if (!(await zoneUse(db, d.zone_id)).served) await deleteZone(db, d.zone_id);
    });
    return reply.code(204).send();
  });

  app.patch<IdParams>(`${S}/zones/:id`, { schema: { tags: ['powerdns'], summary: 'PowerDNS: change RRsets (REPLACE, DELETE, EXTEND, PRUNE) in one transaction; 204' } }, async (req, reply) => {
    const b = body(req);
    await tx(ctx.pool, caller(req).actor, async (db) => {
      const d = await domainOf(db, req, req.params.id, true);
      const changes = parseRRsets(b.rrsets, apexLabels(d.name), { create: false });
      if (changes.length) await editDomainRecords(db, d, (cur) => applyChanges(cur, changes));
    });
    return reply.code(204).send();
  });

  app.put<IdParams>(`${S}/zones/:id/notify`, { schema: { tags: ['powerdns'], summary: 'PowerDNS: queue a NOTIFY (Glidepath NOTIFYs every serial change already)' } }, async (req) => {
    await domainOf(ctx.pool, req, req.params.id);
    return { result: 'Notification queued' };
  });

  app.put<IdParams>(`${S}/zones/:id/rectify`, { schema: { tags: ['powerdns'], summary: 'PowerDNS: rectify (nothing to do without DNSSEC)' } }, async (req) => {
    await domainOf(ctx.pool, req, req.params.id);
    return { result: 'Rectified' };
  });

}
