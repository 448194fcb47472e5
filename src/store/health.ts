// Health checks (migrations/013_health_checks.sql): definitions for the API, heartbeats, the
// results of active probes with their up/down thresholds, the expiry of passive checks, and every
// state change journaled (entity 'health') with a bounded history. The scheduler's steps are
// exactly once across servers sharing the database: due checks are claimed FOR UPDATE SKIP LOCKED
// and their next run moved in the same statement; a state change is a row update under its lock.
import type { Client, Pool } from './db.js';
import { tx } from './db.js';
import type { Queryable } from './tenants.js';

export type CheckKind = 'passive' | 'tcp' | 'http' | 'https';
export type CheckState = 'up' | 'down';

export interface CheckSettings {
  kind: CheckKind;
  target: string | null;
  expected_status: number | null;
  interval_s: number;
  timeout_ms: number;
  up_threshold: number;
  down_threshold: number;
  max_age_s: number | null;
}

export interface HealthCheck extends CheckSettings {
  id: number;
  tenant_id: number;
  name: string;
  state: CheckState;
  state_since: Date;
  successes: number;
  failures: number;
  last_result: string | null;
  last_checked_at: Date | null;
  last_heartbeat_at: Date | null;
  created_at: Date;
}

export interface HistoryEntry { at: Date; state: CheckState; reason: string }

/** State changes kept per check. */
export const HISTORY_DEPTH = 100;
export const HEALTH_ACTOR = 'health-checker';

const COLUMNS = `id, tenant_id, name, kind, target, expected_status, interval_s, timeout_ms, up_threshold, down_threshold,
  max_age_s, state, state_since, successes, failures, last_result, last_checked_at, last_heartbeat_at, created_at`;

export async function listChecks(c: Queryable, tenantId: number, o: { limit: number; after?: string }): Promise<HealthCheck[]> {
  return (await c.query<HealthCheck>(
    `SELECT ${COLUMNS} FROM health_checks WHERE tenant_id = $1 AND ($3::text IS NULL OR name COLLATE "C" > $3)
      ORDER BY name COLLATE "C" LIMIT $2`, [tenantId, o.limit, o.after ?? null])).rows;
}

export async function findCheck(c: Queryable, tenantId: number, name: string, lock = false): Promise<HealthCheck | undefined> {
  return (await c.query<HealthCheck>(`SELECT ${COLUMNS} FROM health_checks WHERE tenant_id = $1 AND name = $2${lock ? ' FOR UPDATE' : ''}`,
    [tenantId, name])).rows[0];
}

export async function checkHistory(c: Queryable, checkId: number): Promise<HistoryEntry[]> {
  return (await c.query<HistoryEntry>(
    'SELECT at, state, reason FROM health_check_history WHERE check_id = $1 ORDER BY id DESC LIMIT $2', [checkId, HISTORY_DEPTH])).rows;
}

export async function createCheck(c: Client, tenantId: number, name: string, s: CheckSettings): Promise<HealthCheck> {
  return (await c.query<HealthCheck>(
    `INSERT INTO health_checks (tenant_id, name, kind, target, expected_status, interval_s, timeout_ms, up_threshold, down_threshold, max_age_s)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING ${COLUMNS}`,
    [tenantId, name, s.kind, s.target, s.expected_status, s.interval_s, s.timeout_ms, s.up_threshold, s.down_threshold, s.max_age_s])).rows[0];
}

/** New settings; the state stays (a changed probe proves itself on its next run, now). A check
 *  made passive counts the change as a heartbeat, as a new one does. */
export async function updateCheck(c: Client, id: number, s: CheckSettings): Promise<HealthCheck> {
  return (await c.query<HealthCheck>(
    `UPDATE health_checks SET kind = $2, target = $3, expected_status = $4, interval_s = $5, timeout_ms = $6,
       up_threshold = $7, down_threshold = $8, max_age_s = $9, next_run_at = now(), successes = 0, failures = 0,
       last_heartbeat_at = CASE WHEN kind <> 'passive' AND $2 = 'passive' THEN now() ELSE last_heartbeat_at END
     WHERE id = $1 RETURNING ${COLUMNS}`,
    [id, s.kind, s.target, s.expected_status, s.interval_s, s.timeout_ms, s.up_threshold, s.down_threshold, s.max_age_s])).rows[0];
}

