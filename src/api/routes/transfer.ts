// Zone transfer settings. TSIG keys are shared secrets between this server and the operators of
// secondaries: admins create, list (never with the secret) and delete them. A domain's transfer
// settings — the addresses allowed to transfer it, the key transfers must be signed with, the
// secondaries to NOTIFY — belong to the domain's tenant, who references keys by name.
import type { FastifyInstance } from 'fastify';
import type { RouteContext } from '../app.js';
import { caller, requireAdmin, tenantFor } from '../auth.js';
import { tx } from '../../store/db.js';
import { createKey, listKeys, deleteKey, keyExists, getTransfer, putTransfer, deleteTransfer, type TransferRow } from '../../store/transfer.js';
import { TSIG_ALGORITHMS, keyNameKey, type TsigAlgorithm } from '../../dns/tsig.js';
import { parseCidr, parseNotifyTarget } from '../../transfer/access.js';
import { NameError } from '../../dns/name.js';
import { ApiError, notFound, type Detail } from '../errors.js';
import { findDomain } from '../domain-lookup.js';
import { obj, str, dateTime, responses, empty, tenantQuery } from '../schemas.js';

type Q = { tenant?: string };
const nameParams = obj({ name: str({ maxLength: 1024 }) }, ['name']);

const keySchema = obj({
  name: str({ description: 'Absolute, lower-case, with the trailing dot.' }),
  algorithm: str({ enum: [...TSIG_ALGORITHMS] }),
  domains: { type: 'integer', description: 'How many domains require this key.' },
  created_at: dateTime,
}, ['name', 'algorithm', 'domains', 'created_at']);

const transferSchema = obj({
  domain: str(),
  allow: { type: 'array', items: str(), description: 'Networks allowed to transfer (AXFR/IXFR), CIDR.' },
  tsig_key: { type: ['string', 'null'], description: 'Key transfers must be signed with (TSIG, RFC 8945); null: address check alone.' },
  notify: { type: 'array', items: str(), description: 'Secondaries sent a NOTIFY (RFC 1996) on every serial change, address:port.' },
  updated_at: { anyOf: [{ type: 'null' }, dateTime] },
}, ['domain', 'allow', 'tsig_key', 'notify', 'updated_at']);

function keyName(text: string, path: string): string {
  try {
    const k = keyNameKey(text);
    if (k === '.') throw new NameError('the root is not a key name');
    return k;
  } catch (e) {
    if (e instanceof NameError) throw new ApiError('invalid_data', `"${path}": ${e.message}`, [{ path, problem: e.message }]);
    throw e;
  }
}

/** RFC 4648 base64 (the form BIND, Knot and NSD configurations use), at least 16 octets. */
function secretOf(text: string): Buffer {
  const t = text.replace(/\s+/g, '');
  const bad = (problem: string) => new ApiError('invalid_data', `"secret": ${problem}`, [{ path: 'secret', problem }]);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(t) || t.length % 4 !== 0) throw bad('not base64');
  const b = Buffer.from(t, 'base64');
  if (b.length < 16) throw bad('at least 16 octets (128 bits) are needed (RFC 8945 6)');
  if (b.length > 512) throw bad('at most 512 octets');
  return b;
}

const transferOut = (domain: string, t: TransferRow | undefined) => ({
  domain, allow: t?.allow ?? [], tsig_key: t?.tsig_key ?? null, notify: t?.notify ?? [], updated_at: t?.updated_at ?? null,
});

