// The API's one error shape: { error: CODE, message, details: [{ path, problem }] }, and the mapping
// from everything that can be thrown (our own errors, fastify's, PostgreSQL's) onto it.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ZoneContentError } from '../store/records.js';
import { RdataError } from '../dns/rdata.js';
import { NameError } from '../dns/name.js';
import { ZoneFileError } from '../zonefile/parse.js';
import { DomainClaimError } from '../store/domain-claims.js';
import { isDatabaseUnavailable } from '../store/db.js';
import { IncludeError } from '../store/zone-includes.js';

export interface Detail { path: string; problem: string }

/** Every `error` code the API answers with: one per cause, its HTTP status a property of the code.
 *  Codes are a contract (clients branch on them): add, never rename. Listed in src/api/README.md
 *  and in the OpenAPI document (test/api/errors.test.ts checks both). */
export const ERRORS = {
  bad_request: { status: 400, cause: 'the request does not match the route\'s schema (malformed JSON, a missing, unknown or mistyped field); details name each field' },
  invalid_cursor: { status: 400, cause: 'the `after` paging cursor is not an id this list hands out' },
  unauthorized: { status: 401, cause: 'no valid credential: a missing, unknown or revoked token, or a client certificate refused (the message says which)' },
  admin_required: { status: 403, cause: 'an admin-only route (tenants, tokens, TSIG keys, client certificates) called with a tenant\'s credential' },
  not_found: { status: 404, cause: 'the named tenant, zone, domain, RRset, token, key or pending change does not exist, or belongs to another tenant (same answer for both)' },
  route_not_found: { status: 404, cause: 'no route has this method and path' },
  tenant_exists: { status: 409, cause: 'a tenant with this name exists' },
  zone_exists: { status: 409, cause: 'the tenant has a zone with this name' },
  domain_taken: { status: 409, cause: 'the domain name is already served (by this tenant or another: which one is not said)' },
  domain_unavailable: { status: 409, cause: 'the domain name lies above or below a domain served for another tenant (which one is not said); below a delegation-only domain (a registry) is open' },
  key_exists: { status: 409, cause: 'a TSIG key with this name exists' },
  client_cert_exists: { status: 409, cause: 'this certificate fingerprint or subject is already mapped' },
  tenant_in_use: { status: 409, cause: 'the tenant still has zones or domains; delete them first' },
  zone_in_use: { status: 409, cause: 'a domain serves the zone, now or after a pending zone change; details list the domains' },
  zone_included: { status: 409, cause: 'another zone includes this zone (`includes`); details list the including zones: take it out of their lists first' },
  key_in_use: { status: 409, cause: 'a domain\'s transfer settings or update policy use this TSIG key' },
  conflict: { status: 409, cause: 'another uniqueness or reference rule of the database (the message says which)' },
  zone_changed: { status: 409, cause: 'a zone-file upload: the zone changed how it is served (its domains or delegation-only rule) while the file was read; send it again' },
  precondition_failed: { status: 412, cause: 'If-Match names a version the zone has moved on from' },
  payload_too_large: { status: 413, cause: 'the body is over the limit (1 MiB of JSON; GLIDEPATH_ZONE_FILE_MAX_BYTES of zone file, default 10 MiB)' },
  uri_too_long: { status: 414, cause: 'a path parameter is over 4,096 characters (names up to 255 octets always fit)' },
  unsupported_media_type: { status: 415, cause: 'the body is not of a type the route takes (zone files: text/dns)' },
  invalid_data: { status: 422, cause: 'a value is not valid: a DNS name, record data, TTL, date, secret or address; or the zone breaks a rule (CNAME and other data, apex SOA and NS, delegation-only); details name each field' },
  zone_file_invalid: { status: 422, cause: 'a zone file does not parse; details give the line' },
  rrset_too_large: { status: 422, cause: 'an RRset\'s smallest answer is over 65,535 octets (RFC 1035 4.2.2), so it could never be served; details name owner/type' },
  public_suffix: { status: 422, cause: 'the domain name is a public suffix (Public Suffix List: a TLD, co.uk, github.io): only an admin serves it, as a registry' },
  too_many_records: { status: 422, cause: 'a zone file holds more records than GLIDEPATH_ZONE_MAX_RECORDS (default 500,000); details give the line where reading stopped' },
  exclusive_fields: { status: 422, cause: 'exactly one of two fields must be given (e.g. tenant or admin)' },
  include_not_found: { status: 422, cause: 'a zone\'s `includes` names a zone the tenant does not have; details name the list entry' },
  include_cycle: { status: 422, cause: 'a zone\'s `includes` would make it include itself, directly or through a chain (or names a zone twice); details name the list entry and the message the chain' },
  pzc_same_zone: { status: 422, cause: 'a zone change to the zone the domain already serves' },
  unknown_tsig_key: { status: 422, cause: 'transfer settings or an update policy name a TSIG key that does not exist' },
  invalid_update_policy: { status: 422, cause: 'an update policy rule names an invalid key name, owner pattern or record type, or a key twice; details name each field' },
  invalid_time_range: { status: 400, cause: 'statistics: `from` or `to` is not an RFC 3339 date-time or Unix seconds, or `from` is not before `to`; details name the field' },
  too_many_points: { status: 422, cause: 'statistics: the range holds more than 2,000 steps; use a larger step or a shorter range' },
  step_unavailable: { status: 422, cause: 'statistics: step=minute reaches back past GLIDEPATH_STATS_MINUTE_RETENTION, where only hourly counts are kept; use step=hour' },
  unknown_algorithm: { status: 422, cause: 'a DNSSEC algorithm other than ecdsap256sha256 or ed25519' },
  dnssec_algorithm_differs: { status: 409, cause: 'the domain is signed with another algorithm; turn signing off first' },
  not_signed: { status: 404, cause: 'DNSSEC signing is turned off, or a key rollover asked, for a domain that is not signed' },
  rollover_in_progress: { status: 409, cause: 'a DNSSEC key rollover is asked for a domain whose rollover is still running' },
  rollover_not_waiting: { status: 409, cause: 'the DS at the parent is confirmed for a domain with no key rollover waiting for it' },
  key_file_missing: { status: 500, cause: 'no key-encryption key is configured (GLIDEPATH_KEY_FILE) to store a DNSSEC key' },
  key_file_unusable: { status: 500, cause: 'the key-encryption key file (GLIDEPATH_KEY_FILE) is missing, malformed or not the one the keys were encrypted with' },
  internal: { status: 500, cause: 'a fault in the server (logged with the request id)' },
  unavailable: { status: 503, cause: 'not ready: the snapshot is not loaded or no worker answers' },
  no_dns_worker: { status: 503, cause: '/healthz under serve --workers: no worker answers DNS (replacements are being started)' },
  token_scope: { status: 403, cause: 'a token scoped to one health check may only send that check\'s heartbeats (POST /v1/heartbeats/{check})' },
  health_check_exists: { status: 409, cause: 'the tenant has a health check with this name' },
  health_check_in_use: { status: 409, cause: 'records name this health check; details list them: remove the check from them first' },
  unknown_health_check: { status: 422, cause: 'an RRset names a health check the tenant does not have; details name the field' },
  database_unavailable: { status: 503, cause: 'the database is down, unreachable or too slow; nothing was changed; retry after the Retry-After header\'s seconds' },
} as const satisfies Record<string, { status: number; cause: string }>;

