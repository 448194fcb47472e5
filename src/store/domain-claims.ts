// Who may serve a domain name: the one rule that every path creating a domain (or widening what a
// domain answers for) goes through, so that one tenant cannot take over another's names. Callers:
// POST /v1/domains, PATCH /v1/domains/{name} (delegation-only off), `glidepath import`, and the
// PowerDNS API and RFC 2136 UPDATE once they create domains. The answer path picks the longest
// served suffix, so a domain at or below another tenant's domain would answer for its names.
//
// The rule, for a name N asked for by tenant T (admin: the admin token or the CLI):
//   - N must not be a public suffix (Public Suffix List, ICANN and private sections: "test",
//     "co.uk", "github.io"), unless admin: registries and TLDs are created by the operator.
//   - no other tenant's domain may be N itself;
//   - no other tenant's domain may lie above N, unless that domain is delegation-only (a registry:
//     the names below it are delegated to whoever registers them, and any tenant may serve them);
//   - no other tenant's domain may lie below N, unless N is delegation-only and the caller admin
//     (an operator putting a registry above existing customer domains).
// A refusal never says which tenant holds the name: `domain_taken` for the name itself (the same
// words whoever holds it), `domain_unavailable` for a name above or below another tenant's.
//
// Race safety: the check and the INSERT/UPDATE run in the caller's transaction after a
// transaction-scoped advisory lock on N's top-level label. Two names can only overlap when they
// share their last label, so overlapping claims queue behind one another and the second sees the
// first one's committed row; claims under different TLDs never wait for each other.
import { getPublicSuffix } from 'tldts';
import type { Client } from './db.js';
import { asciiLower, isAtOrBelow, labelToText, nameKey, parseAbsoluteName } from '../dns/name.js';

/** Why a name cannot be claimed: `public_suffix`, `domain_taken` (the name is served, by anyone),
 *  `domain_unavailable` (above or below another tenant's domain). */
export class DomainClaimError extends Error {
  constructor(public readonly code: 'public_suffix' | 'domain_unavailable' | 'domain_taken', message: string) {
    super(message);
  }
}

/** Lock class of the claim lock (pg_advisory_xact_lock(int, int)); the journal and migrations use
 *  the one-argument form, so these never collide with theirs. */
const CLAIM_LOCK_CLASS = 740639;

const PSL_OPTIONS = { allowPrivateDomains: true, extractHostname: false, validateHostname: false, mixedInputs: false } as const;

/** True when `key` (a stored domain key, trailing dot) is a public suffix itself. */
export function isPublicSuffix(key: string): boolean {
  const host = key.replace(/\.$/, '');
  return host.length > 0 && getPublicSuffix(host, PSL_OPTIONS) === host;
}

interface Held { name: string; tenant_id: number; delegation_only: boolean }

/** Takes the claim lock for `key`'s top-level label (held until the transaction ends). */
async function lockClaims(c: Client, labels: readonly string[]): Promise<void> {
  const tld = labels.length ? asciiLower(labelToText(labels[labels.length - 1])) : '';
  await c.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [CLAIM_LOCK_CLASS, tld]);
}

/** Domains at, above or below `labels` (any tenant). */
async function overlapping(c: Client, labels: readonly string[]): Promise<Held[]> {
  const key = nameKey(labels);
  const ancestors: string[] = [];
  for (let i = 0; i < labels.length; i++) ancestors.push(nameKey(labels.slice(i)));
  // reverse('.' + key) as a LIKE prefix (with \ % _ escaped): every name ending in ".key".
  const below = [...('.' + key)].reverse().join('').replace(/[\\%_]/g, '\\$&') + '%';
  const { rows } = await c.query<Held>(
    `SELECT name, tenant_id, delegation_only FROM domains
      WHERE name = ANY($1::text[]) OR reverse(name) LIKE $2`, [ancestors, below]);
  // The LIKE compares text: "x\.example." ends in ".example." but is one label. Compare labels.
  return rows.filter((r) => {
    const other = parseAbsoluteName(r.name);
    return isAtOrBelow(labels, other) || isAtOrBelow(other, labels);
  });
}

const unavailable = (key: string) => new DomainClaimError('domain_unavailable',
  `domain "${key}" is not available: it lies above or below a domain served for someone else`);

/**
 * Checks that `tenantId` may serve `key` (a stored domain key: lower-case, trailing dot) and takes
 * the lock that keeps the answer true until the caller's transaction commits: call it in the
 * transaction that then INSERTs the domain. Throws DomainClaimError. `replacing`: the caller
 * already holds this very name (an import that updates its own domain) — not an error then.
 */
export async function claimDomainName(c: Client, o: {
  key: string; tenantId: number; delegationOnly: boolean; admin: boolean; replacing?: boolean;
}): Promise<void> {
  if (!o.admin && isPublicSuffix(o.key)) {
    throw new DomainClaimError('public_suffix',
      `"${o.key}" is a public suffix (Public Suffix List): only an admin may serve it, as a registry`);
  }
  const labels = parseAbsoluteName(o.key);
  await lockClaims(c, labels);
  for (const h of await overlapping(c, labels)) {
    if (h.tenant_id === o.tenantId) {
      if (h.name === o.key && !o.replacing) throw new DomainClaimError('domain_taken', 'this domain name is already served');
      continue;
    }
    const other = parseAbsoluteName(h.name);
    // The name itself is served (as DNS shows anyway): taken, whoever holds it, which is not said.
    if (h.name === o.key) throw new DomainClaimError('domain_taken', 'this domain name is already served');
    if (isAtOrBelow(labels, other) && !h.delegation_only) throw unavailable(o.key);
    if (isAtOrBelow(other, labels) && !(o.admin && o.delegationOnly)) throw unavailable(o.key);
  }
}

/**
 * A domain that stops being delegation-only answers for every name below it: refused while
 * another tenant serves a domain there. Call it in the transaction that makes the change.
 */
export async function checkWidenDomain(c: Client, o: { key: string; tenantId: number }): Promise<void> {
  const labels = parseAbsoluteName(o.key);
  await lockClaims(c, labels);
  for (const h of await overlapping(c, labels)) {
    if (h.tenant_id !== o.tenantId && h.name !== o.key && isAtOrBelow(parseAbsoluteName(h.name), labels)) {
      throw new DomainClaimError('domain_unavailable',
        `domain "${o.key}" must stay delegation-only: domains below it are served for someone else`);
    }
  }
}