export async function transferRoutes(app: FastifyInstance, { ctx }: { ctx: RouteContext }): Promise<void> {
  app.post<{ Body: { name: string; algorithm: TsigAlgorithm; secret: string } }>('/v1/tsig-keys', {
    schema: {
      tags: ['transfer'], summary: 'Add a TSIG key (admin); the secret is never returned',
      body: obj({
        name: str({ maxLength: 1024, description: 'Key name, a domain name (e.g. "xfr.example."), as the secondary knows it.' }),
        algorithm: str({ enum: [...TSIG_ALGORITHMS] }),
        secret: str({ maxLength: 1024, description: 'Base64, at least 16 octets (e.g. `openssl rand -base64 32`).' }),
      }, ['name', 'algorithm', 'secret']),
      response: responses({ 201: keySchema }, 403, 404, 409, 422),
    },
  }, async (req, reply) => {
    const c = requireAdmin(req);
    const name = keyName(req.body.name, 'name');
    const secret = secretOf(req.body.secret);
    const k = await tx(ctx.pool, c.actor, (db) => createKey(db, { name, algorithm: req.body.algorithm, secret }));
    return reply.code(201).send(k);
  });

  app.get('/v1/tsig-keys', {
    schema: {
      tags: ['transfer'], summary: 'List TSIG keys, without their secrets (admin)',
      response: responses({ 200: obj({ keys: { type: 'array', items: keySchema } }, ['keys']) }, 403, 404),
    },
  }, async (req) => {
    requireAdmin(req);
    return { keys: await listKeys(ctx.pool) };
  });

  app.delete<{ Params: { name: string } }>('/v1/tsig-keys/:name', {
    schema: {
      tags: ['transfer'], summary: 'Delete a TSIG key (admin); 409 while a domain requires it',
      params: nameParams,
      response: responses({ 204: empty }, 403, 404, 409),
    },
  }, async (req, reply) => {
    const c = requireAdmin(req);
    const name = keyName(req.params.name, 'name');
    const ok = await tx(ctx.pool, c.actor, (db) => deleteKey(db, name));
    if (!ok) throw notFound(`key "${name}"`);
    return reply.code(204).send();
  });

  app.get<{ Params: { name: string }; Querystring: Q }>('/v1/domains/:name/transfer', {
    schema: {
      tags: ['transfer'], summary: 'Transfer settings of a domain (empty: transfers refused, no NOTIFY)',
      params: nameParams, querystring: obj(tenantQuery),
      response: responses({ 200: transferSchema }, 404),
    },
  }, async (req) => {
    const tenantId = await tenantFor(req, ctx.pool, false);
    const d = await findDomain(ctx.pool, tenantId, req.params.name);
    return transferOut(d.name, await getTransfer(ctx.pool, d.id));
  });

  app.put<{ Params: { name: string }; Querystring: Q; Body: { allow: string[]; tsig_key?: string | null; notify?: string[] } }>('/v1/domains/:name/transfer', {
    schema: {
      tags: ['transfer'], summary: 'Set who may transfer a domain (addresses, TSIG key) and which secondaries to NOTIFY',
      params: nameParams, querystring: obj(tenantQuery),
      body: obj({
        allow: { type: 'array', maxItems: 100, items: str({ maxLength: 64 }), description: 'CIDR networks or addresses allowed to transfer.' },
        tsig_key: { type: ['string', 'null'], maxLength: 1024, description: 'Name of a key (see /v1/tsig-keys) transfers must be signed with.' },
        notify: { type: 'array', maxItems: 100, items: str({ maxLength: 64 }), description: 'address:port of secondaries (port 53 by default).' },
      }, ['allow']),
      response: responses({ 200: transferSchema }, 404, 422),
    },
  }, async (req) => {
    const c = caller(req);
    const problems: Detail[] = [];
    const allow: string[] = [];
    req.body.allow.forEach((a, i) => {
      try { allow.push(parseCidr(a).text); } catch (e) { problems.push({ path: `allow[${i}]`, problem: (e as Error).message }); }
    });
    const notify: string[] = [];
    (req.body.notify ?? []).forEach((n, i) => {
      try {
        const hp = parseNotifyTarget(n);
        notify.push(hp.host.includes(':') ? `[${hp.host}]:${hp.port}` : `${hp.host}:${hp.port}`);
      } catch (e) { problems.push({ path: `notify[${i}]`, problem: (e as Error).message }); }
    });
    let key: string | null = null;
    if (req.body.tsig_key != null) {
      try { key = keyName(req.body.tsig_key, 'tsig_key'); } catch (e) {
        if (e instanceof ApiError) problems.push(...e.details); else throw e;
      }
    }
    if (problems.length) throw new ApiError('invalid_data', `invalid transfer settings: ${problems.map((p) => `${p.path}: ${p.problem}`).join('; ')}`, problems);
    return tx(ctx.pool, c.actor, async (db) => {
      const tenantId = await tenantFor(req, db, false);
      const d = await findDomain(db, tenantId, req.params.name, true);
      if (key !== null && !(await keyExists(db, key))) {
        throw new ApiError('unknown_tsig_key', `no TSIG key "${key}" (keys are added by an admin: POST /v1/tsig-keys)`, [{ path: 'tsig_key', problem: 'no such key' }]);
      }
      await putTransfer(db, d.id, { allow, tsigKey: key, notify });
      return transferOut(d.name, await getTransfer(db, d.id));
    });
  });

  app.delete<{ Params: { name: string }; Querystring: Q }>('/v1/domains/:name/transfer', {
    schema: {
      tags: ['transfer'], summary: 'Remove the transfer settings of a domain: transfers refused, no NOTIFY',
      params: nameParams, querystring: obj(tenantQuery),
      response: responses({ 204: empty }, 404),
    },
  }, async (req, reply) => {
    const c = caller(req);
    await tx(ctx.pool, c.actor, async (db) => {
      const tenantId = await tenantFor(req, db, false);
      const d = await findDomain(db, tenantId, req.params.name, true);
      if (!(await deleteTransfer(db, d.id))) throw notFound(`transfer settings of "${d.name}"`);
    });
    return reply.code(204).send();
  });
}