export type ErrorCode = keyof typeof ERRORS;
export type Status = (typeof ERRORS)[ErrorCode]['status'];

/** The code an error of a status gets when its thrower names none (the status's generic cause). */
export const CODES = {
  400: 'bad_request', 401: 'unauthorized', 403: 'admin_required', 404: 'not_found', 409: 'conflict',
  412: 'precondition_failed', 413: 'payload_too_large', 414: 'uri_too_long', 415: 'unsupported_media_type', 422: 'invalid_data',
  500: 'internal', 503: 'unavailable',
} as const satisfies Record<Status, ErrorCode>;

export class ApiError extends Error {
  readonly status: Status;
  readonly code: ErrorCode;
  /** `new ApiError('zone_in_use', message, details)`: the status comes with the code. The older
   *  form `(status, message, details, code?)` still works; a code whose status differs is a bug. */
  constructor(codeOrStatus: ErrorCode | Status, message: string, public readonly details: Detail[] = [], code?: ErrorCode) {
    super(message);
    this.code = typeof codeOrStatus === 'string' ? codeOrStatus : code ?? CODES[codeOrStatus];
    this.status = ERRORS[this.code].status;
    if (typeof codeOrStatus === 'number' && codeOrStatus !== this.status) {
      throw new Error(`ApiError: code ${this.code} is a ${this.status}, not a ${codeOrStatus}`);
    }
  }
}

