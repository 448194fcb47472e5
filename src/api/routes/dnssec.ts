// DNSSEC of a domain: turn signing on (one combined signing key, algorithm 13 or 15), show the
// public keys and the DS records to give the parent, turn it off. Keys belong to the domain, not
// its zone. Private keys never leave the store: nothing here returns or logs them.
import type { FastifyInstance } from 'fastify';
import type { RouteContext } from '../app.js';
import { caller, tenantFor } from '../auth.js';
import { tx } from '../../store/db.js';
import { addKey, domainKeys, deleteKeys, markUnsigned, dnssecState as dnssecOut } from '../../store/dnssec-keys.js';
import { KeyFileError } from '../../store/key-file.js';
import { ALGORITHMS, algorithmName, type AlgorithmName } from '../../dnssec/keys.js';
import { ApiError } from '../errors.js';
import { findDomain } from '../domain-lookup.js';
import { obj, str, dateTime, responses, empty, tenantQuery } from '../schemas.js';

type Q = { tenant?: string };
const nameParams = obj({ name: str({ maxLength: 1024 }) }, ['name']);

const keySchema = obj({
  key_tag: { type: 'integer' },
  flags: { type: 'integer', description: '257: zone key with the Secure Entry Point bit (a combined signing key).' },
  algorithm: str({ enum: Object.keys(ALGORITHMS) }),
  state: str({ enum: ['published', 'active', 'retired'] }),
  dnskey: str({ description: 'DNSKEY RDATA in presentation form.' }),
  ds: { type: 'array', items: str(), description: 'DS RDATA for the parent: SHA-256 (digest type 2) and SHA-384 (4).' },
  created_at: dateTime,
}, ['key_tag', 'flags', 'algorithm', 'state', 'dnskey', 'ds', 'created_at']);

const dnssecSchema = obj({
  domain: str(),
  signed: { type: 'boolean' },
  algorithm: { type: ['string', 'null'], enum: [...Object.keys(ALGORITHMS), null] },
  keys: { type: 'array', items: keySchema },
  ds: { type: 'array', items: str(), description: 'The DS records to give the parent (of the keys it should hold), "owner DS rdata".' },
  cds_delete: { type: 'boolean', description: 'Signing is off and CDS/CDNSKEY "delete" records ask the parent to remove the DS (RFC 8078 4).' },
}, ['domain', 'signed', 'algorithm', 'keys', 'ds', 'cds_delete']);

export async function dnssecRoutes(app: FastifyInstance, { ctx }: { ctx: RouteContext }): Promise<void> {
  app.get<{ Params: { name: string }; Querystring: Q }>('/v1/domains/:name/dnssec', {
    schema: {
      tags: ['dnssec'], summary: 'DNSSEC state of a domain: public keys (DNSKEY, key tag, flags, state) and DS records for the parent',
      params: nameParams, querystring: obj(tenantQuery),
      response: responses({ 200: dnssecSchema }, 404),
    },
  }, async (req) => {
    const tenantId = await tenantFor(req, ctx.pool, false);
    const d = await findDomain(ctx.pool, tenantId, req.params.name);
    return dnssecOut(ctx.pool, d);
  });

  app.put<{ Params: { name: string }; Querystring: Q; Body: { algorithm?: string } }>('/v1/domains/:name/dnssec', {
    schema: {
      tags: ['dnssec'], summary: 'Sign a domain (online signing, one combined signing key); idempotent with the same algorithm',
      params: nameParams, querystring: obj(tenantQuery),
      body: obj({ algorithm: str({ maxLength: 64, description: '"ecdsap256sha256" (algorithm 13, the default) or "ed25519" (15).' }) }),
      response: responses({ 200: dnssecSchema }, 404, 409, 422, 500),
    },
  }, async (req) => {
    const c = caller(req);
    const name = (req.body?.algorithm ?? 'ecdsap256sha256').toLowerCase();
    if (!(name in ALGORITHMS)) {
      throw new ApiError(422, `"algorithm": "${req.body.algorithm}" is not one of ${Object.keys(ALGORITHMS).join(', ')}`,
        [{ path: 'algorithm', problem: 'unknown algorithm' }], 'unknown_algorithm');
    }
    const algorithm = ALGORITHMS[name as AlgorithmName];
    return tx(ctx.pool, c.actor, async (db) => {
      const tenantId = await tenantFor(req, db, false);
      const d = await findDomain(db, tenantId, req.params.name, true);
      const keys = await domainKeys(db, d.id);
      if (keys.length) {
        if (keys.some((k) => k.algorithm !== algorithm)) {
          throw new ApiError(409, `"algorithm": ${d.name} is signed with ${algorithmName(keys[0].algorithm)}; turn signing off first to change it`,
            [{ path: 'algorithm', problem: 'differs from the current keys' }], 'dnssec_algorithm_differs');
        }
        return dnssecOut(db, d);
      }
      if (!ctx.opts.kek) throw new ApiError(500, 'no key-encryption key configured (GLIDEPATH_KEY_FILE)', [], 'key_file_missing');
      let kek;
      try { kek = ctx.opts.kek.get(); } catch (e) {
        if (e instanceof KeyFileError) throw new ApiError(500, e.message, [], 'key_file_unusable');
        throw e;
      }
      await markUnsigned(db, d.id, false);
      await addKey(db, kek, d.id, algorithm);
      return dnssecOut(db, d);
    });
  });

  app.delete<{ Params: { name: string }; Querystring: Q }>('/v1/domains/:name/dnssec', {
    schema: {
      tags: ['dnssec'], summary: 'Stop signing a domain; CDS/CDNSKEY "delete" tell the parent to drop the DS (RFC 8078)',
      params: nameParams, querystring: obj(tenantQuery),
      response: responses({ 204: empty }, 404),
    },
  }, async (req, reply) => {
    const c = caller(req);
    await tx(ctx.pool, c.actor, async (db) => {
      const tenantId = await tenantFor(req, db, false);
      const d = await findDomain(db, tenantId, req.params.name, true);
      if ((await deleteKeys(db, d.id)) === 0) {
        throw new ApiError(404, `${d.name} is not signed`, [{ path: 'name', problem: 'not signed' }], 'not_signed');
      }
      await markUnsigned(db, d.id, true);
    });
    return reply.code(204).send();
  });
}
