// The health checks gates name (health-gates.ts), resolved to the tenant's check ids in the
// write's transaction: 422 unknown_health_check for a name the tenant has no check of.
import type { Client } from '../store/db.js';
import { checkIds } from '../store/health.js';
import { ApiError } from './errors.js';
import type { Gate } from './health-gates.js';

/** The tenant's check ids of `names` (distinct); 422 unknown_health_check naming the field of each
 *  gate (`{check, path}`, in the order written) whose check is missing. `gates` is a function so
 *  that a large batch reads its gates (from the thread's JSON) only when one is missing. */
export async function gateIds(db: Client, tenantId: number | null, names: readonly string[],
  gates: () => ReadonlyArray<{ check: string; path: string }>): Promise<Map<string, number>> {
  const ids = tenantId === null || names.length === 0 ? new Map<string, number>() : await checkIds(db, tenantId, names);
  if (names.every((n) => ids.has(n))) return ids;
  const missing = gates().filter((g) => !ids.has(g.check));
  throw new ApiError('unknown_health_check', `no health check ${missing.map((g) => `"${g.check}"`).join(', ')}: create it with POST /v1/health-checks`,
    missing.map((g) => ({ path: g.path, problem: `no health check "${g.check}"` })));
}

/** Sets each gated record's check id (the tenant's checks); 422 unknown_health_check naming the
 *  fields whose check the tenant does not have. */
export async function resolveGates(db: Client, tenantId: number | null, gates: readonly Gate[]): Promise<void> {
  if (gates.length === 0) return;
  const ids = await gateIds(db, tenantId, [...new Set(gates.map((g) => g.check))], () => gates);
  for (const g of gates) g.record.check = ids.get(g.check);
}
