// `glidepath` command line: argv, --help, exit codes. The verbs and flags are a contract operators
// script against (README.md); the work is done elsewhere.
import { parseArgs } from 'node:util';
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import cluster from 'node:cluster';
import { loadConfig, ConfigError, edgeOptions, logLevel, readEnvFile, type Config } from './config.js';
import { Primary } from './cluster/primary.js';
import { runWorker } from './cluster/worker.js';
import { listenControl, ask } from './cluster/control.js';
import { writePidFile } from './cluster/pid-file.js';
import { createLogger, type Logger } from './log.js';
import { makeDataDir } from './store/data-dir.js';
import { openDatabase, startServer } from './main.js';
import { migrate } from './store/migrate.js';
import { importZoneFile, exportDomain, ImportError } from './store/zone-file-io.js';
import { findTenant } from './store/tenants.js';
import { createToken } from './store/tokens.js';
import { dnssecCommand, type DnssecAction } from './store/dnssec-command.js';
import { KekHolder } from './store/key-file.js';
import { ALGORITHMS, type AlgorithmName } from './dnssec/keys.js';

const USAGE: Record<string, string> = {
  main: `Usage: glidepath <command> [options]

Commands:
  serve                 run the DNS server, the REST API and the PZC scheduler
  restart               replace the workers of a running "serve" one by one (rolling restart)
  reload                what SIGHUP does, to a running "serve --workers N", waiting for the outcome
  migrate               apply database migrations
  import FILE           load an RFC 1035 master file as a zone and a domain
  export DOMAIN         print the master file a domain serves now
  token create          print a new API token
  dnssec enable|show|disable DOMAIN   sign a domain, show its keys and DS, stop signing
  dnssec rollover DOMAIN   roll the signing key over (ds-published DOMAIN: the parent has the new DS)

Run "glidepath <command> --help" for a command's options.
Environment: DATABASE_URL, GLIDEPATH_DATA_DIR, GLIDEPATH_DNS, GLIDEPATH_API, GLIDEPATH_ADMIN_TOKEN,
GLIDEPATH_LOG_LEVEL, GLIDEPATH_UDP_MAX_PAYLOAD, GLIDEPATH_TCP_IDLE_MS, GLIDEPATH_TCP_MAX_CONNECTIONS,
GLIDEPATH_RESPONSE_CACHE (on|off), GLIDEPATH_DOT, GLIDEPATH_TLS_CERT, GLIDEPATH_TLS_KEY,
GLIDEPATH_API_TLS_CERT, GLIDEPATH_API_TLS_KEY, GLIDEPATH_API_CLIENT_CA, GLIDEPATH_API_CLIENT_CRL,
GLIDEPATH_API_CLIENT_CERT (optional|require), GLIDEPATH_CONTROL_SOCKET, GLIDEPATH_ROLE (primary|edge),
GLIDEPATH_NODE_ID, GLIDEPATH_VERSION, GLIDEPATH_POLL_MS, GLIDEPATH_MAX_LAG, GLIDEPATH_KEY_FILE.`,
  serve: `Usage: glidepath serve [--workers N] [--config FILE]

Serves DNS on GLIDEPATH_DNS (default 127.0.0.1:5300,[::1]:5300, UDP and TCP) and the REST API on
GLIDEPATH_API (default 127.0.0.1:8053; "off" disables it). Uses DATABASE_URL, or with none an
embedded PostgreSQL in GLIDEPATH_DATA_DIR (default $XDG_DATA_HOME/glidepath, else
~/.local/share/glidepath; the same for every command, whatever the current directory).
Migrations are applied at start.
With GLIDEPATH_ROLE=edge it only answers: it reads DATABASE_URL (a hot standby will do), polls the
journal every GLIDEPATH_POLL_MS, writes nothing, waits for the database when it is unreachable, and
its API serves only /healthz, /readyz (lag, journal position) and /metrics.
  --workers N           DNS worker processes (default: one per core). The primary owns the sockets,
                        the database, the API and the scheduler; each worker holds its own snapshot.
                        0: everything in one process (no rolling restart).
  --config FILE         NAME=value lines read at start and on SIGHUP; they override the environment.
Signals: SIGTERM/SIGINT stop cleanly (TCP/TLS connections drained). SIGHUP rereads the env file and
reloads the log level and the DoT and API certificates, keys, client CAs and CRL, closing nothing.
SIGHUP is also "glidepath reload"; SIGUSR2 (or "glidepath restart") replaces the workers one at a
time. The primary's pid is logged at start and written to GLIDEPATH_DATA_DIR/glidepath.pid (removed
at a clean stop).`,
  restart: `Usage: glidepath restart

Asks the running "glidepath serve --workers N" (through GLIDEPATH_CONTROL_SOCKET, default
GLIDEPATH_DATA_DIR/control.sock) to replace its workers one at a time, and waits until it has:
each new worker loads its snapshot and answers before an old one stops accepting and drains.
Exit status 0 when every worker was replaced, 1 otherwise.`,
  reload: `Usage: glidepath reload

Asks the running "glidepath serve --workers N" (through GLIDEPATH_CONTROL_SOCKET, default
GLIDEPATH_DATA_DIR/control.sock) to do what SIGHUP does: reread --config and reload the log level,
certificates, keys, client CAs and CRL. Exit status 0 when it was applied; 1 with the reason (a bad
file or setting, one that needs a restart) when nothing changed.`,
  migrate: `Usage: glidepath migrate

Applies pending migrations from migrations/ in one transaction (idempotent).`,
  import: `Usage: glidepath import FILE [--domain NAME] [--zone ZONE] [--tenant NAME] [--delegation-only]

Reads an RFC 1035 master file and stores it as zone ZONE (default: the domain name without its
trailing dot) with domain NAME pointing to it (default: the file's first $ORIGIN), replacing what
was there, in one transaction. A bad line fails the whole import with FILE:LINE and changes nothing.
  --domain NAME         the domain the file is for
  --zone ZONE           the zone name to store it as
  --tenant NAME         owning tenant (default: "default", created when missing)
  --delegation-only     the domain only serves its apex and referrals (a TLD or registry)`,
  export: `Usage: glidepath export DOMAIN

Prints the master file DOMAIN serves now (its current zone, with the domain's serial).`,
  dnssec: `Usage: glidepath dnssec enable|show|disable|rollover|ds-published DOMAIN [--algorithm ecdsap256sha256|ed25519]

enable: sign DOMAIN (one combined signing key, ECDSA P-256 by default) and print its DS records.
show: print its public keys (DNSKEY, key tag, flags, state) and DS records (SHA-256, SHA-384).
disable: stop signing; CDS/CDNSKEY "delete" ask the parent to remove the DS (RFC 8078).
rollover: start a key rollover (RFC 7583 pre-publication); the server's scheduler ends it.
ds-published: the parent (not served here) publishes the new key's DS; the rollover goes on.
The private key is encrypted under GLIDEPATH_KEY_FILE and never printed.
  --algorithm NAME      for enable: ecdsap256sha256 (default) or ed25519`,
  token: `Usage: glidepath token create [--tenant NAME [--create-tenant]] [--admin]

Prints a new API token once; only its hash is stored.
  --tenant NAME         a token for this tenant (which must exist)
  --create-tenant       create the tenant when it does not exist
  --admin               an admin token (all tenants)`,
};

