// What the primary of `glidepath serve --workers N` and its workers say to each other over the
// cluster IPC channel. Plain JSON: no functions, no sockets.
import type { HostPort, EdgeOptions, NodeName, CookieSettings, StatsSettings } from '../config.js';
import type { RrlSettings } from '../config.js';
import type { QueryStatsState } from '../server/query-stats.js';
import type { FeedState } from '../feed/state.js';
import type { ReloadOptions } from './server.js';

/** Everything a worker needs to answer; the primary resolved the database (embedded or not). */
export interface WorkerStart {
  databaseUrl: string;
  dns: HostPort[];
  dot: HostPort[];
  tls: { certFile: string; keyFile: string } | undefined;
  udpMaxPayload: number;
  tcpIdleMs: number;
  tcpMessageMs: number;
  tcpMaxConnections: number;
  responseCache: boolean;
  logLevel: string;
  keyFile: { file: string; create: boolean };
  /** With the secrets filled in: the primary's own when none is configured, so all workers agree. */
  cookies: CookieSettings;
  rrl: RrlSettings;
  udpIo: 'auto' | 'native' | 'dgram';
  /** Give up connecting to PostgreSQL after this many ms. */
  connectMs: number;
  /** Start from this snapshot file (feed/seed.ts) instead of the database, which is down. */
  seed?: string;
  /** GLIDEPATH_ROLE=edge: poll the journal, write nothing. */
  edge?: EdgeOptions;
  node?: NodeName;
  /** Per-domain query statistics: each worker writes its own batches (they add up). */
  stats?: StatsSettings;
}

export type ToWorker =
  | { t: 'start'; start: WorkerStart }
  | { t: 'reload'; o: Pick<ReloadOptions, 'logLevel' | 'tls' | 'cookieSecrets'> }
  | { t: 'stats'; id: number }
  /** Write your snapshot to `path` (feed/seed.ts) for a worker starting without the database. */
  | { t: 'dump'; id: number; path: string }
  /** Stop accepting, drain open TCP/TLS connections, exit. */
  | { t: 'retire' };

export type FromWorker =
  /** The worker listens for messages: the primary may send 'start'. */
  | { t: 'hello' }
  /** Still starting (every LOADING_BEAT_MS until ready): `cpuMs` of CPU used so far, so the
   *  primary can tell a worker loading a large snapshot from one that hangs. */
  | { t: 'loading'; cpuMs: number }
  /** Snapshot loaded and every listener bound: the worker answers. */
  | { t: 'ready' }
  /** `database`: it failed because the database could not be used (a seeded start may work). */
  | { t: 'failed'; error: string; database: boolean }
  | { t: 'dumped'; id: number; error?: string }
  | { t: 'stats'; id: number; stats: QueryStatsState; feed: FeedState }
  /** The worker's counters as it stops (after its last answer): the primary keeps them, so that
   *  the sums in /metrics never go down when a worker is replaced. */
  | { t: 'final'; stats: QueryStatsState };

/** How often a starting worker reports that it is still loading. */
export const LOADING_BEAT_MS = 10_000;
