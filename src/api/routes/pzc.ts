// Progressive Zone Change: schedule a domain's switch to another zone at time T, or an RRset's
// replacement at T. Until T the responder caps every TTL it hands out for what will change at the
// seconds left (src/pzc/policy.ts); from T it serves the new data by the clock; the scheduler makes
// it durable. These routes only write the schedule, and say when a switch cannot be clean: caches
// may hold records handed out, with their full TTLs, before the switch was scheduled.
import type { FastifyInstance } from 'fastify';
import type { RouteContext } from '../app.js';
import { caller, tenantFor } from '../auth.js';
import type { Domain } from '../../store/domains.js';
import { findZone, lockZone } from '../../store/zones.js';
import { loadZoneRecords, recordsFromText, checkZoneContent, type StoredRecord } from '../../store/records.js';
import {
  scheduleSwitch, switchNow, cancelSwitch, maxZoneTtl, upcomingSwitches,
  putScheduledRRset, getScheduledRRset, deleteScheduledRRset, upcomingRRsets, type ScheduledRRset,
} from '../../store/pzc.js';
import { zoneUse } from '../../store/zones.js';
import { TYPE, typeName } from '../../dns/constants.js';
import type { Client, Pool } from '../../store/db.js';
import { tx } from '../../store/db.js';
import { ApiError, notFound } from '../errors.js';
import { findDomain, checkServable } from '../domain-lookup.js';

import { editZone, lockZoneOr404, rrsetKey, without } from '../zone-edit.js';
import { obj, str, dateTime, responses, empty, tenantQuery, ZONE_NAME, UINT } from '../schemas.js';

type Q = { tenant?: string };
const nameParams = obj({ name: str({ maxLength: 1024 }) }, ['name']);
const setParams = obj({ zone: str({ pattern: ZONE_NAME }), owner: str({ maxLength: 1024 }), type: str({ maxLength: 16 }) }, ['zone', 'owner', 'type']);
const at = str({ format: 'date-time', description: 'Switch time, RFC 3339 in whole seconds (e.g. 2026-12-01T14:00:00Z). A time already past is applied at once.' });

const warning = obj({ code: str(), message: str() }, ['code', 'message']);
const timing = {
  at: dateTime,
  seconds_left: { type: 'integer', description: 'Seconds until the switch (0 once applied).' },
  cap: { type: ['integer', 'null'], description: 'The largest TTL served for what changes, now (null: no cap in force).' },
  max_ttl: { type: 'integer', description: 'The largest TTL handed out before the switch was scheduled.' },
  clean_from: { ...dateTime, description: 'From this time no cache can hold data handed out before the schedule was made.' },
  applied: { type: 'boolean', description: 'True when the time had passed and the change was applied at once.' },
  warnings: { type: 'array', items: warning },
};
const timingKeys = ['at', 'seconds_left', 'cap', 'max_ttl', 'clean_from', 'applied', 'warnings'];
const switchSchema = obj({ domain: str(), from_zone: str(), zone: str(), ...timing }, ['domain', 'from_zone', 'zone', ...timingKeys]);
const rrsetChangeSchema = obj({
  zone: str(), owner: str(), type: str(), ttl: { type: 'integer' },
  records: { type: 'array', items: str(), description: 'The RRset from T on; empty: deleted at T.' },
  failed: { type: ['string', 'null'], description: 'Why the scheduler could not apply it at T (left for an operator).' },
  ...timing,
}, ['zone', 'owner', 'type', 'ttl', 'records', 'failed', ...timingKeys]);

/** Parses `at`: RFC 3339, whole seconds (the database keeps whole seconds, and the cap counts them). */
function parseAt(text: string): Date {
  const d = new Date(text);
  const problem = Number.isNaN(d.getTime()) ? 'not an RFC 3339 date-time'
    : d.getTime() % 1000 !== 0 ? 'must be in whole seconds'
      : undefined;
  if (problem) throw new ApiError('invalid_data', `"at": ${problem}`, [{ path: 'at', problem }]);
  return d;
}

function parseBefore(text: string | undefined): Date | null {
  if (text === undefined) return null;
  const d = new Date(text);
  if (Number.isNaN(d.getTime())) throw new ApiError('invalid_data', '"before": not an RFC 3339 date-time', [{ path: 'before', problem: 'not an RFC 3339 date-time' }]);
  return d;
}

