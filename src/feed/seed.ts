// A snapshot handed from one worker to another through a file, so that a worker started while the
// database is down answers at once (and catches up through the change feed once it is back). The
// live worker writes its snapshot's rows (snapshot/rows.ts) as JSON lines, yielding to its event
// loop between zones so that its own DNS answers keep coming; the new worker compiles them as it
// would rows read from the store. The last line marks a complete file.
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';
import type { Snapshot } from '../snapshot/snapshot.js';
import { SnapshotBuilder, type BadRecordHandler, type ZoneSource } from '../snapshot/build.js';
import { zoneRows, domainRows } from '../snapshot/rows.js';
import type { DomainRow } from '../snapshot/domain.js';
import type { ScheduledRRset, StoredRecord } from '../snapshot/zone.js';

const VERSION = 2;
/** Zones written between two yields to the event loop, and compiled per batch when read. */
const BATCH = 500;

type RecordLine = [string, number, number, string];
interface ScheduleLine { o: string; t: number; ttl: number; r: string[]; at: number }
type DomainLine = [number, string, number, boolean, number, number | null, number | null];
/** A record that names a health check (snapshot/health.ts): owner, type, rdata, check id. */
type GateLine = [string, number, string, number];

/** Writes `snap` (which reflects journal sequence `seq`) to `path`; atomically (a rename). */
export async function writeSeed(snap: Snapshot, seq: number, path: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  const out = createWriteStream(tmp);
  const failed = new Promise<never>((_, reject) => out.once('error', reject));
  const write = async (line: unknown) => {
    if (!out.write(JSON.stringify(line) + '\n')) await Promise.race([new Promise<void>((r) => out.once('drain', () => r())), failed]);
  };
  try {
    await write({ v: VERSION, seq, domains: snap.domains.size, zones: snap.zones.size });
    let n = 0;
    for (const zone of snap.zones.values()) {
      const z = zoneRows(zone);
      await write({
        z: z.id, serial: z.serial, r: z.records.map((r): RecordLine => [r.owner, r.type, r.ttl, r.rdata]),
        s: z.schedules.map((c): ScheduleLine => ({ o: c.owner, t: c.type, ttl: c.ttl, r: c.rdatas, at: c.at.getTime() })),
        ...(z.gates.length ? { g: z.gates.map((r): GateLine => [r.owner, r.type, r.rdata, r.check ?? 0]) } : {}),
      });
      if (++n % BATCH === 0) await new Promise((r) => setImmediate(r));
    }
    for (const d of domainRows(snap)) {
      await write({ d: [d.id, d.name, d.zone_id, d.delegation_only, d.serial_offset, d.pzc_zone_id, d.pzc_at ? d.pzc_at.getTime() : null] satisfies DomainLine });
    }
    if (snap.health.down.size) await write({ down: [...snap.health.down] });
    await write({ end: true });
    await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
    await rename(tmp, path);
  } catch (err) {
    out.destroy();
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
}

export class SeedError extends Error {}

/** Reads a file written by writeSeed into a snapshot, with the journal sequence it reflects. */
export async function readSeed(path: string, onBad: BadRecordHandler = () => undefined): Promise<{ snap: Snapshot; seq: number }> {
  const lines = createInterface({ input: createReadStream(path), crlfDelay: Infinity });
  const builder = new SnapshotBuilder(onBad);
  const domains: DomainRow[] = [];
  let batch = new Map<number, ZoneSource>();
  let seq: number | undefined;
  let complete = false;
  let down: number[] = [];
  for await (const line of lines) {
    if (line === '') continue;
    const o = JSON.parse(line) as { v?: number; seq?: number; z?: number; serial?: number; r?: RecordLine[]; s?: ScheduleLine[]; d?: DomainLine; g?: GateLine[]; down?: number[]; end?: boolean };
    if (seq === undefined) {
      if (o.v !== VERSION || typeof o.seq !== 'number') throw new SeedError(`${path}: not a snapshot file of version ${VERSION}`);
      seq = o.seq;
    } else if (o.z !== undefined) {
      const records: StoredRecord[] = (o.r ?? []).map(([owner, type, ttl, rdata]) => ({ owner, type, ttl, rdata }));
      const schedules: ScheduledRRset[] = (o.s ?? []).map((c) => ({ owner: c.o, type: c.t, ttl: c.ttl, rdatas: c.r, at: new Date(c.at) }));
      const gates: StoredRecord[] = (o.g ?? []).map(([owner, type, rdata, check]) => ({ owner, type, ttl: 0, rdata, check }));
      batch.set(o.z, { records, schedules, serial: o.serial, gates });
      if (batch.size >= BATCH) { builder.addZones(batch); batch = new Map(); }
    } else if (o.d) {
      const [id, name, zoneId, delegationOnly, serialOffset, pzcZoneId, pzcAt] = o.d;
      domains.push({ id, name, zone_id: zoneId, delegation_only: delegationOnly, serial_offset: serialOffset, pzc_zone_id: pzcZoneId, pzc_at: pzcAt === null ? null : new Date(pzcAt) });
    } else if (o.down) {
      down = o.down;
    } else if (o.end) {
      complete = true;
    }
  }
  if (seq === undefined || !complete) throw new SeedError(`${path}: incomplete snapshot file`);
  builder.addZones(batch);
  return { snap: builder.finish(domains, down), seq };
}