export const notFound = (what: string) => new ApiError(404, `${what} not found`);

export interface ErrorBody { error: string; message: string; details: Detail[] }

function body(code: ErrorCode, message: string, details: Detail[] = []): ErrorBody {
  return { error: code, message, details };
}

const reply = (code: ErrorCode, message: string, details: Detail[] = []) => ({ status: ERRORS[code].status as number, body: body(code, message, details) });

/** Unique constraints and foreign keys (PostgreSQL's default names, migrations/) -> the cause. A
 *  unique violation says only that the name is taken, never the row's detail (whose domain it is). */
const UNIQUE: Record<string, [ErrorCode, string, string]> = {
  tenants_name_key: ['tenant_exists', 'a tenant with this name exists', 'name'],
  zones_tenant_id_name_key: ['zone_exists', 'a zone with this name exists', 'name'],
  domains_name_key: ['domain_taken', 'this domain name is already served', 'name'],
  tsig_keys_pkey: ['key_exists', 'a TSIG key with this name exists', 'name'],
  client_certs_fingerprint_key: ['client_cert_exists', 'this certificate fingerprint is already mapped', 'fingerprint'],
  client_certs_subject_key: ['client_cert_exists', 'this certificate subject is already mapped', 'subject'],
};
const REFERENCED: Record<string, [ErrorCode, string]> = {
  zones_tenant_id_fkey: ['tenant_in_use', 'the tenant still has zones; delete them first'],
  domains_tenant_id_fkey: ['tenant_in_use', 'the tenant still has domains; delete them first'],
  health_checks_tenant_id_fkey: ['tenant_in_use', 'the tenant still has health checks; delete them first'],
  records_health_check_id_fkey: ['health_check_in_use', 'records name this health check'],
  domains_zone_id_tenant_id_fkey: ['zone_in_use', 'a domain serves this zone'],
  domains_pzc_zone_id_tenant_id_fkey: ['zone_in_use', 'a domain is scheduled to switch to this zone'],
  domain_transfer_tsig_key_fkey: ['key_in_use', 'a domain\'s transfer settings use this TSIG key'],
  update_policy_key_name_fkey: ['key_in_use', 'a domain\'s update policy names this TSIG key'],
  zone_includes_included_fkey: ['zone_included', 'another zone includes this zone'],
};
/** Check constraints (and trigger checks raised as one) with a cause of their own. */
const CHECKED: Record<string, [ErrorCode, string]> = {
  zone_includes_no_cycle: ['include_cycle', 'the include would make a zone include itself'],
  zone_includes_not_self: ['include_cycle', 'a zone cannot include itself'],
};

interface PgError { code: string; constraint?: string; detail?: string; message: string }

function isPgError(e: unknown): e is PgError {
  const code = (e as { code?: unknown } | null)?.code;
  return e instanceof Error && typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code);
}

