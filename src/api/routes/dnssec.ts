// DNSSEC of a domain: turn signing on (one combined signing key, algorithm 13 or 15), show the
// public keys and the DS records to give the parent, turn it off. Keys belong to the domain, not
// its zone. Private keys never leave the store: nothing here returns or logs them.
import type { FastifyInstance } from 'fastify';
import type { RouteContext } from '../app.js';
import { caller, tenantFor } from '../auth.js';
import { tx, readSnapshot } from '../../store/db.js';
import { addKey, domainKeys, deleteKeys, markUnsigned, dnssecState as dnssecOut } from '../../store/dnssec-keys.js';
import { KeyFileError } from '../../store/key-file.js';
import { startRollover, rolloverView, confirmDs, RolloverError } from '../../store/dnssec-rollover.js';
import type { Queryable } from '../../store/tenants.js';
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
  rollover: {
    type: ['object', 'null'], additionalProperties: false,
    description: 'The key rollover that runs, if any (RFC 7583 pre-publication with Double-DS at the parent; src/dnssec/README.md says the phases).',
    properties: {
      phase: str({ enum: ['publish', 'ds', 'retire'], description: 'publish: the new key is in the DNSKEY RRset, not signing; ds: waiting for its DS at the parent; retire: the new key signs, the old one is still published.' }),
      started_at: dateTime,
      phase_started_at: dateTime,
      next_at: { type: ['string', 'null'], format: 'date-time', description: 'When the scheduler takes the next step; null while the DS is not seen at the parent.' },
      old_key_tag: { type: 'integer' },
      new_key_tag: { type: 'integer' },
      parent: { type: ['string', 'null'], description: 'The parent domain served here where the new DS is looked for; null: the operator confirms it (POST .../dnssec/rollover/ds-published).' },
      ds_seen_at: { type: ['string', 'null'], format: 'date-time' },
      timing: { type: 'object', additionalProperties: { type: 'integer' }, description: 'Seconds: dnskey_ttl, max_zone_ttl, propagation_delay, ipub, iret, and once the DS is seen ds_ttl and ds_wait.' },
    },
    required: ['phase', 'started_at', 'phase_started_at', 'next_at', 'old_key_tag', 'new_key_tag', 'parent', 'ds_seen_at', 'timing'],
  },
}, ['domain', 'signed', 'algorithm', 'keys', 'ds', 'cds_delete']);

/** The public DNSSEC state with the running rollover. */
async function stateOf(db: Queryable, d: { id: number; name: string }) {
  return { ...(await dnssecOut(db, d)), rollover: await rolloverView(db, d.id) };
}

function rolloverError(e: unknown): never {
  if (e instanceof RolloverError) {
    throw new ApiError(e.code, e.message, [{ path: 'name', problem: e.code.replace(/_/g, ' ') }]);
  }
  if (e instanceof KeyFileError) throw new ApiError(500, e.message, [], 'key_file_unusable');
  throw e;
}

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
    // Keys and rollover from one view: read apart, a scheduler step committed between them showed
    // the new phase beside the old key states.
    return readSnapshot(ctx.pool, (db) => stateOf(db, d));
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
        return stateOf(db, d);
      }
      if (!ctx.opts.kek) throw new ApiError(500, 'no key-encryption key configured (GLIDEPATH_KEY_FILE)', [], 'key_file_missing');
      let kek;
      try { kek = ctx.opts.kek.get(); } catch (e) {
        if (e instanceof KeyFileError) throw new ApiError(500, e.message, [], 'key_file_unusable');
        throw e;
      }
      await markUnsigned(db, d.id, false);
      await addKey(db, kek, d.id, algorithm);
      return stateOf(db, d);
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

  /** The scheduler's clock and propagation delay (tests set them; 300 s otherwise). */
  const rolloverSettings = () => ctx.opts.rollover ?? { now: Date.now, propagationDelay: 300 };

  app.post<{ Params: { name: string }; Querystring: Q }>('/v1/domains/:name/dnssec/rollover', {
    schema: {
      tags: ['dnssec'], summary: 'Roll the signing key over (pre-publication, RFC 7583): a new key is published now; the scheduler makes it sign, and removes the old one, when the TTLs allow',
      params: nameParams, querystring: obj(tenantQuery),
      response: responses({ 200: dnssecSchema }, 404, 409, 500),
    },
  }, async (req) => {
    const c = caller(req);
    const settings = rolloverSettings();
    return tx(ctx.pool, c.actor, async (db) => {
      const tenantId = await tenantFor(req, db, false);
      const d = await findDomain(db, tenantId, req.params.name, true);
      if (!ctx.opts.kek) throw new ApiError(500, 'no key-encryption key configured (GLIDEPATH_KEY_FILE)', [], 'key_file_missing');
      try {
        await startRollover(db, ctx.opts.kek.get(), d, settings);
      } catch (e) { rolloverError(e); }
      return stateOf(db, d);
    });
  });

  app.post<{ Params: { name: string }; Querystring: Q; Body: { ds_ttl?: number } }>('/v1/domains/:name/dnssec/rollover/ds-published', {
    schema: {
      tags: ['dnssec'], summary: 'Confirm that the parent publishes the new key\'s DS (a parent not served here); the rollover goes on after the DS TTL',
      params: nameParams, querystring: obj(tenantQuery),
      body: obj({ ds_ttl: { type: 'integer', minimum: 0, maximum: 2147483647, description: 'TTL of the parent\'s DS RRset in seconds (default 86400).' } }),
      response: responses({ 200: dnssecSchema }, 404, 409),
    },
  }, async (req) => {
    const c = caller(req);
    const settings = rolloverSettings();
    return tx(ctx.pool, c.actor, async (db) => {
      const tenantId = await tenantFor(req, db, false);
      const d = await findDomain(db, tenantId, req.params.name, true);
      try {
        await confirmDs(db, d, req.body?.ds_ttl ?? 86400, settings);
      } catch (e) { rolloverError(e); }
      return stateOf(db, d);
    });
  });
}
