// A large RRset batch off the API's event loop (rrset-batch-thread.ts, through off-thread.ts): the
// body is parsed and its changes validated in one thread before the transaction, and applied to the zone's records and
// checked in another inside it. Only strings and small lists come back: the steps and their
// health-check gates as JSON, the check names they use, the new content as columns, the touched
// RRsets as the response's JSON, the gated_ttl_long warnings.
import { ZoneContentError, type Problem } from '../store/records.js';
import { runOffThread, isMarkedAsUntransferable } from './off-thread.js';
import type { RecordColumns } from './record-columns.js';
import type { GateRef, ZoneRules } from './rrset-batch.js';
import type { TtlWarning } from './health-gates.js';
import { bodyError, type BodyProblem } from './rrset-batch-body.js';

/** A validated batch: `steps` (Step[]) and `gates` (GateRef[]) as JSON; `checks`: the distinct
 *  check names the gates use (the API resolves them to ids in the transaction). */
export interface ValidBatch { steps: string; gates: string; checks: string[] }

export type BatchJob =
  | { kind: 'validate'; body: Uint8Array }
  | ({ kind: 'apply'; current: string; rules: ZoneRules; ids: Array<[string, number]> } & ValidBatch);

export type BatchResult =
  | ({ ok: true; kind: 'validate' } & ValidBatch)
  | ({ ok: true; kind: 'apply'; rrsets: string; warnings: TtlWarning[] } & RecordColumns)
  | { ok: false; kind: 'body'; problem: BodyProblem }
  | { ok: false; kind: 'content' | 'internal'; message: string; details?: Problem[]; code?: string };

const THREAD = new URL('./rrset-batch-thread.js', import.meta.url);
const OUT_OF_MEMORY = 'the RRset batch needs more memory than one request may hold';

async function run(job: BatchJob, transferList: ArrayBuffer[] = []): Promise<BatchResult & { ok: true }> {
  const r = await runOffThread<BatchResult>(THREAD, job, OUT_OF_MEMORY, transferList);
  if (r.ok) return r;
  if (r.kind === 'body') throw bodyError(r.problem);
  if (r.kind === 'content') throw new ZoneContentError(r.details ?? [], r.code);
  throw new Error(r.message);
}

/** The body parsed and checked (rrset-batch-body.ts) and every change validated (validateChanges),
 *  in a thread: the batch for applyBatchOffThread, or fastify's 400, or ZoneContentError. */
export async function validateBodyOffThread(body: Buffer): Promise<ValidBatch> {
  // The bytes move to the thread (no copy) when they own their memory and may move; a slice of a
  // larger buffer, or memory Node marks untransferable (on Node 24 a Buffer made from a string of
  // some KiB is: the Worker threw DataCloneError, a 500), is copied first.
  const movable = body.byteOffset === 0 && body.byteLength === body.buffer.byteLength && !isMarkedAsUntransferable(body.buffer);
  const own = movable ? body : new Uint8Array(body);
  const bytes = new Uint8Array(own.buffer, own.byteOffset, own.byteLength);
  const r = await run({ kind: 'validate', body: bytes }, [bytes.buffer as ArrayBuffer]);
  if (r.kind !== 'validate') throw new Error('rrset batch: unexpected answer');
  return { steps: r.steps, gates: r.gates, checks: r.checks };
}

/** The gates of a batch as resolveGates names them in its error (read only when a check is missing). */
export const batchGates = (b: ValidBatch) => (JSON.parse(b.gates) as GateRef[]).map(([, , check, path]) => ({ check, path }));

/** applyBatch in a thread, on the zone's records as JSON (store/records.ts loadZoneRecordsJson),
 *  with `ids` the tenant's ids of the checks the batch names: the new content as columns (each
 *  record's check included), the touched RRsets as a JSON array and the TTL warnings, or ZoneContentError. */
export async function applyBatchOffThread(batch: ValidBatch, current: string, rules: ZoneRules, ids: Array<[string, number]>):
  Promise<RecordColumns & { rrsets: string; warnings: TtlWarning[] }> {
  const r = await run({ kind: 'apply', ...batch, current, rules, ids });
  if (r.kind !== 'apply') throw new Error('rrset batch: unexpected answer');
  return r;
}
