// Where this database stands in streaming replication, for an edge's /readyz: whether it is a hot
// standby, how far its replay trails what it has received from the primary, and the journal
// position it shows. Read-only functions that work on a primary and on a standby alike.
import type { Queryable } from './tenants.js';
import { journalHead } from './journal-read.js';

export interface ReplicationState {
  /** pg_is_in_recovery(): a hot standby (false after a promotion, or on the primary itself). */
  standby: boolean;
  /** Seconds the replay trails: 0 when everything received is replayed (an idle primary sends
   *  nothing, so the age of the last replayed commit alone would read as lag), else the age of the
   *  last commit replayed. 0 on a primary. */
  replayLagSeconds: number;
  /** pg_stat_wal_receiver.status ("streaming", ...); null when no WAL receiver runs (a primary, or
   *  a standby that has lost its primary and is between retries). */
  receiver: string | null;
  journalSeq: number;
}

export async function replicationState(c: Queryable): Promise<ReplicationState> {
  const { rows } = await c.query<{ standby: boolean; lag: number | null; receiver: string | null }>(
    `SELECT pg_is_in_recovery() AS standby,
            CASE WHEN NOT pg_is_in_recovery() THEN 0
                 WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
                 ELSE extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8 END AS lag,
            (SELECT status FROM pg_stat_wal_receiver LIMIT 1) AS receiver`);
  const r = rows[0];
  return { standby: r.standby, replayLagSeconds: Math.max(0, r.lag ?? 0), receiver: r.receiver, journalSeq: await journalHead(c) };
}
