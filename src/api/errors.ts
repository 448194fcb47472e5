// The API's one error shape: { error: CODE, message, details: [{ path, problem }] }, and the mapping
// from everything that can be thrown (our own errors, fastify's, PostgreSQL's) onto it.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ZoneContentError } from '../store/records.js';
import { RdataError } from '../dns/rdata.js';
import { NameError } from '../dns/name.js';
import { ZoneFileError } from '../zonefile/parse.js';
import { isDatabaseUnavailable } from '../store/db.js';

export interface Detail { path: string; problem: string }

export const CODES = {
  400: 'bad_request',
  401: 'unauthorized',
  404: 'not_found',
  409: 'conflict',
  412: 'precondition_failed',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  422: 'invalid_data',
  500: 'internal',
  503: 'unavailable',
} as const;

export type Status = keyof typeof CODES;

export class ApiError extends Error {
  /** `code` is the stable, machine-readable cause (snake_case); without one, the status's generic code. */
  constructor(public readonly status: Status, message: string, public readonly details: Detail[] = [], public readonly code?: string) {
    super(message);
  }
}

export const notFound = (what: string) => new ApiError(404, `${what} not found`);

export interface ErrorBody { error: string; message: string; details: Detail[] }

function body(status: Status, message: string, details: Detail[] = [], code?: string): ErrorBody {
  return { error: code ?? CODES[status], message, details };
}

interface PgError { code: string; constraint?: string; detail?: string; message: string }

function isPgError(e: unknown): e is PgError {
  const code = (e as { code?: unknown } | null)?.code;
  return e instanceof Error && typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code);
}

/** Status and body for anything thrown by a handler or by fastify itself. */
export function toErrorBody(err: unknown): { status: number; body: ErrorBody } {
  if (err instanceof ApiError) return { status: err.status, body: body(err.status, err.message, err.details, err.code) };
  if (isDatabaseUnavailable(err)) return { status: 503, body: body(503, DATABASE_UNAVAILABLE_MESSAGE, [], DATABASE_UNAVAILABLE) };
  if (err instanceof ZoneContentError) return { status: 422, body: body(422, 'invalid DNS data', err.details) };
  if (err instanceof ZoneFileError) {
    return { status: 422, body: body(422, `zone file: line ${err.line}: ${err.message}`, [{ path: `line ${err.line}`, problem: err.message }]) };
  }
  if (err instanceof RdataError || err instanceof NameError) return { status: 422, body: body(422, err.message, [{ path: '', problem: err.message }]) };
  if (isPgError(err)) {
    // 23505 unique, 23503 foreign key (something still refers to it), 23514 check (incl. the CNAME rule).
    if (err.code === '23505') return { status: 409, body: body(409, 'already exists', [{ path: err.constraint ?? '', problem: err.detail ?? err.message }]) };
    if (err.code === '23503') return { status: 409, body: body(409, 'still in use', [{ path: err.constraint ?? '', problem: err.detail ?? err.message }]) };
    if (err.code === '23514' || err.code === '22001' || err.code === '22003') {
      return { status: 422, body: body(422, err.message, [{ path: err.constraint ?? '', problem: err.message }]) };
    }
  }
  const fe = err as Partial<FastifyError>;
  if (fe.validation) {
    const details = fe.validation.map((v) => {
      const extra = (v.params as { additionalProperty?: string } | undefined)?.additionalProperty;
      const path = `${fe.validationContext ?? ''}${v.instancePath}`.replace(/\//g, '.');
      return extra ? { path: `${path}.${extra}`, problem: 'unknown field' } : { path, problem: v.message ?? 'invalid' };
    });
    return { status: 400, body: body(400, fe.message ?? 'invalid request', details) };
  }
  const sc = fe.statusCode;
  if (sc && sc in CODES && sc < 500) return { status: sc, body: body(sc as Status, fe.message ?? 'error') };
  if (sc && sc >= 400 && sc < 500) return { status: sc, body: { error: 'client_error', message: fe.message ?? 'error', details: [] } };
  return { status: 500, body: body(500, 'internal error') };
}

/** The database is down, unreachable or too slow: the request changed nothing; try again. */
export const DATABASE_UNAVAILABLE = 'database_unavailable';
export const DATABASE_UNAVAILABLE_MESSAGE = 'the database is unavailable: nothing was changed; retry after the Retry-After seconds';
/** Seconds a client is asked to wait (RFC 9110 10.2.3) while the database is unavailable. */
export const RETRY_AFTER_SECONDS = 2;

export const databaseUnavailable = () => new ApiError(503, DATABASE_UNAVAILABLE_MESSAGE, [], DATABASE_UNAVAILABLE);

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
    error: { type: 'string', description: 'stable machine-readable code of the cause (snake_case)' },
    message: { type: 'string' },
    details: {
      type: 'array',
      items: { type: 'object', required: ['path', 'problem'], properties: { path: { type: 'string' }, problem: { type: 'string' } } },
    },
  },
} as const;