class UsageError extends Error {}

type Options = Record<string, { type: 'string' | 'boolean' }>;
interface Parsed { values: Record<string, string | boolean | undefined>; positionals: string[] }

function parse(verb: string, args: string[], options: Options, positionals: number): Parsed {
  try {
    const r: Parsed = parseArgs({ args, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
    if (r.values.help) { process.stdout.write(USAGE[verb] + '\n'); process.exit(0); }
    if (r.positionals.length !== positionals) throw new UsageError(`${verb}: expected ${positionals} argument${positionals === 1 ? '' : 's'}, got ${r.positionals.length}`);
    return r;
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`${verb}: ${(err as Error).message.split('\n')[0]}`);
  }
}

async function main(argv: string[]): Promise<number> {
  const [verb, ...rest] = argv;
  if (!verb || verb === '--help' || verb === '-h' || verb === 'help') {
    process.stdout.write(USAGE.main + '\n');
    return verb ? 0 : 2;
  }
  const cfg = loadConfig();
  // Every log line names the node (GLIDEPATH_NODE_ID): several nodes' logs end up in one place.
  const log = createLogger(verb === 'serve' ? cfg.logLevel : logLevel(process.env.GLIDEPATH_LOG_LEVEL, 'warn'), { node: cfg.nodeId });
  switch (verb) {
    case 'serve': {
      const r = parse('serve', rest, { workers: { type: 'string' }, config: { type: 'string' } }, 0);
      const envFile = r.values.config as string | undefined;
      const workers = r.values.workers === undefined ? availableParallelism() : Number(r.values.workers);
      if (!Number.isInteger(workers) || workers < 0 || workers > 256) throw new UsageError(`serve: --workers "${String(r.values.workers)}" must be a whole number from 0 to 256`);
      if (cluster.isWorker) return runWorker(log, startServer);
      const configFrom = (): Readonly<Config> => (envFile ? loadConfig({ ...process.env, ...readEnvFile(envFile) }) : cfg);
      const serveCfg = configFrom();
      log.level = serveCfg.logLevel;
      // Before anything else: the control socket, snapshots and embedded database live there.
      await makeDataDir(serveCfg.dataDir);
      const stopSignal = new Promise<string>((resolve) => {
        process.once('SIGTERM', () => resolve('SIGTERM'));
        process.once('SIGINT', () => resolve('SIGINT'));
      });
      // A stop asked while still starting (an edge waiting for its database) ends the process now.
      let started = false;
      void stopSignal.then((signal) => { if (!started) { log.info({ signal }, 'stopped while starting'); process.exit(0); } });
      // SIGHUP: reread the env file; new certificates for new handshakes, new log level; no
      // listener or connection is closed. A bad file or setting changes nothing. One that arrives
      // while the server is still starting is applied as soon as it has started.
      let reload: ((c: Readonly<Config>) => Promise<void>) | undefined;
      let early: Readonly<Config> | undefined;
      const apply = (c: Readonly<Config>): Promise<string | undefined> => {
        if (!reload) { early = c; return Promise.resolve(undefined); }
        return reload(c).then(() => undefined, (err: Error) => {
          log.error({ err: err.message }, 'reload failed; keeping the old certificates');
          return `reload failed; keeping the old certificates: ${err.message}`;
        });
      };
      const reloadWith = (r: (c: Readonly<Config>) => Promise<void>) => {
        reload = r;
        if (early) void apply(early);
      };
      // SIGHUP and `glidepath reload` (control socket): the refusal or failure, if any.
      const hup = (): Promise<string | undefined> => {
        let next: Readonly<Config>;
        try { next = configFrom(); } catch (err) {
          log.error({ err: (err as Error).message }, 'reload refused: bad settings; nothing changed');
          return Promise.resolve(`reload refused, nothing changed: ${(err as Error).message}`);
        }
        // What is fixed at start must not look reloaded: an operator who turns on require, adds
        // client CAs or rotates the admin token must hear that only a restart does it.
        const fixed = fixedAtStart(serveCfg, next);
        if (fixed.length) {
          log.error({ settings: fixed }, 'reload refused: these settings need a restart; nothing changed');
          return Promise.resolve(`reload refused, nothing changed: these settings need a restart: ${fixed.join(', ')}`);
        }
        return apply(next);
      };
      process.on('SIGHUP', () => { void hup(); });
      // SIGUSR2 before the workers are up would otherwise kill the primary (its default action).
      let restartNow: (() => void) | undefined;
      let restartAsked = false;
      process.on('SIGUSR2', () => { if (restartNow) restartNow(); else restartAsked = true; });
      if (workers === 0) {
        const server = await startServer({
          databaseUrl: serveCfg.databaseUrl, dataDir: serveCfg.dataDir, dns: serveCfg.dns, api: serveCfg.api, adminToken: serveCfg.adminToken,
          db: { connectMs: serveCfg.dbConnectTimeoutMs, statementMs: serveCfg.dbStatementTimeoutMs },
          zoneFile: { maxBytes: serveCfg.zoneFileMaxBytes, maxRecords: serveCfg.zoneMaxRecords },
          udpMaxPayload: serveCfg.udpMaxPayload, tcpIdleMs: serveCfg.tcpIdleMs, tcpMessageMs: serveCfg.tcpMessageMs, tcpMaxConnections: serveCfg.tcpMaxConnections,
          responseCache: serveCfg.responseCache, dot: serveCfg.dot, tls: serveCfg.tls, apiTls: serveCfg.apiTls, log, keyFile: serveCfg.keyFile,
          dnssecRollover: { propagationDelay: serveCfg.dnssecPropagationDelay },
          cookies: serveCfg.cookies, rrl: serveCfg.rrl, udpIo: serveCfg.udpIo, healthAllow: serveCfg.healthAllow,
          retention: serveCfg.retention, stats: serveCfg.stats,
          edge: edgeOptions(serveCfg), node: { id: serveCfg.nodeId, version: serveCfg.version },
        });
        started = true;
        reloadWith((c) => server.reload({ logLevel: c.logLevel, tls: c.tls, apiTls: c.apiTls, cookieSecrets: c.cookies.secrets }));
        restartNow = () => log.warn('a rolling restart needs serve --workers N (N > 0); ignoring SIGUSR2');
        if (restartAsked) restartNow();
        const pid = await writePidFile(serveCfg.dataDir, log);
        log.info({ signal: await stopSignal }, 'shutting down');
        await server.stop();
        await pid.remove();
        log.info('stopped');
        return 0;
      }
      // The control socket first: a second serve on the same socket (the same data directory)
      // must stop here, before its workers bind DNS (with SO_REUSEPORT they would share the
      // first server's port) and before it touches the database.
      let primary: Primary | undefined;
      // A rolling restart needs the first workers up: until then it is refused, as SIGUSR2 waits.
      const restart = () => (started && primary ? primary.restart() : Promise.reject(new Error('the server is still starting')));
      const control = await listenControl(serveCfg.controlSocket, {
        restart, reload: hup,
        status: () => primary?.status() ?? { pid: process.pid, workers: [] },
        counts: () => primary?.counts() ?? { wanted: workers, ready: 0 },
      });
      try {
        primary = new Primary(serveCfg, workers, log, startServer);
        await primary.start();
      } catch (err) {
        await control.close();
        throw err;
      }
      started = true;
      const running = primary;
      reloadWith((c) => running.reload(c));
      restartNow = () => {
        restart().catch((err: Error) => log.error({ err: err.message }, 'rolling restart failed; the remaining old workers keep serving'));
      };
      if (restartAsked) restartNow();
      const pid = await writePidFile(serveCfg.dataDir, log);
      log.info({ signal: await stopSignal }, 'shutting down');
      await control.close();
      await running.stop();
      await pid.remove();
      log.info('stopped');
      return 0;
    }
    case 'restart': {
      parse('restart', rest, {}, 0);
      let a;
      try { a = await ask(cfg.controlSocket, 'restart', 15 * 60_000); } catch (err) {
        process.stderr.write(`glidepath: ${(err as Error).message}\n`);
        return 1;
      }
      if (!a.ok) { process.stderr.write(`glidepath: rolling restart failed: ${a.error}\n`); return 1; }
      const replaced = Number(a.replaced);
      const wanted = typeof a.wanted === 'number' ? a.wanted : replaced;
      process.stdout.write(`replaced ${replaced} workers (${String(a.ready ?? '?')} of ${wanted} answering now)\n`);
      // Every worker asked for must have been replaced: fewer means some were dead (being restarted).
      if (replaced < wanted) {
        process.stderr.write(`glidepath: only ${replaced} of ${wanted} workers were running and replaced; the others are still being started (see the server log)\n`);
        return 1;
      }
      return 0;
    }
    case 'reload': {
      parse('reload', rest, {}, 0);
      let a;
      try { a = await ask(cfg.controlSocket, 'reload', 60_000); } catch (err) {
        process.stderr.write(`glidepath: ${(err as Error).message}\n`);
        return 1;
      }
      if (!a.ok) { process.stderr.write(`glidepath: ${a.error}\n`); return 1; }
      process.stdout.write('reloaded\n');
      return 0;
    }
    case 'migrate': {
      parse('migrate', rest, {}, 0);
      const db = await openForCommand(cfg, log);
      try {
        const applied = await migrate(db.pool);
        process.stdout.write(applied.length ? `applied: ${applied.join(', ')}\n` : 'up to date\n');
      } finally { await db.close(); }
      return 0;
    }
    case 'import': {
      const r = parse('import', rest, {
        domain: { type: 'string' }, zone: { type: 'string' }, tenant: { type: 'string' }, 'delegation-only': { type: 'boolean' },
      }, 1);
      const file = r.positionals[0];
      let text: string;
      // Exit 1, not 2: the command line was right, the file is not there (2 is for usage errors).
      try { text = await readFile(file, 'utf8'); } catch (err) { throw new ImportError(`${file}: ${(err as Error & { code?: string }).code === 'ENOENT' ? 'no such file' : (err as Error).message}`); }
      const db = await openForCommand(cfg, log);
      try {
        await migrate(db.pool);
        const out = await importZoneFile(db.pool, text, {
          file, domain: r.values.domain as string | undefined, zone: r.values.zone as string | undefined,
          tenant: (r.values.tenant as string | undefined) ?? 'default', delegationOnly: r.values['delegation-only'] === true,
          actor: `cli:${process.env.USER ?? 'import'}`,
        });
        process.stdout.write(`imported ${out.records} records into zone ${out.zone} for ${out.domain} (serial ${out.serial})\n`);
      } finally { await db.close(); }
      return 0;
    }
    case 'export': {
      const r = parse('export', rest, {}, 1);
      const db = await openForCommand(cfg, log);
      try { process.stdout.write(await exportDomain(db.pool, r.positionals[0])); } finally { await db.close(); }
      return 0;
    }
    case 'dnssec': {
      const r = parse('dnssec', rest, { algorithm: { type: 'string' } }, 2);
      const [action, name] = r.positionals;
      if (!['enable', 'show', 'disable', 'rollover', 'ds-published'].includes(action)) throw new UsageError(`dnssec: unknown subcommand "${action}" (enable, show, disable, rollover or ds-published)`);
      const alg = ((r.values.algorithm as string | undefined) ?? 'ecdsap256sha256').toLowerCase();
      if (!(alg in ALGORITHMS)) throw new UsageError(`dnssec: --algorithm "${alg}" is not one of ${Object.keys(ALGORITHMS).join(', ')}`);
      const db = await openForCommand(cfg, log);
      try {
        await migrate(db.pool);
        const out = await dnssecCommand(db.pool, new KekHolder(cfg.keyFile), action as DnssecAction, name, ALGORITHMS[alg as AlgorithmName],
          { now: Date.now, propagationDelay: cfg.dnssecPropagationDelay });
        process.stdout.write(out);
      } finally { await db.close(); }
      return 0;
    }
    case 'token': {
      const r = parse('token', rest, { tenant: { type: 'string' }, admin: { type: 'boolean' }, 'create-tenant': { type: 'boolean' } }, 1);
      if (r.positionals[0] !== 'create') throw new UsageError(`token: unknown subcommand "${r.positionals[0]}" (try "token create")`);
      const admin = r.values.admin === true;
      const tenant = r.values.tenant as string | undefined;
      if (admin === (tenant !== undefined)) throw new UsageError('token create: give exactly one of --tenant NAME or --admin');
      const db = await openForCommand(cfg, log);
      try {
        await migrate(db.pool);
        // A mistyped name must not create a tenant and a working token for it.
        if (tenant !== undefined && r.values['create-tenant'] !== true && !(await findTenant(db.pool, tenant))) {
          throw new ImportError(`token create: no tenant "${tenant}" (add --create-tenant to create it)`);
        }
        const t = await createToken(db.pool, { admin, tenant, actor: 'cli' });
        process.stdout.write(t.token + '\n');
      } finally { await db.close(); }
      return 0;
    }
    default:
      throw new UsageError(`unknown command "${verb}" (try "glidepath --help")`);
  }
}

/** Settings SIGHUP cannot change (listeners, database, auth that is decided per connection). */
function fixedAtStart(a: Readonly<Config>, b: Readonly<Config>): string[] {
  const same = (x: unknown, y: unknown) => JSON.stringify(x) === JSON.stringify(y);
  const out: string[] = [];
  if (a.databaseUrl !== b.databaseUrl) out.push('DATABASE_URL');
  if (a.dataDir !== b.dataDir) out.push('GLIDEPATH_DATA_DIR');
  if (!same(a.dns, b.dns)) out.push('GLIDEPATH_DNS');
  if (!same(a.api, b.api)) out.push('GLIDEPATH_API');
  if (!same(a.dot, b.dot)) out.push('GLIDEPATH_DOT');
  if (a.adminToken !== b.adminToken) out.push('GLIDEPATH_ADMIN_TOKEN');
  if (!a.tls !== !b.tls) out.push('GLIDEPATH_TLS_CERT/_KEY (on or off)');
  if (!a.apiTls !== !b.apiTls) out.push('GLIDEPATH_API_TLS_CERT/_KEY (on or off)');
  if (a.apiTls && b.apiTls && a.apiTls.clientCert !== b.apiTls.clientCert) out.push('GLIDEPATH_API_CLIENT_CERT (or client CAs on or off)');
  if (a.udpMaxPayload !== b.udpMaxPayload || a.tcpIdleMs !== b.tcpIdleMs || a.tcpMessageMs !== b.tcpMessageMs || a.tcpMaxConnections !== b.tcpMaxConnections
    || a.responseCache !== b.responseCache) out.push('GLIDEPATH_UDP_MAX_PAYLOAD/TCP_IDLE_MS/TCP_MESSAGE_MS/TCP_MAX_CONNECTIONS/RESPONSE_CACHE');
  if (a.controlSocket !== b.controlSocket) out.push('GLIDEPATH_CONTROL_SOCKET');
  // Cookie secrets are reloaded (that is how they rotate); switching cookies on or off is not.
  if (a.cookies.enabled !== b.cookies.enabled || a.cookies.require !== b.cookies.require
    || !a.cookies.secrets.length !== !b.cookies.secrets.length) out.push('GLIDEPATH_COOKIES/_COOKIE_REQUIRE (or _COOKIE_SECRET set or unset)');
  if (!same(a.rrl, b.rrl)) out.push('GLIDEPATH_RRL and GLIDEPATH_RRL_*');
  if (a.udpIo !== b.udpIo) out.push('GLIDEPATH_UDP_IO');
  if (!same(a.stats, b.stats)) out.push('GLIDEPATH_STATS and GLIDEPATH_STATS_*');
  if (a.role !== b.role || a.nodeId !== b.nodeId || a.version !== b.version || a.pollMs !== b.pollMs || a.maxLagSeconds !== b.maxLagSeconds) {
    out.push('GLIDEPATH_ROLE/NODE_ID/VERSION/POLL_MS/MAX_LAG');
  }
  return out;
}

/** The database of a command other than serve: DATABASE_URL, else the embedded PostgreSQL of the
 *  running `serve` in the data directory. With no serve running there, the command starts that
 *  PostgreSQL itself, and says so: an operator who expected a running server's data must see
 *  which database was used. */
async function openForCommand(cfg: Readonly<Config>, log: Logger) {
  const db = await openDatabase(cfg, log);
  if (db.embedded) process.stderr.write(`glidepath: no running serve uses ${cfg.dataDir}; using its embedded PostgreSQL directly\n`);
  return db;
}

main(process.argv.slice(2)).then((code) => process.exit(code), (err: unknown) => {
  const e = err as Error;
  const known = err instanceof UsageError || err instanceof ConfigError || err instanceof ImportError
    || ['ListenError', 'DatabaseUnavailable', 'DataDirError', 'NotFoundError', 'WorkerStartError', 'TlsFileError', 'KeyFileError', 'DnssecCommandError'].includes(e?.constructor?.name);
  // 42P01 undefined_table: a database nobody has migrated (export, or a command run against the
  // wrong database); the operator needs the next step, not PostgreSQL's "relation ... does not exist".
  const noSchema = (err as { code?: unknown })?.code === '42P01';
  const text = noSchema ? 'the database has no Glidepath tables yet (run "glidepath migrate", or "glidepath serve" which migrates at start)'
    : known ? e.message : (e?.stack ?? String(err));
  process.stderr.write(`glidepath: ${text}\n`);
  process.exit(err instanceof UsageError ? 2 : 1);
});
