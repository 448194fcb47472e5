// JSON schemas shared by the routes. Every object is closed (additionalProperties: false), so an
// unknown field is a 400. Query parameters are strings (the validator does no type coercion, so
// that a body's "ttl": "300" is refused rather than guessed at); numbers in them carry a pattern.
import { errorSchema, ERRORS, type Status } from './errors.js';
import { healthChecksField } from './health-gates.js';

export const TENANT_NAME = '^[a-z0-9][a-z0-9_.-]{0,62}$';
export const ZONE_NAME = '^[A-Za-z0-9][A-Za-z0-9_.-]{0,252}$';
export const UINT = '^[0-9]{1,15}$';

export const shared = [errorSchema];

export const str = (extra: Record<string, unknown> = {}) => ({ type: 'string', ...extra }) as const;
export const dateTime = { type: 'string', format: 'date-time' } as const;

export function obj(properties: Record<string, unknown>, required: string[] = [], extra: Record<string, unknown> = {}) {
  return { type: 'object', additionalProperties: false, properties, required, ...extra };
}

export const tenantQuery = {
  tenant: str({ pattern: TENANT_NAME, description: 'Admin tokens: the tenant to act on (default "default", created on first write). Tenant tokens: may only name their own tenant.' }),
};

export const pageQuery = {
  limit: str({ pattern: UINT, description: 'Page size, 1-1000 (default 100).' }),
  after: str({ description: 'Keyset cursor: return items after this one in name order (the `next` of the previous page). Pages stay consistent while items are added or removed.' }),
};

export function page(q: { limit?: string; after?: string }): { limit: number; after: string | undefined } {
  const n = q.limit === undefined ? 100 : Number(q.limit);
  return { limit: Math.min(Math.max(n, 1), 1000), after: q.after };
}

/** `next` cursor: the key of the last item when the page is full. */
export function next<T>(items: readonly T[], limit: number, key: (t: T) => string): string | null {
  return items.length === limit && items.length > 0 ? key(items[items.length - 1]) : null;
}

export const errorRef = { $ref: 'Error#' } as const;

/** The `error` codes a status can carry (the registry in errors.ts), for the OpenAPI document. */
const codesOf = (s: Status) => Object.entries(ERRORS).filter(([, e]) => e.status === s).map(([c]) => c).join(', ');

/** Response schemas: the success one plus the error body for each listed status. */
export function responses(ok: Record<number, unknown>, ...errors: Status[]): Record<number, unknown> {
  const out: Record<number, unknown> = { ...ok };
  for (const s of [400, 401, ...errors] as Status[]) out[s] = { ...errorRef, description: codesOf(s) };
  // Any route that reads the database can meet an outage.
  out[503] ??= { ...errorRef, description: 'database_unavailable (with Retry-After)' };
  return out;
}

export const empty = { type: 'null', description: 'No content' } as const;

// The field lives with the rest of health gating, which a large PATCH's thread loads without this file.
export { healthChecksField };

export const rrsetSchema = obj({
  owner: str({ description: 'Owner relative to the apex, "@" for the apex.' }),
  type: str({ description: 'Record type mnemonic, or TYPEnnn.' }),
  ttl: { type: 'integer', minimum: 0, maximum: 2147483647 },
  records: { type: 'array', items: str(), description: 'Record data in presentation form; names at or under the apex are relative.' },
  health_checks: healthChecksField,
  warnings: { type: 'array', items: obj({ code: str(), message: str() }, ['code', 'message']), description: 'Writes only: e.g. gated_ttl_long, a health-gated RRset whose TTL is over 60 s.' },
  zone: str({ description: 'Effective listings only (?effective=true): the zone the RRset comes from (the zone itself or one it includes).' }),
}, ['owner', 'type', 'ttl', 'records']);

export const zoneSchema = obj({
  name: str(),
  version: { type: 'integer', description: 'Bumped by every change to the records; send it back in If-Match.' },
  records: { type: 'integer' },
  domains: { type: 'array', items: str(), description: 'The first 100 domains served from the zone, by name (all of them: GET /v1/domains?zone=).' },
  domain_count: { type: 'integer', description: 'How many domains are served from the zone.' },
  includes: { type: 'array', items: str(), description: 'Zones whose records this zone serves under its own, in order (README "Zones that include zones").' },
  warnings: { type: 'array', items: obj({ code: str(), message: str() }, ['code', 'message']), description: 'POST with rrsets only: e.g. gated_ttl_long, a health-gated RRset whose TTL is over 60 s.' },
  created_at: dateTime,
}, ['name', 'version', 'records', 'domains', 'domain_count', 'includes', 'created_at']);

export const includesField = {
  type: 'array', items: str({ pattern: ZONE_NAME }), maxItems: 64,
  description: 'Zones of the same tenant whose records this zone serves, in order: the zone\'s own RRset at an owner and type overrides an included one, '
    + 'an earlier include wins over a later one, an included zone\'s own includes come right after it. Replaces the whole list; [] removes every include.',
} as const;

export const domainSchema = obj({
  name: str({ description: 'Absolute, lower-case, with the trailing dot.' }),
  zone: str(),
  delegation_only: { type: 'boolean' },
  serial: { type: 'integer' },
  pzc: { anyOf: [{ type: 'null' }, obj({ zone: str(), at: dateTime }, ['zone', 'at'])], description: 'Pending Progressive Zone Change.' },
  created_at: dateTime,
  updated_at: dateTime,
}, ['name', 'zone', 'delegation_only', 'serial', 'pzc', 'created_at', 'updated_at']);

export const ifMatchHeader = obj({
  'if-match': str({ description: 'The zone version (ETag) this change is based on; 412 when it moved on.' }),
}, [], { additionalProperties: true });