/** RRsets (zone, owner, type) that name the check, at most `limit`. */
export async function checkUsers(c: Queryable, id: number, limit = 20): Promise<Array<{ zone: string; owner: string; type: number }>> {
  return (await c.query<{ zone: string; owner: string; type: number }>(
    `SELECT DISTINCT z.name AS zone, r.owner, r.type FROM records r JOIN zones z ON z.id = r.zone_id
      WHERE r.health_check_id = $1 ORDER BY 1, 2, 3 LIMIT $2`, [id, limit])).rows;
}

export async function deleteCheck(c: Client, id: number): Promise<void> {
  await c.query('DELETE FROM health_checks WHERE id = $1', [id]);
}

/** Check ids by name, of one tenant (for RRset writes). */
export async function checkIds(c: Queryable, tenantId: number, names: readonly string[]): Promise<Map<string, number>> {
  if (names.length === 0) return new Map();
  const { rows } = await c.query<{ id: number; name: string }>(
    'SELECT id, name FROM health_checks WHERE tenant_id = $1 AND name = ANY($2::text[])', [tenantId, [...names]]);
  return new Map(rows.map((r) => [r.name, r.id]));
}

/** Check names by id, of one tenant (for showing RRsets). */
export async function checkNames(c: Queryable, tenantId: number): Promise<Map<number, string>> {
  const { rows } = await c.query<{ id: number; name: string }>('SELECT id, name FROM health_checks WHERE tenant_id = $1', [tenantId]);
  return new Map(rows.map((r) => [r.id, r.name]));
}

/** Sets the state of a locked check, with a history row (the oldest beyond HISTORY_DEPTH go) and
 *  a journal row that every change feed applies. */
async function setState(c: Client, chk: { id: number; tenant_id: number; name: string }, state: CheckState, reason: string): Promise<void> {
  await c.query('UPDATE health_checks SET state = $2, state_since = now(), successes = 0, failures = 0 WHERE id = $1', [chk.id, state]);
  await c.query('INSERT INTO health_check_history (check_id, state, reason) VALUES ($1, $2, $3)', [chk.id, state, reason]);
  await c.query(
    `DELETE FROM health_check_history WHERE check_id = $1 AND id <= (
       SELECT id FROM health_check_history WHERE check_id = $1 ORDER BY id DESC OFFSET $2 LIMIT 1)`, [chk.id, HISTORY_DEPTH]);
  await c.query(`SELECT journal_append('health', $1, NULL, NULL, NULL, $2::jsonb, NULL, $3)`,
    [state, JSON.stringify({ check_id: chk.id, name: chk.name, reason }), chk.tenant_id]);
}

/** A heartbeat: the check is up from now until max_age has passed without another. */
export async function heartbeat(c: Client, chk: HealthCheck): Promise<CheckState> {
  await c.query('UPDATE health_checks SET last_heartbeat_at = now(), last_checked_at = now(), last_result = $2 WHERE id = $1', [chk.id, 'heartbeat']);
  if (chk.state === 'down') await setState(c, chk, 'up', 'heartbeat');
  return 'up';
}

/** Passive checks whose last heartbeat is older than max_age, set down (each by one server). */
export async function expireHeartbeats(pool: Pool): Promise<Array<{ id: number; name: string; tenant_id: number }>> {
  return tx(pool, HEALTH_ACTOR, async (c) => {
    const { rows } = await c.query<{ id: number; name: string; tenant_id: number; last_heartbeat_at: Date | null }>(
      `SELECT id, name, tenant_id, last_heartbeat_at FROM health_checks
        WHERE kind = 'passive' AND state = 'up' AND last_heartbeat_at < now() - make_interval(secs => max_age_s)
        FOR UPDATE SKIP LOCKED`);
    for (const r of rows) await setState(c, r, 'down', `no heartbeat since ${r.last_heartbeat_at?.toISOString() ?? 'creation'}`);
    return rows;
  });
}

