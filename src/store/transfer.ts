// SQL of zone transfers: TSIG keys, per-domain transfer settings, what the DNS side loads of both,
// the IXFR history of a domain, and the PZC re-announcement (a bare serial bump).
import type { Client, Pool } from './db.js';
import { readSnapshot, tx } from './db.js';
import type { Queryable } from './tenants.js';
import type { TsigAlgorithm } from '../dns/tsig.js';

/** [owner, type, ttl, rdata] as the journal triggers write them. */
export type JournalRecord = [string, number, number, string];

/** One serial change of a domain, with the record differences (a link of an IXFR chain). */
export interface IxfrStep {
  serial_from: number;
  serial_to: number;
  diffable: boolean;
  changes: Array<{ added: JournalRecord[]; removed: JournalRecord[] }>;
}

/** A serial change of the domain itself (ixfr_steps, migrations/008_scale.sql), at zone
 *  `zone_id`'s serial `zone_serial`. */
export interface DomainStep { serial_from: number; serial_to: number; diffable: boolean; zone_id: number; zone_serial: number }
/** A change of the zone's records (zone_history), in zone serials. */
export interface ZoneStep {
  serial_from: number; serial_to: number; changes: IxfrStep['changes'];
  /** False when the zone's served records changed through an include (migrations/015): not an
   *  exact difference, so IXFR across it is an AXFR. Absent: true. */
  diffable?: boolean;
}
/** A domain's history and its current zone's, each oldest first. */
export interface IxfrHistory { domain: readonly DomainStep[]; zone: readonly ZoneStep[] }

export const REANNOUNCE_ACTOR = 'pzc-reannounce';

export interface KeyRow { name: string; algorithm: TsigAlgorithm; created_at: Date; domains: number }
export interface KeySecretRow { name: string; algorithm: TsigAlgorithm; secret: Buffer }
export interface TransferRow { domain_id: number; allow: string[]; tsig_key: string | null; notify: string[]; updated_at: Date }

export async function createKey(c: Client, k: { name: string; algorithm: TsigAlgorithm; secret: Buffer }): Promise<KeyRow> {
  const { rows } = await c.query<KeyRow>(
    'INSERT INTO tsig_keys (name, algorithm, secret) VALUES ($1, $2, $3) RETURNING name, algorithm, created_at, 0 AS domains',
    [k.name, k.algorithm, k.secret]);
  return rows[0];
}

/** Keys without their secrets, with how many domains use each. */
export async function listKeys(c: Queryable): Promise<KeyRow[]> {
  const { rows } = await c.query<KeyRow>(
    `SELECT k.name, k.algorithm, k.created_at, (SELECT count(*) FROM domain_transfer t WHERE t.tsig_key = k.name)::int AS domains
       FROM tsig_keys k ORDER BY k.name`);
  return rows;
}

export async function keyExists(c: Queryable, name: string): Promise<boolean> {
  return (await c.query('SELECT 1 FROM tsig_keys WHERE name = $1', [name])).rowCount === 1;
}

/** False when there was no such key. A key in use fails with a foreign-key error (409). */
export async function deleteKey(c: Client, name: string): Promise<boolean> {
  return (await c.query('DELETE FROM tsig_keys WHERE name = $1', [name])).rowCount === 1;
}

export async function getTransfer(c: Queryable, domainId: number): Promise<TransferRow | undefined> {
  const { rows } = await c.query<TransferRow>(
    'SELECT domain_id, allow::text[] AS allow, tsig_key, notify, updated_at FROM domain_transfer WHERE domain_id = $1', [domainId]);
  return rows[0];
}

export async function putTransfer(c: Client, domainId: number, t: { allow: string[]; tsigKey: string | null; notify: string[] }): Promise<void> {
  await c.query(
    `INSERT INTO domain_transfer (domain_id, allow, tsig_key, notify) VALUES ($1, $2::cidr[], $3, $4)
     ON CONFLICT (domain_id) DO UPDATE SET allow = EXCLUDED.allow, tsig_key = EXCLUDED.tsig_key,
       notify = EXCLUDED.notify, updated_at = now()`,
    [domainId, t.allow, t.tsigKey, t.notify]);
}

export async function deleteTransfer(c: Client, domainId: number): Promise<boolean> {
  return (await c.query('DELETE FROM domain_transfer WHERE domain_id = $1', [domainId])).rowCount === 1;
}

/** Everything the DNS side needs to authorise transfers and send NOTIFY, and the journal position
 *  it reflects (one consistent read). */
/** A transfer row with its domain's name, for the DNS side (which finds domains by name). */
export type NamedTransferRow = TransferRow & { name: string };

export async function loadTransferSettings(pool: Pool): Promise<{ seq: number; keys: KeySecretRow[]; domains: NamedTransferRow[] }> {
  return readSnapshot(pool, async (c) => {
    const seq = (await c.query<{ s: number }>('SELECT coalesce(max(seq), 0) AS s FROM journal')).rows[0].s;
    const keys = (await c.query<KeySecretRow>('SELECT name, algorithm, secret FROM tsig_keys')).rows;
    const domains = (await c.query<NamedTransferRow>(
      `SELECT t.domain_id, d.name, t.allow::text[] AS allow, t.tsig_key, t.notify, t.updated_at
         FROM domain_transfer t JOIN domains d ON d.id = t.domain_id`)).rows;
    return { seq, keys, domains };
  });
}

/** The IXFR history of a domain: its own serial changes and its zone's record changes, oldest
 *  first (migrations/008_scale.sql). Both are bounded by retention. */
export async function ixfrHistory(pool: Pool, domainId: number, zoneId: number): Promise<IxfrHistory> {
  const [domain, zone] = await Promise.all([
    pool.query<DomainStep>(
      'SELECT serial_from, serial_to, diffable, zone_id, zone_serial FROM ixfr_steps WHERE domain_id = $1 ORDER BY id', [domainId]),
    pool.query<ZoneStep>('SELECT serial_from, serial_to, changes, diffable FROM zone_history WHERE zone_id = $1 ORDER BY id', [zoneId]),
  ]);
  return { domain: domain.rows, zone: zone.rows };
}

/** Bumps the serial if it is still `serial` (one bump per round across servers); the new serial,
 *  or undefined when it had moved on. */
export async function reannounce(pool: Pool, domainId: number, serial: number): Promise<number | undefined> {
  return tx(pool, REANNOUNCE_ACTOR, async (c) => {
    const { rows } = await c.query<{ s: number | null }>('SELECT domain_reannounce($1, $2) AS s', [domainId, serial]);
    return rows[0].s ?? undefined;
  });
}
