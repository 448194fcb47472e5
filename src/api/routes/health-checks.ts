// Health checks (issue 20): define them, see their state and history, hand a server a token that
// may only send its heartbeats, and take those heartbeats. Records name a check in RRset writes
// (routes/rrsets.ts, ../health-gates.ts); the checks run in src/health/ on the primary side.
import type { FastifyInstance } from 'fastify';
import type { RouteContext } from '../app.js';
import { caller, tenantFor } from '../auth.js';
import { tx } from '../../store/db.js';
import { createToken } from '../../store/tokens.js';
import {
  checkHistory, checkUsers, createCheck, deleteCheck, findCheck, heartbeat, listChecks, updateCheck, parseTcpTarget,
  type CheckKind, type CheckSettings, type HealthCheck,
} from '../../store/health.js';
import { ApiError, notFound } from '../errors.js';
import { typeName } from '../../dns/constants.js';

import { obj, str, dateTime, responses, empty, tenantQuery, pageQuery, page, next } from '../schemas.js';

export const HEARTBEAT_ROUTE = '/v1/heartbeats/:check';
const CHECK_NAME = '^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$';
const KINDS: CheckKind[] = ['passive', 'tcp', 'http', 'https'];

type Q = { tenant?: string };
interface Body {
  name?: string; kind?: CheckKind; target?: string | null; expected_status?: number | null; interval?: number; timeout_ms?: number;
  up_threshold?: number; down_threshold?: number; max_age?: number | null;
}

const int = (min: number, max: number, description: string) => ({ type: 'integer', minimum: min, maximum: max, description });
const settingsProps = {
  kind: str({ enum: KINDS, description: 'passive: heartbeats (POST /v1/heartbeats/{name}); tcp: connect; http/https: GET with the expected status.' }),
  target: { type: ['string', 'null'], maxLength: 2048, description: 'tcp: host:port ([v6]:port); http/https: the URL; passive: none.' },
  expected_status: { type: ['integer', 'null'], minimum: 100, maximum: 599, description: 'http/https: the status that means up (default 200).' },
  interval: int(1, 86400, 'Active checks: seconds between runs (default 10).'),
  timeout_ms: int(100, 60000, 'Active checks: a run fails after this (default 2000; at most the interval).'),
  up_threshold: int(1, 100, 'Successes in a row that turn a down check up (default 2).'),
  down_threshold: int(1, 100, 'Failures in a row that turn an up check down (default 3).'),
  max_age: { type: ['integer', 'null'], minimum: 1, maximum: 86400, description: 'Passive checks: up while the last heartbeat is younger than this many seconds.' },
};
const state = str({ enum: ['up', 'down'] });
const checkProps = {
  name: str(), ...settingsProps,
  state, state_since: dateTime,
  last_result: { type: ['string', 'null'] },
  last_checked_at: { anyOf: [{ type: 'null' }, dateTime] },
  last_heartbeat_at: { anyOf: [{ type: 'null' }, dateTime] },
  created_at: dateTime,
};
const required = Object.keys(checkProps);
const checkSchema = obj(checkProps, required);
const historySchema = { type: 'array', items: obj({ at: dateTime, state, reason: str() }, ['at', 'state', 'reason']), description: 'The last state changes, newest first (at most 100).' };
const nameParams = obj({ name: str({ pattern: CHECK_NAME }) }, ['name']);

function out(h: HealthCheck) {
  return {
    name: h.name, kind: h.kind, target: h.target, expected_status: h.expected_status, interval: h.interval_s, timeout_ms: h.timeout_ms,
    up_threshold: h.up_threshold, down_threshold: h.down_threshold, max_age: h.max_age_s, state: h.state, state_since: h.state_since,
    last_result: h.last_result, last_checked_at: h.last_checked_at, last_heartbeat_at: h.last_heartbeat_at, created_at: h.created_at,
  };
}

const bad = (path: string, problem: string) => new ApiError('invalid_data', `${path}: ${problem}`, [{ path, problem }]);


/** The settings a body gives, over `base` (PATCH) or the defaults; 422 naming the field when the
 *  combination does not make a check. */
