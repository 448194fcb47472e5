// What run.ts needs from each server under test: is it installed, load its data, start it on a port.
import type { DatasetOptions, Written } from '../dataset.js';
import type { Proc } from '../util.js';

export interface PgConn { host: string; port: number; user: string; password: string; adminUrl: string }

export interface BenchContext {
  /** Scratch directory of this run (configs, state). */
  workDir: string;
  data: Written;
  opts: DatasetOptions;
  /** Threads/workers each server is given where that is configurable. */
  threads: number;
  /** The embedded PostgreSQL of this run (Glidepath's database and PowerDNS's). */
  pg: PgConn;
  log: (line: string) => void;
  /** Glidepath only: run its HTTP API on this port with this admin token (the scale check's
   *  listing pages); the API is off otherwise. */
  api?: { port: number; token: string };
}

export type Detected = { ok: true; version: string } | { ok: false; why: string };

export interface Peer {
  name: string;
  /** Not a DNS server but a reference (the Node UDP floor): ready when it answers anything, and
   *  left out of the answer comparison. */
  floor?: boolean;
  /** How it was configured (threads, caches), for the report. */
  setup(ctx: BenchContext): string;
  detect(): Promise<Detected>;
  /** Puts the data where the server reads it (a database, config files); not part of load time. */
  prepare(ctx: BenchContext): Promise<void>;
  start(ctx: BenchContext, port: number): Promise<Proc>;
}
