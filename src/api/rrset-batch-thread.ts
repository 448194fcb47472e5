// The RRset batch's thread (worker_threads entry, started by rrset-batch-runner.ts): parses a
// PATCH's body and validates its changes, or applies them to the zone's records and checks the zone-wide rules, off the
// API's event loop (which with `serve --workers 0` also answers DNS).
import { parentPort, workerData } from 'node:worker_threads';
import { ZoneContentError, type StoredRecord } from '../store/records.js';
import { validateChanges, applyBatch, gateRefs, setGateIds, type GateRef, type Step } from './rrset-batch.js';
import { ttlWarnings } from './health-gates.js';
import { toColumns } from './record-columns.js';
import { parseBatchBody } from './rrset-batch-body.js';
import type { BatchJob, BatchResult } from './rrset-batch-runner.js';

function run(job: BatchJob): BatchResult {
  if (job.kind === 'validate') {
    const body = parseBatchBody(job.body);
    if (!body.ok) return { ok: false, kind: 'body', problem: { message: body.message, validation: body.validation } };
    const { steps, gates } = validateChanges(body.changes);
    return { ok: true, kind: 'validate', steps: JSON.stringify(steps), gates: JSON.stringify(gateRefs(steps, gates)), checks: [...new Set(gates.map((g) => g.check))] };
  }
  // Records keep the health check they name (store/records.ts loadZoneRecordsJson); only those that name one carry it.
  const current = (JSON.parse(job.current) as Array<[string, number, number, string, number | null]>)
    .map(([owner, type, ttl, rdata, check]): StoredRecord => (check === null ? { owner, type, ttl, rdata } : { owner, type, ttl, rdata, check }));
  const steps = JSON.parse(job.steps) as Step[];
  setGateIds(steps, JSON.parse(job.gates) as GateRef[], new Map(job.ids));
  const { next, touched } = applyBatch(current, steps, job.rules, new Map(job.ids.map(([name, id]) => [id, name])));
  return { ok: true, kind: 'apply', rrsets: JSON.stringify(touched), warnings: ttlWarnings(steps.map((s) => s.set)), ...toColumns(next, true) };
}

let out: BatchResult;
try {
  out = run(workerData as BatchJob);
} catch (e) {
  if (e instanceof ZoneContentError) out = { ok: false, kind: 'content', message: e.message, details: e.details, code: e.code };
  else out = { ok: false, kind: 'internal', message: (e as Error).message };
}
parentPort!.postMessage(out);
