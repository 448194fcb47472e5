// What cluster/ needs of a running Glidepath and of the function that starts one. main.ts's
// startServer fits both; cli.ts hands it in, so cluster/ never imports the composition root.
import type { Logger } from 'pino';
import type { ApiTlsFiles, HostPort, RetentionLimits, EdgeOptions, NodeName, CookieSettings, StatsSettings } from '../config.js';
import type { RrlSettings } from '../config.js';
import type { QueryStats } from '../server/query-stats.js';
import type { ChangeFeed } from '../feed/change-feed.js';
import type { Gather } from '../metrics/registry.js';

/** What SIGHUP may change without a restart (main.ts's ReloadOptions). */
export interface ReloadOptions {
  logLevel?: string;
  tls?: { certFile: string; keyFile: string };
  apiTls?: ApiTlsFiles;
  /** DNS cookie secrets, hex, the one that makes cookies first (GLIDEPATH_COOKIE_SECRET). */
  cookieSecrets?: string[];
}

/** The options of main.ts's startServer that the primary ("control") and workers ("answer") set. */
export interface StartOptions {
  role: 'control' | 'answer';
  log: Logger;
  dns: HostPort[];
  api: HostPort | null;
  databaseUrl?: string;
  dataDir?: string;
  adminToken?: string;
  apiTls?: ApiTlsFiles;
  ready?: () => boolean;
  metrics?: Gather;
  dot?: HostPort[];
  tls?: { certFile: string; keyFile: string };
  udpMaxPayload?: number;
  tcpIdleMs?: number;
  tcpMaxConnections?: number;
  responseCache?: boolean;
  logLevel?: string;
  /** GLIDEPATH_KEY_FILE (DNSSEC key encryption). */
  keyFile?: { file: string; create: boolean };
  /** DNSSEC key rollovers' propagation delay (GLIDEPATH_DNSSEC_PROPAGATION_DELAY). */
  dnssecRollover?: { propagationDelay?: number };
  retention?: Partial<RetentionLimits> & { intervalMs?: number };
  /** For the control of an edge: the workers' snapshot positions, for /readyz. */
  positions?: () => Promise<Array<{ seq: number; ageSeconds: number }>>;
  edge?: EdgeOptions;
  node?: NodeName;
  cookies?: CookieSettings;
  rrl?: RrlSettings;
  healthAllow?: string[];
  udpIo?: 'auto' | 'native' | 'dgram';
  /** PostgreSQL timeouts: connecting, and (API only) a statement. */
  db?: { connectMs?: number; statementMs?: number };
  /** Zone-file upload limits (the primary's API). */
  zoneFile?: { maxBytes: number; maxRecords: number };
  /** "answer": start from this snapshot file (feed/seed.ts) instead of the database, which is down. */
  seed?: string;
  /** "control": workers answering DNS and how many are wanted (/healthz, /readyz). */
  workers?: () => { ready: number; wanted: number };
  /** Per-domain query statistics: counting and flushing ("answer"), rollup and the API ("control"). */
  stats?: StatsSettings;
  /** "control": told when the API's database monitor sees the database go down or come back. */
  onDatabaseChange?: (up: boolean) => void;
}

export interface Started {
  apiUrl(): string;
  db: { url: string };
  stats: QueryStats;
  feed: ChangeFeed | undefined;
  reload(o?: ReloadOptions): Promise<void>;
  stop(): Promise<void>;
}

/** Starts a server. A start that failed for want of the database rejects with an error whose
 *  `databaseUnavailable` is true (a worker can then be started from a sibling's snapshot). */
export type StartServer = (o: StartOptions) => Promise<Started>;