/** Active checks whose run is due, claimed for this server: their next run is moved one interval
 *  on in the same statement, so no other server runs them this round. */
export async function claimDueChecks(pool: Pool, limit = 100): Promise<HealthCheck[]> {
  return tx(pool, HEALTH_ACTOR, async (c) => (await c.query<HealthCheck>(
    `WITH due AS (SELECT id FROM health_checks WHERE kind <> 'passive' AND next_run_at <= now()
                   ORDER BY next_run_at LIMIT $1 FOR UPDATE SKIP LOCKED)
     UPDATE health_checks h SET next_run_at = now() + make_interval(secs => h.interval_s)
       FROM due WHERE h.id = due.id RETURNING ${COLUMNS.split(',').map((s) => 'h.' + s.trim()).join(', ')}`, [limit])).rows);
}

/** One probe's result, with flap damping: the state turns after `down_threshold` failures (or
 *  `up_threshold` successes) in a row. Returns the new state when it changed. */
export async function recordResult(pool: Pool, id: number, ok: boolean, result: string): Promise<CheckState | undefined> {
  return tx(pool, HEALTH_ACTOR, async (c) => {
    const chk = (await c.query<HealthCheck>(`SELECT ${COLUMNS} FROM health_checks WHERE id = $1 FOR UPDATE`, [id])).rows[0];
    if (!chk || chk.kind === 'passive') return undefined; // deleted, or made passive, meanwhile
    const successes = ok ? chk.successes + 1 : 0;
    const failures = ok ? 0 : chk.failures + 1;
    await c.query('UPDATE health_checks SET successes = $2, failures = $3, last_result = $4, last_checked_at = now() WHERE id = $1',
      [id, successes, failures, result]);
    if (chk.state === 'up' && failures >= chk.down_threshold) {
      await setState(c, chk, 'down', `${failures} failed in a row: ${result}`);
      return 'down';
    }
    if (chk.state === 'down' && successes >= chk.up_threshold) {
      await setState(c, chk, 'up', `${successes} succeeded in a row: ${result}`);
      return 'up';
    }
    return undefined;
  });
}

/** Ids of the checks that are down now (the snapshot leaves their records out). */
export async function downChecks(c: Queryable): Promise<number[]> {
  return (await c.query<{ id: number }>("SELECT id FROM health_checks WHERE state = 'down'")).rows.map((r) => r.id);
}

/** For /metrics: every check's state (the first `limit` by id get a series of their own). */
export async function checkStates(c: Queryable, limit: number): Promise<{ checks: Array<{ tenant: string; name: string; kind: string; up: boolean }>; counts: Array<{ kind: string; state: string; n: number }> }> {
  const checks = (await c.query<{ tenant: string; name: string; kind: string; up: boolean }>(
    `SELECT t.name AS tenant, h.name, h.kind, h.state = 'up' AS up FROM health_checks h JOIN tenants t ON t.id = h.tenant_id
      ORDER BY h.id LIMIT $1`, [limit])).rows;
  const counts = (await c.query<{ kind: string; state: string; n: number }>(
    'SELECT kind, state, count(*)::int AS n FROM health_checks GROUP BY kind, state')).rows;
  return { checks, counts };
}

/** A TCP check's target: host:port (port 1-65535), an IPv6 address in brackets. The API refuses
 *  a bad one; the checker (src/health/) reads it. */
export function parseTcpTarget(t: string): { host: string; port: number } | undefined {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+)):([0-9]{1,5})$/.exec(t);
  const port = m ? Number(m[3]) : 0;
  return m && port >= 1 && port <= 65535 ? { host: m[1] ?? m[2], port } : undefined;
}