/** Seconds left, the cap in force, and the classic caveat of scheduled DNS changes made visible. */
function timingOf(atDate: Date, maxTtl: number, scheduledAt: Date, nowMs: number, applied: boolean) {
  const left = Math.max(0, Math.floor((atDate.getTime() - nowMs) / 1000));
  const clean = new Date(Math.ceil(scheduledAt.getTime() / 1000) * 1000 + maxTtl * 1000);
  const warnings: { code: string; message: string }[] = [];
  if (!applied && clean.getTime() > atDate.getTime()) {
    warnings.push({
      code: 'ttl_outlives_switch',
      message: `records with TTLs up to ${maxTtl} s were handed out before this was scheduled; caches may hold them until ` +
        `${clean.toISOString()}, after the switch at ${atDate.toISOString()}. The switch is clean from ${clean.toISOString()} on.`,
    });
  }
  return { at: atDate, seconds_left: applied ? 0 : left, cap: applied ? null : left, max_ttl: maxTtl, clean_from: clean, applied, warnings };
}

/** RFC 2308 5: the negative-caching TTL of a zone, min(SOA TTL, SOA MINIMUM); 0 without an SOA. */
function negativeTtl(records: readonly StoredRecord[]): number {
  const soa = records.find((r) => r.owner === '@' && r.type === TYPE.SOA);
  const minimum = Number(soa?.rdata.trim().split(/\s+/)[6]);
  return soa && Number.isFinite(minimum) ? Math.min(soa.ttl, minimum) : 0;
}