/** Status and body for anything thrown by a handler or by fastify itself. */
export function toErrorBody(err: unknown): { status: number; body: ErrorBody } {
  if (err instanceof ApiError) return reply(err.code, err.message, err.details);
  if (isDatabaseUnavailable(err)) return reply(DATABASE_UNAVAILABLE, DATABASE_UNAVAILABLE_MESSAGE);
  if (err instanceof DomainClaimError) return reply(err.code, err.message, [{ path: 'name', problem: err.message }]);
  if (err instanceof ZoneContentError) {
    if (err.code === 'rrset_too_large') return reply('rrset_too_large', `an RRset too large for a DNS message: ${err.message}`, err.details);
    return reply('invalid_data', 'invalid DNS data', err.details);
  }
  if (err instanceof ZoneFileError) {
    return reply('zone_file_invalid', `zone file: line ${err.line}: ${err.message}`, [{ path: `line ${err.line}`, problem: err.message }]);
  }
  if (err instanceof IncludeError) return reply(err.code, err.message, [{ path: err.path, problem: err.message }]);
  if (err instanceof RdataError || err instanceof NameError) return reply('invalid_data', err.message, [{ path: '', problem: err.message }]);
  if (isPgError(err)) {
    // 23505 unique, 23503 foreign key (something still refers to it), 23514 check (incl. the CNAME rule).
    const c = err.constraint ?? '';
    if (err.code === '23505') {
      const [code, message, path] = UNIQUE[c] ?? ['conflict', 'already exists', c];
      return reply(code, message, [{ path, problem: message }]);
    }
    if (err.code === '23503') {
      const [code, message] = REFERENCED[c] ?? ['conflict', 'still in use'];
      return reply(code, message, [{ path: c, problem: message }]);
    }
    if (err.code === '23514' && CHECKED[c]) {
      const [code, message] = CHECKED[c];
      return reply(code, message, [{ path: 'includes', problem: err.message }]);
    }
    if (err.code === '23514' || err.code === '22001' || err.code === '22003') {
      return reply('invalid_data', err.message, [{ path: c, problem: err.message }]);
    }
  }
  const fe = err as Partial<FastifyError>;
  if (fe.validation) {
    const details = fe.validation.map((v) => {
      const extra = (v.params as { additionalProperty?: string } | undefined)?.additionalProperty;
      const path = `${fe.validationContext ?? ''}${v.instancePath}`.replace(/\//g, '.');
      return extra ? { path: `${path}.${extra}`, problem: 'unknown field' } : { path, problem: v.message ?? 'invalid' };
    });
    return reply('bad_request', fe.message ?? 'invalid request', details);
  }
  const sc = fe.statusCode;
  if (sc && sc in CODES && sc < 500) return reply(CODES[sc as Status], fe.message ?? 'error');
  // Another 4xx fastify raises (e.g. 414): its status kept, under the generic code.
  if (sc && sc >= 400 && sc < 500) return { status: sc, body: body('bad_request', fe.message ?? 'error') };
  return reply('internal', 'internal error');
}

/** The database is down, unreachable or too slow: the request changed nothing; try again. */
export const DATABASE_UNAVAILABLE = 'database_unavailable';
export const DATABASE_UNAVAILABLE_MESSAGE = 'the database is unavailable: nothing was changed; retry after the Retry-After seconds';
/** Seconds a client is asked to wait (RFC 9110 10.2.3) while the database is unavailable. */
export const RETRY_AFTER_SECONDS = 2;

export const databaseUnavailable = () => new ApiError(DATABASE_UNAVAILABLE, DATABASE_UNAVAILABLE_MESSAGE);

/** The error handler; `onUnavailable` hears of every request that failed because the database
 *  could not be used (the outage is logged there once, not here per request). */
export function errorHandler(onUnavailable: (err: unknown) => void = () => undefined) {
  return (err: unknown, req: FastifyRequest, reply: FastifyReply): void => {
    const { status, body: b } = toErrorBody(err);
    if (b.error === DATABASE_UNAVAILABLE) {
      if (!(err instanceof ApiError)) onUnavailable(err);
      req.log.debug({ err: (err as Error).message }, 'request failed: database unavailable');
      void reply.header('retry-after', String(RETRY_AFTER_SECONDS));
    } else if (status >= 500) {
      req.log.error({ err }, 'request failed');
    }
    void reply.code(status).type('application/json').send(b);
  };
}

/** JSON schema of the error body, shared by every route's responses. */
export const errorSchema = {
  $id: 'Error',
  type: 'object',
  required: ['error', 'message', 'details'],
  properties: {
    error: {
      type: 'string',
      enum: Object.keys(ERRORS),
      description: 'stable machine-readable code of the cause (snake_case); the HTTP status is a property of the code:\n'
        + Object.entries(ERRORS).map(([c, e]) => `- \`${c}\` (${e.status}): ${e.cause}`).join('\n'),
    },
    message: { type: 'string' },
    details: {
      type: 'array',
      items: { type: 'object', required: ['path', 'problem'], properties: { path: { type: 'string' }, problem: { type: 'string' } } },
    },
  },
} as const;