function settingsOf(b: Body, base?: CheckSettings): CheckSettings {
  const kind = b.kind ?? base?.kind;
  if (!kind) throw bad('kind', 'required: passive, tcp, http or https');
  const kindChanged = base !== undefined && kind !== base.kind;
  const pick = <K extends keyof CheckSettings>(k: K, v: CheckSettings[K] | undefined, dflt: CheckSettings[K]): CheckSettings[K] =>
    v !== undefined ? v : base && !kindChanged ? base[k] : dflt;
  const s: CheckSettings = {
    kind,
    target: pick('target', b.target, null),
    expected_status: pick('expected_status', b.expected_status, kind === 'http' || kind === 'https' ? 200 : null),
    interval_s: b.interval ?? base?.interval_s ?? 10,
    timeout_ms: b.timeout_ms ?? base?.timeout_ms ?? 2000,
    up_threshold: b.up_threshold ?? base?.up_threshold ?? 2,
    down_threshold: b.down_threshold ?? base?.down_threshold ?? 3,
    max_age_s: pick('max_age_s', b.max_age, null),
  };
  if (kind === 'passive') {
    if (s.target !== null) throw bad('target', 'a passive check has no target: the server sends heartbeats');
    if (s.expected_status !== null) throw bad('expected_status', 'only http and https checks have an expected status');
    if (s.max_age_s === null) throw bad('max_age', 'required for a passive check: seconds a heartbeat keeps it up');
    return s;
  }
  if (s.max_age_s !== null) throw bad('max_age', 'only passive checks have a max_age');
  if (s.target === null) throw bad('target', `required for a ${kind} check`);
  if (kind === 'tcp') {
    if (!parseTcpTarget(s.target)) throw bad('target', 'a tcp check needs host:port (port 1-65535; [v6 address]:port)');
    if (s.expected_status !== null) throw bad('expected_status', 'only http and https checks have an expected status');
  } else {
    let u: URL | undefined;
    try { u = new URL(s.target); } catch { u = undefined; }
    if (!u || u.protocol !== `${kind}:`) throw bad('target', `an ${kind} check needs a URL starting ${kind}://`);
    if (u.username || u.password) throw bad('target', 'no credentials in the URL');
  }
  if (s.timeout_ms > s.interval_s * 1000) throw bad('timeout_ms', `at most the interval (${s.interval_s * 1000} ms): runs never overlap`);
  return s;
}

async function checkOr404(db: Parameters<typeof findCheck>[0], tenant: number | null, name: string, lock = false): Promise<HealthCheck> {
  const h = tenant === null ? undefined : await findCheck(db, tenant, name, lock);
  if (!h) throw notFound(`health check "${name}"`);
  return h;
}