export async function pzcRoutes(app: FastifyInstance, { ctx }: { ctx: RouteContext }): Promise<void> {
  const switchOut = async (db: Client | Pool, d: Domain, nowMs: number) => {
    if (!d.pzc_zone || !d.pzc_at) throw notFound(`pending zone change of "${d.name}"`);
    const maxTtl = await maxZoneTtl(db, d.zone_id);
    return { domain: d.name, from_zone: d.zone, zone: d.pzc_zone, ...timingOf(d.pzc_at, maxTtl, d.updated_at, nowMs, false) };
  };

  app.put<{ Params: { name: string }; Querystring: Q; Body: { zone: string; at: string } }>('/v1/domains/:name/pzc', {
    schema: {
      tags: ['pzc'], summary: 'Schedule (or replace) the switch of a domain to another zone at a time; until then every TTL served for it is capped at the seconds left',
      params: nameParams, querystring: obj(tenantQuery),
      body: obj({ zone: str({ pattern: ZONE_NAME }), at }, ['zone', 'at']),
      response: responses({ 200: switchSchema }, 404, 409, 422),
    },
  }, async (req) => {
    const c = caller(req);
    const when = parseAt(req.body.at);
    return tx(ctx.pool, c.actor, async (db) => {
      const tenantId = await tenantFor(req, db, false);
      const d = await findDomain(db, tenantId, req.params.name, true);
      const target = await lockZone(db, tenantId!, req.body.zone);
      if (!target) throw notFound(`zone "${req.body.zone}"`);
      if (target.id === d.zone_id) {
        throw new ApiError('pzc_same_zone', `domain "${d.name}" already serves zone "${target.name}"`, [{ path: 'zone', problem: 'is the zone the domain serves now' }]);
      }
      // The target must be servable as this domain: apex SOA and NS, delegation-only rules.
      await checkServable(db, target.id, d.delegation_only);
      const nowMs = Date.now();
      const maxTtl = await maxZoneTtl(db, d.zone_id);
      if (when.getTime() <= nowMs) {
        await switchNow(db, d.id, target.id);
        return { domain: d.name, from_zone: d.zone, zone: target.name, ...timingOf(when, maxTtl, new Date(nowMs), nowMs, true) };
      }
      await scheduleSwitch(db, d.id, target.id, when);
      return { domain: d.name, from_zone: d.zone, zone: target.name, ...timingOf(when, maxTtl, new Date(nowMs), nowMs, false) };
    });
  });

  app.get<{ Params: { name: string }; Querystring: Q }>('/v1/domains/:name/pzc', {
    schema: {
      tags: ['pzc'], summary: 'The pending switch of a domain: target zone, time, seconds left, the cap in force now, warnings',
      params: nameParams, querystring: obj(tenantQuery),
      response: responses({ 200: switchSchema }, 404),
    },
  }, async (req) => {
    const d = await findDomain(ctx.pool, await tenantFor(req, ctx.pool, false), req.params.name);
    return switchOut(ctx.pool, d, Date.now());
  });

  app.delete<{ Params: { name: string }; Querystring: Q }>('/v1/domains/:name/pzc', {
    schema: {
      tags: ['pzc'], summary: 'Cancel the pending switch; normal TTLs are served again at once',
      params: nameParams, querystring: obj(tenantQuery),
      response: responses({ 204: empty }, 404),
    },
  }, async (req, reply) => {
    const c = caller(req);
    await tx(ctx.pool, c.actor, async (db) => {
      const d = await findDomain(db, await tenantFor(req, db, false), req.params.name, true);
      if (!(await cancelSwitch(db, d.id))) throw notFound(`pending zone change of "${d.name}"`);
    });
    return reply.code(204).send();
  });

  // ---- RRset-level changes: the same mechanism for one RRset of a zone. ----

  const rrsetOut = (s: ScheduledRRset, maxTtl: number, scheduledAt: Date, nowMs: number, applied: boolean) => ({
    zone: s.zone, owner: s.owner, type: typeName(s.type), ttl: s.ttl, records: s.rdatas, failed: s.failed,
    ...timingOf(s.at, maxTtl, scheduledAt, nowMs, applied),
  });
  /** What caches may hold of (owner, type) now: the RRset's TTL, or the negative TTL if there is none. */
  const heldTtl = (records: readonly StoredRecord[], k: { owner: string; type: number }) => {
    const set = records.filter((r) => r.owner === k.owner && r.type === k.type);
    return set.length ? Math.max(...set.map((r) => r.ttl)) : negativeTtl(records);
  };

  app.put<{ Params: { zone: string; owner: string; type: string }; Querystring: Q; Body: { ttl: number; records: string[]; at: string } }>('/v1/zones/:zone/scheduled-rrsets/:owner/:type', {
    schema: {
      tags: ['pzc'], summary: 'Schedule (or replace) the change of one RRset at a time ("at T, www A becomes 203.0.113.9"); records [] deletes it at T',
      params: setParams, querystring: obj(tenantQuery),
      body: obj({ ttl: { type: 'integer', minimum: 0, maximum: 2147483647 }, records: { type: 'array', items: str(), maxItems: 1000 }, at }, ['ttl', 'records', 'at']),
      response: responses({ 200: rrsetChangeSchema }, 404, 409, 422),
    },
  }, async (req) => {
    const c = caller(req);
    const when = parseAt(req.body.at);
    const set = req.body.records.length ? recordsFromText(req.params.owner, req.params.type, req.body.ttl, req.body.records) : [];
    const k = set.length ? { owner: set[0].owner, type: set[0].type } : rrsetKey(req.params.owner, req.params.type);
    return tx(ctx.pool, c.actor, async (db) => {
      const tenantId = await tenantFor(req, db, false);
      const zone = await lockZoneOr404(db, tenantId, req.params.zone);
      const current = await loadZoneRecords(db, zone.id);
      const next = [...without(current, k), ...set];
      const nowMs = Date.now();
      const maxTtl = heldTtl(current, k);
      const row = { zone: zone.name, owner: k.owner, type: k.type, ttl: req.body.ttl, rdatas: set.map((r) => r.rdata), at: when, failed: null, created_at: new Date(nowMs) };
      if (when.getTime() <= nowMs) {
        await editZone(db, req, tenantId, req.params.zone, () => next);
        await deleteScheduledRRset(db, zone.id, k.owner, k.type); // a pending one is superseded
        return rrsetOut(row, maxTtl, new Date(nowMs), nowMs, true);
      }
      // The zone as it will be at T must be valid as it is now (CNAME rule, apex, delegation-only);
      // the scheduler checks again at T, and records a failure rather than half-applying.
      const use = await zoneUse(db, zone.id);
      checkZoneContent(next, { delegationOnly: use.delegationOnly, requireApex: use.served });
      await putScheduledRRset(db, zone.id, { owner: k.owner, type: k.type, ttl: req.body.ttl, rdatas: row.rdatas, at: when });
      return rrsetOut(row, maxTtl, new Date(nowMs), nowMs, false);
    });
  });

  app.get<{ Params: { zone: string; owner: string; type: string }; Querystring: Q }>('/v1/zones/:zone/scheduled-rrsets/:owner/:type', {
    schema: {
      tags: ['pzc'], summary: 'A scheduled RRset change: the new RRset, the time, seconds left, the cap in force now, warnings',
      params: setParams, querystring: obj(tenantQuery),
      response: responses({ 200: rrsetChangeSchema }, 404, 422),
    },
  }, async (req) => {
    const tenantId = await tenantFor(req, ctx.pool, false);
    const zone = tenantId === null ? undefined : await findZone(ctx.pool, tenantId, req.params.zone);
    if (!zone) throw notFound(`zone "${req.params.zone}"`);
    const k = rrsetKey(req.params.owner, req.params.type);
    const s = await getScheduledRRset(ctx.pool, zone.id, k.owner, k.type);
    if (!s) throw notFound(`scheduled change of ${req.params.owner}/${req.params.type}`);
    return rrsetOut(s, heldTtl(await loadZoneRecords(ctx.pool, zone.id), k), s.created_at, Date.now(), false);
  });

  app.delete<{ Params: { zone: string; owner: string; type: string }; Querystring: Q }>('/v1/zones/:zone/scheduled-rrsets/:owner/:type', {
    schema: {
      tags: ['pzc'], summary: 'Cancel a scheduled RRset change; normal TTLs are served again at once',
      params: setParams, querystring: obj(tenantQuery),
      response: responses({ 204: empty }, 404, 422),
    },
  }, async (req, reply) => {
    const c = caller(req);
    const k = rrsetKey(req.params.owner, req.params.type);
    await tx(ctx.pool, c.actor, async (db) => {
      const zone = await lockZoneOr404(db, await tenantFor(req, db, false), req.params.zone);
      if (!(await deleteScheduledRRset(db, zone.id, k.owner, k.type))) throw notFound(`scheduled change of ${req.params.owner}/${req.params.type}`);
    });
    return reply.code(204).send();
  });

  app.get<{ Querystring: Q & { before?: string; limit?: string } }>('/v1/pzc', {
    schema: {
      tags: ['pzc'], summary: 'Upcoming zone switches and scheduled RRset changes of the tenant, soonest first',
      querystring: obj({
        ...tenantQuery,
        before: str({ description: 'Only those due before this RFC 3339 time.' }),
        limit: str({ pattern: UINT, description: 'At most this many of each kind, 1-1000 (default 100).' }),
      }),
      response: responses({
        200: obj({
          switches: { type: 'array', items: obj({ domain: str(), from_zone: str(), zone: str(), at: dateTime, seconds_left: { type: 'integer' } }, ['domain', 'from_zone', 'zone', 'at', 'seconds_left']) },
          rrsets: { type: 'array', items: obj({ zone: str(), owner: str(), type: str(), ttl: { type: 'integer' }, records: { type: 'array', items: str() }, at: dateTime, seconds_left: { type: 'integer' }, failed: { type: ['string', 'null'] } }, ['zone', 'owner', 'type', 'ttl', 'records', 'at', 'seconds_left', 'failed']) },
        }, ['switches', 'rrsets']),
      }, 422),
    },
  }, async (req) => {
    const before = parseBefore(req.query.before);
    const limit = Math.min(Math.max(Number(req.query.limit ?? 100), 1), 1000);
    const tenantId = await tenantFor(req, ctx.pool, false);
    if (tenantId === null) return { switches: [], rrsets: [] };
    const nowMs = Date.now();
    const left = (d: Date) => Math.max(0, Math.floor((d.getTime() - nowMs) / 1000));
    const switches = await upcomingSwitches(ctx.pool, tenantId, before, limit);
    const rrsets = await upcomingRRsets(ctx.pool, tenantId, { before, limit });
    return {
      switches: switches.map((s) => ({ ...s, seconds_left: left(s.at) })),
      rrsets: rrsets.map((s) => ({ zone: s.zone, owner: s.owner, type: typeName(s.type), ttl: s.ttl, records: s.rdatas, at: s.at, seconds_left: left(s.at), failed: s.failed })),
    };
  });
}
