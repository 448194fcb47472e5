// A large RRset batch off the API's event loop (rrset-batch-thread.ts, through off-thread.ts): the
// body is parsed and its changes validated in one thread before the transaction, and applied to the zone's records and
// checked in another inside it. Only strings come back: the steps as JSON, the new content as
// columns, the touched RRsets as the response's JSON.
import { ZoneContentError, type Problem } from '../store/records.js';
import { runOffThread } from './off-thread.js';
import type { RecordColumns } from './record-columns.js';
import type { ZoneRules } from './rrset-batch.js';
import { bodyError, type BodyProblem } from './rrset-batch-body.js';

export type BatchJob =
  | { kind: 'validate'; body: Uint8Array }
  | { kind: 'apply'; steps: string; current: string; rules: ZoneRules };

export type BatchResult =
  | { ok: true; kind: 'validate'; steps: string }
  | ({ ok: true; kind: 'apply'; rrsets: string } & RecordColumns)
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
 *  in a thread: the steps as JSON (for applyBatchOffThread), or fastify's 400, or ZoneContentError. */
export async function validateBodyOffThread(body: Buffer): Promise<string> {
  // The bytes move to the thread (no copy) when they own their memory; a slice of a larger
  // buffer is copied first.
  const own = body.byteOffset === 0 && body.byteLength === body.buffer.byteLength ? body : Buffer.from(body);
  const bytes = new Uint8Array(own.buffer, own.byteOffset, own.byteLength);
  const r = await run({ kind: 'validate', body: bytes }, [bytes.buffer as ArrayBuffer]);
  if (r.kind !== 'validate') throw new Error('rrset batch: unexpected answer');
  return r.steps;
}

/** applyBatch in a thread, on the zone's records as JSON (store/records.ts loadZoneRecordsJson):
 *  the new content as columns and the touched RRsets as a JSON array, or ZoneContentError. */
export async function applyBatchOffThread(steps: string, current: string, rules: ZoneRules): Promise<RecordColumns & { rrsets: string }> {
  const r = await run({ kind: 'apply', steps, current, rules });
  if (r.kind !== 'apply') throw new Error('rrset batch: unexpected answer');
  return r;
}