export async function healthCheckRoutes(app: FastifyInstance, { ctx }: { ctx: RouteContext }): Promise<void> {
  app.post<{ Querystring: Q; Body: Body & { name: string; kind: CheckKind } }>('/v1/health-checks', {
    schema: {
      tags: ['health-checks'], summary: 'Create a health check; records name it in RRset writes (health_checks)',
      querystring: obj(tenantQuery),
      body: obj({ name: str({ pattern: CHECK_NAME }), ...settingsProps }, ['name', 'kind']),
      response: responses({ 201: checkSchema }, 404, 409, 422),
    },
  }, async (req, reply) => {
    const c = caller(req);
    const s = settingsOf(req.body);
    const h = await tx(ctx.pool, c.actor, async (db) => {
      const tenant = (await tenantFor(req, db, true))!;
      if (await findCheck(db, tenant, req.body.name)) throw new ApiError('health_check_exists', `a health check "${req.body.name}" exists`, [{ path: 'name', problem: 'taken' }]);
      return createCheck(db, tenant, req.body.name, s);
    });
    return reply.code(201).send(out(h));
  });

  app.get<{ Querystring: Q & { limit?: string; after?: string } }>('/v1/health-checks', {
    schema: {
      tags: ['health-checks'], summary: 'List the tenant\'s health checks with their state, by name',
      querystring: obj({ ...tenantQuery, ...pageQuery }),
      response: responses({ 200: obj({ health_checks: { type: 'array', items: checkSchema }, next: { type: ['string', 'null'] } }, ['health_checks', 'next']) }, 404),
    },
  }, async (req) => {
    const tenant = await tenantFor(req, ctx.pool, false);
    const p = page(req.query);
    const list = tenant === null ? [] : await listChecks(ctx.pool, tenant, p);
    return { health_checks: list.map(out), next: next(list, p.limit, (h) => h.name) };
  });

  app.get<{ Params: { name: string }; Querystring: Q }>('/v1/health-checks/:name', {
    schema: {
      tags: ['health-checks'], summary: 'One health check: its settings, state and the last state changes',
      params: nameParams, querystring: obj(tenantQuery),
      response: responses({ 200: obj({ ...checkProps, history: historySchema }, [...required, 'history']) }, 404),
    },
  }, async (req) => {
    const h = await checkOr404(ctx.pool, await tenantFor(req, ctx.pool, false), req.params.name);
    return { ...out(h), history: await checkHistory(ctx.pool, h.id) };
  });

  app.patch<{ Params: { name: string }; Querystring: Q; Body: Body }>('/v1/health-checks/:name', {
    schema: {
      tags: ['health-checks'], summary: 'Change a health check\'s settings (the fields given); its state stays until the next result',
      params: nameParams, querystring: obj(tenantQuery),
      body: obj(settingsProps),
      response: responses({ 200: checkSchema }, 404, 422),
    },
  }, async (req) => {
    const c = caller(req);
    const h = await tx(ctx.pool, c.actor, async (db) => {
      const cur = await checkOr404(db, await tenantFor(req, db, false), req.params.name, true);
      return updateCheck(db, cur.id, settingsOf(req.body, { ...cur }));
    });
    return out(h);
  });

  app.delete<{ Params: { name: string }; Querystring: Q }>('/v1/health-checks/:name', {
    schema: {
      tags: ['health-checks'], summary: 'Delete a health check that no record names (its heartbeat tokens go with it)',
      params: nameParams, querystring: obj(tenantQuery),
      response: responses({ 204: empty }, 404, 409),
    },
  }, async (req, reply) => {
    const c = caller(req);
    await tx(ctx.pool, c.actor, async (db) => {
      const h = await checkOr404(db, await tenantFor(req, db, false), req.params.name, true);
      const users = await checkUsers(db, h.id);
      if (users.length) {
        throw new ApiError('health_check_in_use', `records name the health check "${h.name}": remove it from them first`,
          users.map((u) => ({ path: `${u.zone}/${u.owner}/${typeName(u.type)}`, problem: 'a record of this RRset names the check' })));
      }
      await deleteCheck(db, h.id);
    });
    return reply.code(204).send();
  });

  app.post<{ Params: { name: string }; Querystring: Q; Body: Record<string, never> }>('/v1/health-checks/:name/tokens', {
    schema: {
      tags: ['health-checks'], summary: 'A token that may only send this check\'s heartbeats (give it to the server it watches); shown once',
      params: nameParams, querystring: obj(tenantQuery), body: obj({}),
      response: responses({ 201: obj({ id: str({ format: 'uuid' }), token: str(), health_check: str() }, ['id', 'token', 'health_check']) }, 404),
    },
  }, async (req, reply) => {
    const c = caller(req);
    const t = await tx(ctx.pool, c.actor, async (db) => {
      const tenant = await tenantFor(req, db, false);
      const h = await checkOr404(db, tenant, req.params.name);
      return createToken(db, { admin: false, tenantId: tenant, healthCheckId: h.id });
    });
    return reply.code(201).send({ id: t.id, token: t.token, health_check: req.params.name });
  });

  app.post<{ Params: { check: string }; Querystring: Q }>(HEARTBEAT_ROUTE, {
    schema: {
      tags: ['health-checks'], summary: 'A heartbeat of a passive check: it is up until max_age passes without another. Takes the check\'s own token (or the tenant\'s)',
      params: obj({ check: str({ pattern: CHECK_NAME }) }, ['check']), querystring: obj(tenantQuery),
      response: responses({ 200: obj({ name: str(), state, max_age: { type: 'integer' } }, ['name', 'state', 'max_age']) }, 403, 404, 422),
    },
  }, async (req) => {
    const c = caller(req);
    return tx(ctx.pool, c.actor, async (db) => {
      const h = await checkOr404(db, await tenantFor(req, db, false), req.params.check, true);
      if (c.healthCheckId && c.healthCheckId !== h.id) throw new ApiError('token_scope', `this token sends the heartbeats of another check, not of "${h.name}"`);
      if (h.kind !== 'passive') throw bad('check', `"${h.name}" is a ${h.kind} check: only passive checks take heartbeats`);
      return { name: h.name, state: await heartbeat(db, h), max_age: h.max_age_s! };
    });
  });
}
