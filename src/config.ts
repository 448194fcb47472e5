// The only reader of process.env: a frozen, typed Config. Names here are a contract with operators
// (documented in README.md); keep them stable.
import { join, resolve, isAbsolute } from 'node:path';
import { isIP } from 'node:net';
import { hostname, homedir } from 'node:os';
import { readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';

export interface HostPort { host: string; port: number }

export interface Config {
  databaseUrl: string | undefined;
  dataDir: string;
  dns: HostPort[];
  api: HostPort | null;
  adminToken: string | undefined;
  logLevel: string;
  /** Largest UDP response we send to EDNS clients (RFC 6891 6.2.5; 1232 per DNS Flag Day 2020). */
  udpMaxPayload: number;
  tcpIdleMs: number;
  tcpMessageMs: number;
  tcpMaxConnections: number;
  /** Cache of encoded responses (src/server/response-cache.ts); off for measurements and debugging. */
  responseCache: boolean;
  /** DNS over TLS (RFC 7858) addresses; empty: off. */
  dot: HostPort[];
  tls: { certFile: string; keyFile: string } | undefined;
  /** HTTPS for the API (GLIDEPATH_API_TLS_CERT/_KEY), with optional client certificates. */
  apiTls: ApiTlsFiles | undefined;
  /** Unix socket where `glidepath restart` reaches `serve --workers` (GLIDEPATH_CONTROL_SOCKET). */
  controlSocket: string;
  /** GLIDEPATH_KEY_FILE: the key that encrypts DNSSEC private keys; created on first use only at
   *  the default path (in the data directory). */
  keyFile: { file: string; create: boolean };
  /** GLIDEPATH_DNSSEC_PROPAGATION_DELAY: seconds a change takes to reach every server of a domain
   *  (secondaries included); a key rollover waits it on top of the TTLs (RFC 7583 Dprp). */
  dnssecPropagationDelay: number;
  /** DNS cookies (RFC 7873/9018): GLIDEPATH_COOKIES, _COOKIE_SECRET, _COOKIE_REQUIRE. */
  cookies: CookieSettings;
  /** Response rate limiting (GLIDEPATH_RRL and GLIDEPATH_RRL_*). */
  rrl: RrlSettings;
  /** GLIDEPATH_HEALTH_ALLOW: networks active health checks may reach besides public addresses, or "any". */
  healthAllow: string[];
  /** UDP I/O: the batched native addon when it built ("auto", the default), or node:dgram (GLIDEPATH_UDP_IO). */
  udpIo: 'auto' | 'native' | 'dgram';
  /** Give up connecting to PostgreSQL after this (GLIDEPATH_DB_CONNECT_TIMEOUT_MS). */
  dbConnectTimeoutMs: number;
  /** Longest an API statement may run (GLIDEPATH_DB_STATEMENT_TIMEOUT_MS); past it the request is a 503. */
  dbStatementTimeoutMs: number;
  /** Largest zone-file upload, in bytes (GLIDEPATH_ZONE_FILE_MAX_BYTES). */
  zoneFileMaxBytes: number;
  /** Most records one zone may hold after an API write (GLIDEPATH_ZONE_MAX_RECORDS). */
  zoneMaxRecords: number;
  /** History limits (GLIDEPATH_JOURNAL_MAX_AGE/_DEPTH, GLIDEPATH_IXFR_MAX_AGE/_DEPTH) and how often
   *  they are enforced (GLIDEPATH_RETENTION_INTERVAL). */
  retention: RetentionLimits & { intervalMs: number };
  /** GLIDEPATH_ROLE: "primary" (the default: migrations, API, scheduler, LISTEN) or "edge" (an
   *  answering node on a database that may be a hot standby: reads only, polls the journal). */
  role: 'primary' | 'edge';
  /** GLIDEPATH_NODE_ID (default: the host name): NSID, CHAOS id.server, /metrics and log lines. */
  nodeId: string;
  /** GLIDEPATH_VERSION: answered to CHAOS version.server/version.bind; unset, those are REFUSED. */
  version: string | undefined;
  /** GLIDEPATH_POLL_MS: how often an edge reads the journal for new entries. */
  pollMs: number;
  /** GLIDEPATH_MAX_LAG: seconds of lag past which an edge's /readyz says not ready. */
  maxLagSeconds: number;
  /** Per-domain query statistics (GLIDEPATH_STATS and GLIDEPATH_STATS_*). */
  stats: StatsSettings;
}

/** Per-domain query statistics: counted on the query path, written in batches, rolled up. */
export interface StatsSettings {
  /** GLIDEPATH_STATS: count at all (off: nothing counted, nothing written). */
  readonly enabled: boolean;
  /** GLIDEPATH_STATS_FLUSH_INTERVAL: how often each answering process writes its counts. */
  readonly flushMs: number;
  /** GLIDEPATH_STATS_MINUTE_RETENTION: per-minute rows kept this long (seconds), then rolled up per hour. */
  readonly minuteKeepS: number;
  /** GLIDEPATH_STATS_HOUR_RETENTION: hourly rows kept this long (seconds). */
  readonly hourKeepS: number;
  /** GLIDEPATH_STATS_DATABASE_URL: where an edge writes its counts (its standby is read-only);
   *  unset on an edge: per-tenant totals in /metrics only. Full nodes write to DATABASE_URL. */
  readonly databaseUrl?: string;
}

export const DEFAULT_STATS: Readonly<StatsSettings> = { enabled: true, flushMs: 60_000, minuteKeepS: 2 * 86400, hourKeepS: 400 * 86400 };

export type RrlMode = 'off' | 'on' | 'log';

/** Response rate limiting (src/server/rrl.ts), as BIND and Knot define it. */
export interface RrlSettings {
  readonly mode: RrlMode;
  /** Responses per second per account. */
  readonly rate: number;
  /** Seconds of debt an account may run up (BIND's window). */
  readonly window: number;
  /** Every slip-th limited response is sent truncated; 0: all are dropped, 1: none is. */
  readonly slip: number;
  readonly ipv4Prefix: number;
  readonly ipv6Prefix: number;
  /** Networks never limited, as "address/prefix". */
  readonly exempt: readonly string[];
  /** Accounts kept; the least recently used goes first past it. */
  readonly tableSize?: number;
}

/** "192.0.2.0/24", "2001:db8::/32" or a bare address. */
function isNetwork(text: string): boolean {
  const [addr, len, extra] = text.split('/');
  const family = isIP(addr);
  if (!family || extra !== undefined) return false;
  if (len === undefined) return true;
  const bits = Number(len);
  return /^\d+$/.test(len) && bits <= (family === 4 ? 32 : 128);
}

export interface CookieSettings {
  enabled: boolean;
  /** Hex, 16 octets each; the first makes cookies, the rest are accepted. Empty: one made at start
   *  (shared by the workers of one `serve`, not by other nodes). */
  secrets: string[];
  /** BADCOOKIE to UDP queries with a client cookie but no valid server cookie (RFC 7873 5.2.3). */
  require: boolean;
}

export interface ApiTlsFiles {
  certFile: string;
  keyFile: string;
  /** GLIDEPATH_API_CLIENT_CA: comma-separated PEM files, each with one or more CA certificates. */
  clientCaFiles: string[];
  /** GLIDEPATH_API_CLIENT_CRL: a PEM file with one or more revocation lists. */
  clientCrlFile: string | undefined;
  /** GLIDEPATH_API_CLIENT_CERT: optional (default when CAs are set) or require. */
  clientCert: 'off' | 'optional' | 'require';
}

export interface RetentionLimits {
  /** Journal rows older than this (seconds) go. */
  journalMaxAgeS: number;
  /** At most this many journal rows are kept behind the newest. */
  journalMaxDepth: number;
  /** IXFR history steps older than this (seconds) go. */
  ixfrMaxAgeS: number;
  /** At most this many steps are kept per zone (zone_history) and per domain (ixfr_steps). */
  ixfrMaxDepth: number;
}

/** Defaults of the history limits (README, Environment). */
export const DEFAULT_RETENTION: Readonly<RetentionLimits> = {
  journalMaxAgeS: 30 * 86400, journalMaxDepth: 1_000_000, ixfrMaxAgeS: 7 * 86400, ixfrMaxDepth: 100,
};
/** What an edge node needs of the configuration (GLIDEPATH_POLL_MS, GLIDEPATH_MAX_LAG). */
export interface EdgeOptions { pollMs: number; maxLagSeconds: number }

/** The edge settings of a configuration; undefined for the primary role. */
export function edgeOptions(cfg: Pick<Config, 'role' | 'pollMs' | 'maxLagSeconds'>): EdgeOptions | undefined {
  return cfg.role === 'edge' ? { pollMs: cfg.pollMs, maxLagSeconds: cfg.maxLagSeconds } : undefined;
}

/** A node's name and, when configured, the version it tells (GLIDEPATH_NODE_ID, GLIDEPATH_VERSION). */
export interface NodeName { id: string; version?: string }

export class ConfigError extends Error {}

/** pino's levels: anything else would stop start-up (or a reload) with pino's stack trace. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

export function logLevel(raw: string | undefined, def = 'info'): string {
  if (raw === undefined || raw === '') return def;
  if (!(LOG_LEVELS as readonly string[]).includes(raw)) throw new ConfigError(`GLIDEPATH_LOG_LEVEL: "${raw}" is not one of ${LOG_LEVELS.join(', ')}`);
  return raw;
}

/** DATABASE_URL must be a postgres:// or postgresql:// URL with a host: "notaurl" would otherwise
 *  be read as a socket path or a host named after a piece of it ("getaddrinfo ENOTFOUND base"). */
function databaseUrl(raw: string | undefined): string | undefined {
  if (!raw) return undefined;
  let u: URL;
  try { u = new URL(raw); } catch { throw new ConfigError('DATABASE_URL: not a URL (postgres://USER:PASSWORD@HOST:PORT/DATABASE)'); }
  if (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:') throw new ConfigError(`DATABASE_URL: scheme "${u.protocol}" is not postgres:// or postgresql://`);
  if (!u.hostname) throw new ConfigError('DATABASE_URL: no host (postgres://USER:PASSWORD@HOST:PORT/DATABASE)');
  return raw;
}

/** Parses "host:port", "[v6]:port" or "host" (with a default port). */
export function parseHostPort(text: string, defaultPort: number, what: string): HostPort {
  const t = text.trim();
  let m = /^\[([0-9A-Fa-f:.]+)\](?::(\d+))?$/.exec(t);
  if (!m) m = /^([^:\s]+)(?::(\d+))?$/.exec(t);
  if (!m) throw new ConfigError(`${what}: "${text}" is not host:port`);
  const port = m[2] === undefined ? defaultPort : Number(m[2]);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError(`${what}: port in "${text}" is out of range`);
  return { host: m[1], port };
}

export function parseHostPortList(text: string, defaultPort: number, what: string): HostPort[] {
  return text.split(',').filter((s) => s.trim() !== '').map((s) => parseHostPort(s, defaultPort, what));
}

function intEnv(env: NodeJS.ProcessEnv, name: string, def: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return def;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new ConfigError(`${name}: "${raw}" must be a whole number from ${min} to ${max}`);
  return n;
}

/** Seconds, or a number with a unit: 90s, 15m, 12h, 30d. */
function durationEnv(env: NodeJS.ProcessEnv, name: string, defSeconds: number, minSeconds: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return defSeconds;
  const m = /^(\d+)([smhd]?)$/.exec(raw.trim());
  const n = m ? Number(m[1]) * ({ '': 1, s: 1, m: 60, h: 3600, d: 86400 } as Record<string, number>)[m[2]] : NaN;
  if (!Number.isSafeInteger(n) || n < minSeconds) throw new ConfigError(`${name}: "${raw}" must be a duration of at least ${minSeconds} s (seconds, or with s, m, h or d)`);
  return n;
}

function onOff(env: NodeJS.ProcessEnv, name: string, def: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return def;
  if (raw === 'on') return true;
  if (raw === 'off') return false;
  throw new ConfigError(`${name}: "${raw}" must be on or off`);
}

function tlsFiles(env: NodeJS.ProcessEnv): Config['tls'] {
  const cert = env.GLIDEPATH_TLS_CERT || undefined;
  const key = env.GLIDEPATH_TLS_KEY || undefined;
  if (!cert !== !key) throw new ConfigError('GLIDEPATH_TLS_CERT and GLIDEPATH_TLS_KEY go together: set both or neither');
  if (env.GLIDEPATH_DOT && !cert) throw new ConfigError('GLIDEPATH_DOT needs GLIDEPATH_TLS_CERT and GLIDEPATH_TLS_KEY (PEM files)');
  return cert && key ? { certFile: resolve(cert), keyFile: resolve(key) } : undefined;
}

function apiTlsFiles(env: NodeJS.ProcessEnv): ApiTlsFiles | undefined {
  const cert = env.GLIDEPATH_API_TLS_CERT || undefined;
  const key = env.GLIDEPATH_API_TLS_KEY || undefined;
  const ca = (env.GLIDEPATH_API_CLIENT_CA ?? '').split(',').map((f) => f.trim()).filter((f) => f !== '');
  const crl = env.GLIDEPATH_API_CLIENT_CRL || undefined;
  const mode = env.GLIDEPATH_API_CLIENT_CERT || undefined;
  if (!cert !== !key) throw new ConfigError('GLIDEPATH_API_TLS_CERT and GLIDEPATH_API_TLS_KEY go together: set both or neither');
  if (mode !== undefined && mode !== 'optional' && mode !== 'require') throw new ConfigError(`GLIDEPATH_API_CLIENT_CERT: "${mode}" must be optional or require`);
  if (!cert) {
    if (ca.length || crl || mode) throw new ConfigError('GLIDEPATH_API_CLIENT_CA, _CLIENT_CRL and _CLIENT_CERT need HTTPS: set GLIDEPATH_API_TLS_CERT and GLIDEPATH_API_TLS_KEY');
    return undefined;
  }
  if ((crl || mode) && !ca.length) throw new ConfigError('GLIDEPATH_API_CLIENT_CRL and GLIDEPATH_API_CLIENT_CERT need GLIDEPATH_API_CLIENT_CA (the CAs that issue client certificates)');
  return {
    certFile: resolve(cert), keyFile: resolve(key!), clientCaFiles: ca.map((f) => resolve(f)),
    clientCrlFile: crl ? resolve(crl) : undefined,
    clientCert: ca.length ? (mode === 'require' ? 'require' : 'optional') : 'off',
  };
}

function cookieSettings(env: NodeJS.ProcessEnv): CookieSettings {
  const secrets = (env.GLIDEPATH_COOKIE_SECRET ?? '').split(',').map((x) => x.trim()).filter((x) => x !== '');
  for (const x of secrets) {
    if (!/^[0-9a-fA-F]{32}$/.test(x)) throw new ConfigError(`GLIDEPATH_COOKIE_SECRET: "${x}" is not 32 hex digits (16 octets, RFC 9018 4.4)`);
  }
  return { enabled: onOff(env, 'GLIDEPATH_COOKIES', true), secrets, require: onOff(env, 'GLIDEPATH_COOKIE_REQUIRE', false) };
}

function rrlSettings(env: NodeJS.ProcessEnv): RrlSettings {
  const mode = (env.GLIDEPATH_RRL || 'off') as RrlMode;
  if (mode !== 'on' && mode !== 'off' && mode !== 'log') throw new ConfigError(`GLIDEPATH_RRL: "${mode}" must be on, off or log`);
  const exempt = (env.GLIDEPATH_RRL_EXEMPT ?? '').split(',').map((x) => x.trim()).filter((x) => x !== '');
  for (const e of exempt) if (!isNetwork(e)) throw new ConfigError(`GLIDEPATH_RRL_EXEMPT: "${e}" is not an address or address/prefix`);
  return {
    mode,
    rate: intEnv(env, 'GLIDEPATH_RRL_RATE', 20, 1, 1_000_000),
    window: intEnv(env, 'GLIDEPATH_RRL_WINDOW', 15, 1, 3600),
    slip: intEnv(env, 'GLIDEPATH_RRL_SLIP', 2, 0, 10),
    ipv4Prefix: intEnv(env, 'GLIDEPATH_RRL_IPV4_PREFIX', 24, 8, 32),
    ipv6Prefix: intEnv(env, 'GLIDEPATH_RRL_IPV6_PREFIX', 56, 16, 128),
    exempt,
  };
}

function healthAllow(env: NodeJS.ProcessEnv): string[] {
  const list = (env.GLIDEPATH_HEALTH_ALLOW ?? '').split(',').map((x) => x.trim()).filter((x) => x !== '');
  for (const n of list) if (n !== 'any' && !isNetwork(n)) throw new ConfigError(`GLIDEPATH_HEALTH_ALLOW: "${n}" is not "any", an address or address/prefix`);
  return list;
}

function statsSettings(env: NodeJS.ProcessEnv): StatsSettings {
  const url = env.GLIDEPATH_STATS_DATABASE_URL || undefined;
  if (url) { try { databaseUrl(url); } catch (e) { throw new ConfigError(`GLIDEPATH_STATS_${(e as Error).message}`); } }
  return Object.freeze({
    enabled: onOff(env, 'GLIDEPATH_STATS', true),
    flushMs: 1000 * durationEnv(env, 'GLIDEPATH_STATS_FLUSH_INTERVAL', DEFAULT_STATS.flushMs / 1000, 1),
    minuteKeepS: durationEnv(env, 'GLIDEPATH_STATS_MINUTE_RETENTION', DEFAULT_STATS.minuteKeepS, 3600),
    hourKeepS: durationEnv(env, 'GLIDEPATH_STATS_HOUR_RETENTION', DEFAULT_STATS.hourKeepS, 86400),
    ...(url ? { databaseUrl: url } : {}),
  });
}

function udpIo(env: NodeJS.ProcessEnv): Config['udpIo'] {
  // auto by default: the batched native path where the addon built. It answers bursts as fully as
  // node:dgram (test/server/udp-burst.test.ts) at well under half the CPU per query (bench/SWEEP.md).
  const v = env.GLIDEPATH_UDP_IO || 'auto';
  if (v !== 'auto' && v !== 'native' && v !== 'dgram') throw new ConfigError(`GLIDEPATH_UDP_IO: "${v}" must be auto, native or dgram`);
  return v;
}

function role(env: NodeJS.ProcessEnv): Config['role'] {
  const r = env.GLIDEPATH_ROLE || 'primary';
  if (r !== 'primary' && r !== 'edge') throw new ConfigError(`GLIDEPATH_ROLE: "${r}" must be primary or edge`);
  if (r === 'edge' && !env.DATABASE_URL) throw new ConfigError('GLIDEPATH_ROLE=edge needs DATABASE_URL (the primary or a hot standby it reads from)');
  return r;
}

/** A node id goes out in NSID and a TXT string: printable ASCII, at most 255 octets. */
function nodeId(env: NodeJS.ProcessEnv): string {
  const id = env.GLIDEPATH_NODE_ID || hostname();
  if (!/^[\x21-\x7e]{1,255}$/.test(id)) throw new ConfigError(`GLIDEPATH_NODE_ID: "${id}" must be 1 to 255 printable ASCII characters without spaces`);
  return id;
}

/** The default data directory: one fixed place per user, as PowerDNS and Knot keep one per system,
 *  so that `glidepath import` run from any directory reaches the database the running `serve`
 *  uses (a cwd-relative ./.glidepath made a second, empty database instead). XDG Base Directory:
 *  $XDG_DATA_HOME/glidepath, else ~/.local/share/glidepath. */
export function defaultDataDir(env: NodeJS.ProcessEnv): string {
  const xdg = env.XDG_DATA_HOME;
  if (xdg && isAbsolute(xdg)) return join(xdg, 'glidepath');
  return join(env.HOME || homedir(), '.local', 'share', 'glidepath');
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Readonly<Config> {
  const api = env.GLIDEPATH_API ?? '127.0.0.1:8053';
  const dataDir = resolve(env.GLIDEPATH_DATA_DIR || defaultDataDir(env));
  return Object.freeze({
    databaseUrl: databaseUrl(env.DATABASE_URL),
    dataDir,
    dns: parseHostPortList(env.GLIDEPATH_DNS ?? '127.0.0.1:5300,[::1]:5300', 53, 'GLIDEPATH_DNS'),
    api: api === '' || api === 'off' ? null : parseHostPort(api, 8053, 'GLIDEPATH_API'),
    adminToken: env.GLIDEPATH_ADMIN_TOKEN || undefined,
    logLevel: logLevel(env.GLIDEPATH_LOG_LEVEL),
    udpMaxPayload: intEnv(env, 'GLIDEPATH_UDP_MAX_PAYLOAD', 1232, 512, 65535),
    tcpIdleMs: intEnv(env, 'GLIDEPATH_TCP_IDLE_MS', 10_000, 100, 3_600_000),
    tcpMessageMs: intEnv(env, 'GLIDEPATH_TCP_MESSAGE_MS', 2000, 100, 600_000),
    tcpMaxConnections: intEnv(env, 'GLIDEPATH_TCP_MAX_CONNECTIONS', 1000, 1, 1_000_000),
    responseCache: onOff(env, 'GLIDEPATH_RESPONSE_CACHE', true),
    dot: parseHostPortList(env.GLIDEPATH_DOT ?? '', 853, 'GLIDEPATH_DOT'),
    tls: tlsFiles(env),
    apiTls: apiTlsFiles(env),
    controlSocket: resolve(env.GLIDEPATH_CONTROL_SOCKET || join(dataDir, 'control.sock')),
    dnssecPropagationDelay: intEnv(env, 'GLIDEPATH_DNSSEC_PROPAGATION_DELAY', 300, 0, 86400),
    keyFile: env.GLIDEPATH_KEY_FILE ? { file: resolve(env.GLIDEPATH_KEY_FILE), create: false } : { file: join(dataDir, 'dnssec-kek.key'), create: true },
    cookies: cookieSettings(env),
    rrl: rrlSettings(env),
    healthAllow: healthAllow(env),
    udpIo: udpIo(env),
    dbConnectTimeoutMs: intEnv(env, 'GLIDEPATH_DB_CONNECT_TIMEOUT_MS', 2000, 100, 600_000),
    dbStatementTimeoutMs: intEnv(env, 'GLIDEPATH_DB_STATEMENT_TIMEOUT_MS', 15_000, 100, 3_600_000),
    zoneFileMaxBytes: intEnv(env, 'GLIDEPATH_ZONE_FILE_MAX_BYTES', 10 * 1024 * 1024, 1024, 256 * 1024 * 1024),
    zoneMaxRecords: intEnv(env, 'GLIDEPATH_ZONE_MAX_RECORDS', 500_000, 1, 10_000_000),
    retention: Object.freeze({
      journalMaxAgeS: durationEnv(env, 'GLIDEPATH_JOURNAL_MAX_AGE', DEFAULT_RETENTION.journalMaxAgeS, 60),
      journalMaxDepth: intEnv(env, 'GLIDEPATH_JOURNAL_MAX_DEPTH', DEFAULT_RETENTION.journalMaxDepth, 1000, Number.MAX_SAFE_INTEGER),
      ixfrMaxAgeS: durationEnv(env, 'GLIDEPATH_IXFR_MAX_AGE', DEFAULT_RETENTION.ixfrMaxAgeS, 60),
      ixfrMaxDepth: intEnv(env, 'GLIDEPATH_IXFR_MAX_DEPTH', DEFAULT_RETENTION.ixfrMaxDepth, 1, 1_000_000),
      intervalMs: 1000 * durationEnv(env, 'GLIDEPATH_RETENTION_INTERVAL', 60, 1),
    }),
    role: role(env),
    nodeId: nodeId(env),
    version: env.GLIDEPATH_VERSION ? env.GLIDEPATH_VERSION.slice(0, 255) : undefined,
    pollMs: intEnv(env, 'GLIDEPATH_POLL_MS', 100, 10, 60_000),
    maxLagSeconds: intEnv(env, 'GLIDEPATH_MAX_LAG', 10, 1, 86_400),
    stats: statsSettings(env),
  });
}

/** NAME=value lines (the dotenv format). Not named --env-file: Node 20 takes that flag for itself
 *  even after the script name, and exits when the file is missing. */
export function readEnvFile(file: string): NodeJS.Dict<string> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`--config ${file}: ${(err as Error & { code?: string }).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
  // parseEnv skips what it cannot read: "this is not a config" would be accepted as no settings
  // at all (and reset whatever it was meant to set). Every line must be NAME=value, a comment or
  // blank; a quoted value may run over several lines.
  let open: string | undefined;
  text.split(/\r?\n/).forEach((line, i) => {
    if (open) { if (line.includes(open)) open = undefined; return; }
    if (/^\s*(#.*)?$/.test(line)) return;
    const m = /^\s*(?:export\s+)?[A-Za-z_][A-Za-z0-9_]*\s*=\s*(.*)$/.exec(line);
    if (!m) throw new ConfigError(`--config ${file}:${i + 1}: not a NAME=value line`);
    const q = m[1][0];
    if ((q === '"' || q === "'" || q === '`') && !m[1].slice(1).includes(q)) open = q;
  });
  return parseEnv(text);
}
