// The only reader of process.env: a frozen, typed Config. Names here are a contract with operators
// (documented in README.md); keep them stable.
import { join, resolve } from 'node:path';

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
  /** Give up connecting to PostgreSQL after this (GLIDEPATH_DB_CONNECT_TIMEOUT_MS). */
  dbConnectTimeoutMs: number;
  /** Longest an API statement may run (GLIDEPATH_DB_STATEMENT_TIMEOUT_MS); past it the request is a 503. */
  dbStatementTimeoutMs: number;
  /** Largest zone-file upload, in bytes (GLIDEPATH_ZONE_FILE_MAX_BYTES). */
  zoneFileMaxBytes: number;
  /** Most records one zone may hold after an API write (GLIDEPATH_ZONE_MAX_RECORDS). */
  zoneMaxRecords: number;
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

export class ConfigError extends Error {}

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

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Readonly<Config> {
  const api = env.GLIDEPATH_API ?? '127.0.0.1:8053';
  const dataDir = resolve(env.GLIDEPATH_DATA_DIR || './.glidepath');
  return Object.freeze({
    databaseUrl: env.DATABASE_URL || undefined,
    dataDir,
    dns: parseHostPortList(env.GLIDEPATH_DNS ?? '127.0.0.1:5300,[::1]:5300', 53, 'GLIDEPATH_DNS'),
    api: api === '' || api === 'off' ? null : parseHostPort(api, 8053, 'GLIDEPATH_API'),
    adminToken: env.GLIDEPATH_ADMIN_TOKEN || undefined,
    logLevel: env.GLIDEPATH_LOG_LEVEL || 'info',
    udpMaxPayload: intEnv(env, 'GLIDEPATH_UDP_MAX_PAYLOAD', 1232, 512, 65535),
    tcpIdleMs: intEnv(env, 'GLIDEPATH_TCP_IDLE_MS', 10_000, 100, 3_600_000),
    tcpMaxConnections: intEnv(env, 'GLIDEPATH_TCP_MAX_CONNECTIONS', 1000, 1, 1_000_000),
    responseCache: onOff(env, 'GLIDEPATH_RESPONSE_CACHE', true),
    dot: parseHostPortList(env.GLIDEPATH_DOT ?? '', 853, 'GLIDEPATH_DOT'),
    tls: tlsFiles(env),
    apiTls: apiTlsFiles(env),
    controlSocket: resolve(env.GLIDEPATH_CONTROL_SOCKET || join(dataDir, 'control.sock')),
    dbConnectTimeoutMs: intEnv(env, 'GLIDEPATH_DB_CONNECT_TIMEOUT_MS', 2000, 100, 600_000),
    dbStatementTimeoutMs: intEnv(env, 'GLIDEPATH_DB_STATEMENT_TIMEOUT_MS', 15_000, 100, 3_600_000),
    zoneFileMaxBytes: intEnv(env, 'GLIDEPATH_ZONE_FILE_MAX_BYTES', 10 * 1024 * 1024, 1024, 256 * 1024 * 1024),
    zoneMaxRecords: intEnv(env, 'GLIDEPATH_ZONE_MAX_RECORDS', 500_000, 1, 10_000_000),
  });
}
