// The body of PATCH /v1/zones/{zone}/rrsets: its JSON Schema (documented in OpenAPI through the
// route) and the parse and check fastify would do, done here instead so that a large body is read
// in the batch's thread (rrset-batch-thread.ts), not on the API's event loop. The errors are the
// ones fastify gives for any other route: 400 bad_request naming each field (errors.ts).
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { Change } from './rrset-batch.js';
import { healthChecksField } from './health-gates.js';

export const TTL_SCHEMA = { type: 'integer', minimum: 0, maximum: 2147483647 } as const;
export const RECORDS_SCHEMA = { type: 'array', items: { type: 'string' }, minItems: 1, description: 'Record data in presentation form.' } as const;
/** A closed object, as schemas.ts obj() makes it (that file is not loaded in the thread). */
const closed = (properties: Record<string, unknown>, required: string[]) => ({ type: 'object', additionalProperties: false, properties, required });
export const PATCH_BODY_SCHEMA = closed({
  changes: {
    type: 'array',
    items: { anyOf: [
      closed({ owner: { type: 'string' }, type: { type: 'string' }, ttl: TTL_SCHEMA, records: RECORDS_SCHEMA, health_checks: healthChecksField }, ['owner', 'type', 'ttl', 'records']),
      closed({ owner: { type: 'string' }, type: { type: 'string' }, delete: { type: 'boolean', const: true } }, ['owner', 'type', 'delete']),
    ] },
    minItems: 1, maxItems: 10000,
  },
}, ['changes']);

/** The options app.ts gives fastify's Ajv: no coercion and no silent removal. */
export const AJV_OPTIONS = { removeAdditional: false, coerceTypes: false, useDefaults: false, allErrors: true } as const;

let check: ValidateFunction | undefined;

/** A body fastify would refuse, as plain data (it crosses from the thread): `validation` as Ajv
 *  gives it, or none for a body that is not JSON. */
export interface BodyProblem { message: string; validation?: ErrorObject[] }

/** Parses and checks a PATCH body as fastify would (content-type-parser.js, validation.js). */
export function parseBatchBody(bytes: Uint8Array): { ok: true; changes: Change[] } | ({ ok: false } & BodyProblem) {
  if (bytes.length === 0) return { ok: false, message: 'Body cannot be empty when content-type is set to \'application/json\'' };
  let body: unknown;
  try {
    body = JSON.parse(new TextDecoder('utf-8').decode(bytes));
  } catch {
    return { ok: false, message: 'Body is not valid JSON but content-type is set to \'application/json\'' };
  }
  check ??= new Ajv(AJV_OPTIONS).compile(PATCH_BODY_SCHEMA);
  if (check(body)) return { ok: true, changes: (body as { changes: Change[] }).changes };
  const validation = (check.errors ?? []).map((e) => ({ ...e }));
  return { ok: false, validation, message: validation.map((e) => `body${e.instancePath} ${e.message ?? ''}`).join(', ') };
}

/** The error fastify raises for such a body; errors.ts turns it into 400 bad_request. */
export function bodyError(p: BodyProblem): Error {
  return Object.assign(new Error(p.message), { statusCode: 400, ...(p.validation ? { code: 'FST_ERR_VALIDATION', validation: p.validation, validationContext: 'body' } : {}) });
}
