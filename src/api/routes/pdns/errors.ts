// PowerDNS's error shape: {"error": "message"} (pdns webserver.cc), plus our stable snake_case
// `code` for the cause, which PowerDNS clients ignore. Everything the native API can throw is mapped
// to a status the same way (errors.ts), then flattened into the message.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { toErrorBody } from '../../errors.js';
import { ContentError } from './names.js';

export class PdnsError extends Error {
  constructor(public readonly status: number, message: string, public readonly code: string) { super(message); }
}

/** 422 with PowerDNS's wording for invalid input. */
export const invalid = (message: string, code = 'invalid_rrset') => new PdnsError(422, message, code);
export const zoneNotFound = () => new PdnsError(404, 'Not Found', 'zone_not_found');

export interface PdnsErrorBody { error: string; code: string }

export function pdnsError(err: unknown): { status: number; body: PdnsErrorBody } {
  if (err instanceof PdnsError) return { status: err.status, body: { error: err.message, code: err.code } };
  if (err instanceof ContentError) return { status: 422, body: { error: err.message, code: 'invalid_content' } };
  const { status, body } = toErrorBody(err);
  const detail = body.details.map((d) => (d.path ? `${d.path}: ${d.problem}` : d.problem)).join('; ');
  // PowerDNS answers 422 for every validation failure, 400 only for JSON it cannot parse.
  const s = status === 400 && body.details.length ? 422 : status;
  return { status: s, body: { error: detail && !body.message.includes(detail) ? `${body.message}: ${detail}` : body.message, code: body.error } };
}

export function pdnsErrorHandler(err: unknown, req: FastifyRequest, reply: FastifyReply): void {
  const { status, body } = pdnsError(err);
  if (status >= 500) req.log.error({ err }, 'request failed');
  void reply.code(status).type('application/json').send(body);
}
