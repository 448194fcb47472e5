// Who may change a domain through RFC 2136 UPDATE: per TSIG key, the owner patterns and types it
// may touch (src/update/policy.ts), like BIND's update-policy. Keys are admin-managed (/v1/tsig-keys);
// the domain's tenant names the keys it trusts. No policy: every UPDATE is REFUSED.
import type { FastifyInstance } from 'fastify';
import type { RouteContext } from '../app.js';
import { caller, tenantFor } from '../auth.js';
import { tx } from '../../store/db.js';
import { keyExists } from '../../store/transfer.js';
import { getPolicy, putPolicy, type PolicyRow } from '../../store/update.js';
import { keyNameKey } from '../../dns/tsig.js';
import { splitName, NameError } from '../../dns/name.js';
import { typeCode, isMetaType, typeName } from '../../dns/constants.js';
import { ApiError } from '../errors.js';
import { findDomain } from '../domain-lookup.js';
import { obj, str, responses, empty, tenantQuery } from '../schemas.js';

type Q = { tenant?: string };
const nameParams = obj({ name: str({ maxLength: 1024 }) }, ['name']);
const rule = obj({
  key: str({ maxLength: 1024, description: 'TSIG key name (see /v1/tsig-keys).' }),
  names: { type: 'array', minItems: 1, maxItems: 100, items: str({ maxLength: 1024 }), description: 'Owner patterns relative to the apex: "@" the apex, a "*" label one or more labels ("_acme-challenge.*").' },
  types: { type: 'array', minItems: 1, maxItems: 100, items: str({ maxLength: 16 }), description: 'Record types; "ANY" for every type.' },
}, ['key', 'names', 'types']);
const policySchema = obj({ domain: str(), rules: { type: 'array', items: rule } }, ['domain', 'rules']);

function checkRules(rules: readonly PolicyRow[]): PolicyRow[] {
  const problems: { path: string; problem: string }[] = [];
  const out = rules.map((r, i) => {
    let key = r.key;
    try { key = keyNameKey(r.key); } catch (e) { if (e instanceof NameError) problems.push({ path: `rules[${i}].key`, problem: e.message }); else throw e; }
    const names = r.names.map((n, j) => {
      const t = n.trim();
      if (t === '@' || t === '*') return t;
      try {
        const { labels, absolute } = splitName(t);
        if (absolute) throw new NameError('patterns are relative to the domain apex (no trailing dot; "@" for the apex)');
        return labels.map((l) => l.toLowerCase()).join('.');
      } catch (e) {
        if (e instanceof NameError) { problems.push({ path: `rules[${i}].names[${j}]`, problem: e.message }); return t; }
        throw e;
      }
    });
    const types = r.types.map((t, j) => {
      if (t.toUpperCase() === 'ANY') return 'ANY';
      const c = typeCode(t);
      if (c === undefined || isMetaType(c)) { problems.push({ path: `rules[${i}].types[${j}]`, problem: `"${t}" is not a record type` }); return t; }
      return typeName(c);
    });
    return { key, names, types };
  });
  const seen = new Set<string>();
  out.forEach((r, i) => { if (seen.has(r.key)) problems.push({ path: `rules[${i}].key`, problem: `key ${r.key} has two rules; merge them` }); seen.add(r.key); });
  if (problems.length) throw new ApiError('invalid_update_policy', `invalid update policy: ${problems.map((p) => `${p.path}: ${p.problem}`).join('; ')}`, problems);
  return out;
}

export async function updatePolicyRoutes(app: FastifyInstance, { ctx }: { ctx: RouteContext }): Promise<void> {
  app.get<{ Params: { name: string }; Querystring: Q }>('/v1/domains/:name/update-policy', {
    schema: {
      tags: ['update'], summary: 'The keys allowed to UPDATE the domain (RFC 2136), with the names and types each may change',
      params: nameParams, querystring: obj(tenantQuery), response: responses({ 200: policySchema }, 404),
    },
  }, async (req) => {
    const d = await findDomain(ctx.pool, await tenantFor(req, ctx.pool, false), req.params.name);
    return { domain: d.name, rules: await getPolicy(ctx.pool, d.id) };
  });

  app.put<{ Params: { name: string }; Querystring: Q; Body: { rules: PolicyRow[] } }>('/v1/domains/:name/update-policy', {
    schema: {
      tags: ['update'], summary: 'Replace the update policy; an unknown key is a 422 (unknown_tsig_key)',
      params: nameParams, querystring: obj(tenantQuery),
      body: obj({ rules: { type: 'array', maxItems: 100, items: rule } }, ['rules']),
      response: responses({ 200: policySchema }, 404, 422),
    },
  }, async (req) => {
    const rules = checkRules(req.body.rules);
    return tx(ctx.pool, caller(req).actor, async (db) => {
      const d = await findDomain(db, await tenantFor(req, db, false), req.params.name, true);
      for (const [i, r] of rules.entries()) {
        if (!(await keyExists(db, r.key))) {
          throw new ApiError('unknown_tsig_key', `rules[${i}].key: no TSIG key "${r.key}" (an admin adds it with POST /v1/tsig-keys)`, [{ path: `rules[${i}].key`, problem: 'unknown key' }]);
        }
      }
      await putPolicy(db, d.id, rules);
      return { domain: d.name, rules: await getPolicy(db, d.id) };
    });
  });

  app.delete<{ Params: { name: string }; Querystring: Q }>('/v1/domains/:name/update-policy', {
    schema: {
      tags: ['update'], summary: 'Remove the update policy: every UPDATE to the domain is REFUSED',
      params: nameParams, querystring: obj(tenantQuery), response: responses({ 204: empty }, 404),
    },
  }, async (req, reply) => {
    await tx(ctx.pool, caller(req).actor, async (db) => {
      const d = await findDomain(db, await tenantFor(req, db, false), req.params.name, true);
      await putPolicy(db, d.id, []);
    });
    return reply.code(204).send();
  });
}
