// Readiness of an edge node (GLIDEPATH_ROLE=edge), for /readyz: a load balancer or an anycast
// health check withdraws a node whose answers have grown stale. Lag is the larger of what the
// database trails its primary (replay lag) and how long ago the snapshot last caught up with that
// database's journal (a poll every GLIDEPATH_POLL_MS, so normally a fraction of a second; it grows
// while the database is unreachable). The node keeps answering from its snapshot either way: only
// the health check changes.
import type { Queryable } from '../store/tenants.js';
import { replicationState } from '../store/replication.js';

/** What /readyz reports beside its status. Field names are the API's (snake_case). */
export type ReplicationReport = {
  role: 'edge';
  node: string;
  /** Journal sequence the snapshot has applied (the lowest over this node's workers). */
  journal_seq: number;
  /** Journal sequence the database shows; null when it could not be read. */
  database_journal_seq: number | null;
  lag_seconds: number;
  replay_lag_seconds: number | null;
  /** The database is a hot standby (false once promoted); null when unreachable. */
  standby: boolean | null;
  /** Status of the standby's WAL receiver ("streaming"), null when none runs or unknown. */
  wal_receiver: string | null;
  /** Why the database could not be asked, when it could not. */
  database_error: string | null;
  max_lag_seconds: number;
};

export interface Readiness {
  problems: Array<{ path: string; problem: string }>;
  replication: ReplicationReport;
}

/** A snapshot's position: applied sequence and seconds since it last caught up (-1: not loaded). */
export interface SnapshotPosition { seq: number; ageSeconds: number }

export async function edgeReadiness(db: Queryable, snapshots: readonly SnapshotPosition[],
  o: { node: string; maxLagSeconds: number; timeoutMs?: number }): Promise<Readiness> {
  const problems: Readiness['problems'] = [];
  const rep: ReplicationReport = {
    role: 'edge', node: o.node, journal_seq: 0, database_journal_seq: null, lag_seconds: 0, replay_lag_seconds: null,
    standby: null, wal_receiver: null, database_error: null, max_lag_seconds: o.maxLagSeconds,
  };
  if (!snapshots.length || snapshots.some((s) => s.ageSeconds < 0)) problems.push({ path: 'snapshot', problem: 'not loaded yet' });
  rep.journal_seq = snapshots.length ? Math.min(...snapshots.map((s) => s.seq)) : 0;
  let age = 0;
  for (const s of snapshots) age = Math.max(age, s.ageSeconds);
  try {
    const r = await withTimeout(replicationState(db), o.timeoutMs ?? 2000);
    rep.standby = r.standby;
    rep.replay_lag_seconds = round(r.replayLagSeconds);
    rep.wal_receiver = r.receiver;
    rep.database_journal_seq = r.journalSeq;
    age = Math.max(age, r.replayLagSeconds);
  } catch (err) {
    // Not a problem by itself: the snapshot still answers. The lag (its age) decides.
    rep.database_error = (err as Error).message;
  }
  rep.lag_seconds = round(age);
  if (age > o.maxLagSeconds) problems.push({ path: 'lag_seconds', problem: `${rep.lag_seconds} s behind, more than GLIDEPATH_MAX_LAG (${o.maxLagSeconds} s)` });
  return { problems, replication: rep };
}

const round = (n: number) => Math.round(n * 1000) / 1000;

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(t)),
    new Promise<never>((_, rej) => { t = setTimeout(() => rej(new Error(`no answer within ${ms} ms`)), ms); }),
  ]);
}
