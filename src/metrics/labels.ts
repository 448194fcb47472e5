// Label values are bounded: every label takes a value from a fixed list, or `other`. A label fed
// from traffic (a query's type, a response code, a request's method) would otherwise make a new
// series for every value an unauthenticated client sends (issue 14: qtypes 1..65535 made 196,811
// series and doubled the primary's memory).
import { TYPE, RCODE } from '../dns/constants.js';

const TYPES = new Map<number, string>(Object.entries(TYPE).map(([k, v]) => [v, k]));
const RCODES = new Map<number, string>(Object.entries(RCODE).map(([k, v]) => [v, k]));
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

export const OTHER = 'other';

/** The type's mnemonic when the server knows the type (dns/constants.ts), else `other`. */
export const qtypeLabel = (qtype: number): string => TYPES.get(qtype) ?? OTHER;
export const rcodeLabel = (rcode: number): string => RCODES.get(rcode) ?? OTHER;
export const methodLabel = (method: string): string => (METHODS.has(method) ? method : OTHER);
