// The results as Markdown: one table for stdout and bench/RESULTS.md, with the machine, versions,
// the command and the date around it. Numbers only; nothing here passes or fails.
import type { LoadResult } from './load.js';
import type { Memory, CpuUse } from './util.js';
import type { EditResult } from './peers/glidepath.js';
import { percentile } from './util.js';

export interface ServerResult {
  name: string;
  version: string;
  setup: string;
  /** The Node UDP floor, not a DNS server (bench/floor/server.ts). */
  floor?: boolean;
  error?: string;
  prepareMs?: number;
  loadMs?: number;
  snapshotMs?: number;
  memReady?: Memory;
  memAfter?: Memory;
  max?: LoadResult;
  /** Every max-load run, slowest first (max is the median of them). */
  maxRuns?: LoadResult[];
  /** CPU use during the max-load run. */
  cpuMax?: CpuUse;
  paced?: LoadResult;
  edits?: EditResult;
  /** Sample queries whose rcode, AA bit or answer section differ from Glidepath's. */
  mismatches?: { checked: number; differ: string[] };
}

export interface RunInfo {
  command: string;
  date: string;
  machine: string[];
  dataset: string[];
  loadTool: string;
  missing: string[];
  notes: string[];
  totalSeconds: number;
}

const f = (v: number | undefined, digits = 1) => (v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(digits));
const int = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? '–' : Math.round(v).toLocaleString('en-US'));
const ms = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? '–' : v < 1 ? v.toFixed(3) : v < 10 ? v.toFixed(2) : v.toFixed(1));

function row(cells: string[]): string { return `| ${cells.join(' | ')} |`; }

function lossPct(r: LoadResult | undefined): string {
  if (!r || !r.sent) return '–';
  return `${((100 * r.lost) / r.sent).toFixed(2)}%`;
}

export function mainTable(results: ServerResult[]): string {
  const head = ['Server', 'Max QPS: median (range)', 'Loss at max', 'Latency at 50 % of max: p50 / p90 / p99 (ms)', 'RSS of all processes ready / after load (MiB)',
    'Peak RSS of the main process, VmHWM (MiB)', 'Load time (s)', 'Edit → visible p50 / p90 / p99 / max (ms)'];
  const lines = [row(head), row(head.map(() => '---'))];
  for (const r of results) {
    if (r.error) { lines.push(row([r.name, `failed: ${r.error.split('\n')[0].slice(0, 160)}`, '', '', '', '', '', ''])); continue; }
    const lat = r.paced ? `${ms(r.paced.p50Ms)} / ${ms(r.paced.p90Ms)} / ${ms(r.paced.p99Ms)} at ${int(r.paced.qps)} qps` : '–';
    const edit = r.edits ? editCell(r.edits) : 'n/a';
    const load = r.loadMs === undefined ? '–' : (r.loadMs / 1000).toFixed(2) + (r.snapshotMs !== undefined ? ` (snapshot ${(r.snapshotMs / 1000).toFixed(2)})` : '');
    const range = r.maxRuns && r.maxRuns.length > 1 ? ` (${int(r.maxRuns[0].qps)}–${int(r.maxRuns[r.maxRuns.length - 1].qps)})` : '';
    lines.push(row([r.name, int(r.max?.qps) + range, lossPct(r.max), lat, `${f(r.memReady?.treeRssMiB)} / ${f(r.memAfter?.treeRssMiB)}`,
      f(r.memAfter?.hwmMiB ?? r.memReady?.hwmMiB), load, edit]));
  }
  return lines.join('\n');
}

function editCell(e: EditResult): string {
  const s = [...e.visibleMs].sort((a, b) => a - b);
  return `${[50, 90, 99, 100].map((p) => ms(percentile(s, p))).join(' / ')}${e.timeouts ? ` (${e.timeouts} of ${e.timeouts + s.length} not seen in 10 s)` : ''}`;
}

export function ratios(results: ServerResult[]): string[] {
  const g = results.find((r) => r.name === 'Glidepath');
  const out: string[] = [];
  for (const r of results) {
    if (r === g || !r.max) continue;
    if (!g?.max) { out.push(`Glidepath/${r.name} QPS: – (no Glidepath figure)`); continue; }
    out.push(`Glidepath/${r.name} QPS: ${(g.max.qps / r.max.qps).toFixed(2)} (${int(g.max.qps)} / ${int(r.max.qps)})`);
  }
  return out;
}

function rcodeTable(results: ServerResult[]): string {
  const codes = [...new Set(results.flatMap((r) => Object.keys(r.max?.rcodes ?? {})))].sort();
  if (!codes.length) return '';
  const lines = [row(['Server', ...codes, 'Sample answers differing from Glidepath']), row(['---', ...codes.map(() => '---'), '---'])];
  for (const r of results) {
    if (!r.max || r.floor) continue;
    const total = Object.values(r.max.rcodes).reduce((a, b) => a + b, 0) || 1;
    const diff = r.mismatches ? `${r.mismatches.differ.length} of ${r.mismatches.checked}` : r.name === 'Glidepath' ? '(reference)' : '–';
    lines.push(row([r.name, ...codes.map((c) => `${((100 * (r.max!.rcodes[c] ?? 0)) / total).toFixed(1)}%`), diff]));
  }
  return lines.join('\n');
}

export interface ScaleResult {
  domains: number;
  records: number;
  error?: string;
  /** Rows into PostgreSQL (bulk insert, not part of the load time). */
  prepareMs?: number;
  /** Start until every probe answers (the first worker answers: primary.ts loads them in turn). */
  loadMs?: number;
  /** Start until every worker answers (/readyz workers.ready = wanted). */
  allWorkersMs?: number;
  snapshotMs?: number;
  memReady?: Memory;
  max?: LoadResult;
  memAfter?: Memory;
  /** Edit -> visible at this size (each catch-up used to copy every domain and zone map). */
  edits?: EditResult;
  /** Edit of the zone shared by `shared` domains -> visible in one of them. */
  shared?: number;
  sharedEdits?: EditResult;
  /** GET /v1/domains pages (SQL of the route), ms each. */
  listingMs?: number[];
  /** GET /v1/domains and GET /v1/zones pages over HTTP (the running server's API), ms each. */
  apiDomainPagesMs?: number[];
  apiZonePagesMs?: number[];
}

export function scaleTable(s: ScaleResult): string {
  const head = ['Domains', 'Records', 'Rows into PostgreSQL (s)', 'Load time: every probe answers (s)', 'Every worker ready (s)', 'RSS of all processes, every worker ready (MiB)', 'Max QPS', 'Loss at max',
    'RSS of all processes after load (MiB)', 'Peak RSS of the main process, VmHWM (MiB)', 'Edit → visible p50 / p90 / p99 / max (ms)',
    'Shared-zone edit → visible p50 / p90 / p99 / max (ms)', 'Listing page p50 / p99 (ms)',
    'GET /v1/domains page p50 / p99 (ms)', 'GET /v1/zones page p50 / p99 (ms)'];
  const load = s.loadMs === undefined ? '–' : (s.loadMs / 1000).toFixed(1) + (s.snapshotMs !== undefined ? ` (snapshot ${(s.snapshotMs / 1000).toFixed(1)})` : '');
  const cells = s.error
    ? [int(s.domains), int(s.records), `failed: ${s.error.split('\n')[0].slice(0, 160)}`, '', '', '', '', '', '', '', '', '', '', '', '']
    : [int(s.domains), int(s.records), f(s.prepareMs === undefined ? undefined : s.prepareMs / 1000), load,
      f(s.allWorkersMs === undefined ? undefined : s.allWorkersMs / 1000), f(s.memReady?.treeRssMiB),
      int(s.max?.qps), lossPct(s.max), f(s.memAfter?.treeRssMiB), f(s.memAfter?.hwmMiB ?? s.memReady?.hwmMiB),
      s.edits ? editCell(s.edits) : 'n/a',
      s.sharedEdits ? `${editCell(s.sharedEdits)} (${int(s.shared)} domains)` : 'n/a',
      s.listingMs?.length ? listingCell(s.listingMs) : 'n/a',
      s.apiDomainPagesMs?.length ? listingCell(s.apiDomainPagesMs) : 'n/a', s.apiZonePagesMs?.length ? listingCell(s.apiZonePagesMs) : 'n/a'];
  return [row(head), row(head.map(() => '---')), row(cells)].join('\n');
}

/** p50 / p99 by nearest rank (util.ts percentile): over 100 pages, floor(0.99 × 100) was the
 *  slowest page, not the 99th. */
function listingCell(ms: readonly number[]): string {
  const sorted = [...ms].sort((a, b) => a - b);
  return `${percentile(sorted, 50).toFixed(1)} / ${percentile(sorted, 99).toFixed(1)}`;
}

export function missingLine(missing: string[]): string {
  return missing.length ? `Peers missing (not run): ${missing.join('; ')}.` : 'Peers missing: none (every peer asked for was installed and ran).';
}

export function render(info: RunInfo, results: ServerResult[], scale?: ScaleResult): string {
  const out: string[] = [];
  out.push('# Glidepath benchmark results', '');
  out.push(`- Date: ${info.date}`, `- Command: \`${info.command}\``, `- Whole run: ${info.totalSeconds.toFixed(0)} s`);
  out.push(...info.machine.map((m) => `- ${m}`), '');
  out.push('## Data set', '', ...info.dataset.map((d) => `- ${d}`), '');
  out.push('## Results', '', mainTable(results), '');
  const rt = ratios(results);
  if (rt.length) out.push(...rt.map((r) => `- ${r}`), '');
  out.push(missingLine(info.missing), '');
  if (scale) out.push('### Scale check (Glidepath only)', '', scaleTable(scale), '');
  const rc = rcodeTable(results);
  if (rc) out.push('### Response codes at max load (same query file for all)', '', rc, '');
  const diffs = results.filter((r) => r.mismatches?.differ.length);
  for (const r of diffs) out.push(`Differences ${r.name} vs Glidepath (first ${Math.min(5, r.mismatches!.differ.length)}):`, '', ...r.mismatches!.differ.slice(0, 5).map((d) => `- ${d}`), '');
  out.push('### Servers', '', row(['Server', 'Version', 'Configuration', 'Data into its store (s)', 'Processes', 'PSS of all processes ready / after (MiB)',
    'CPU at max load: server cores / machine busy']), row(['---', '---', '---', '---', '---', '---', '---']));
  for (const r of results) {
    out.push(row([r.name, r.version, r.setup, r.prepareMs === undefined ? '–' : (r.prepareMs / 1000).toFixed(1), String(r.memReady?.processes ?? '–'),
      `${f(r.memReady?.treePssMiB)} / ${f(r.memAfter?.treePssMiB)}`, r.cpuMax ? `${r.cpuMax.serverCores.toFixed(2)} / ${r.cpuMax.machineBusyPct.toFixed(0)} %` : '–']));
  }
  out.push('', '### How it was measured', '', `- Load generator: ${info.loadTool}`, ...info.notes.map((n) => `- ${n}`));
  const detail = results.filter((r) => r.max || r.paced);
  if (scale?.max) detail.push({ name: `Glidepath, ${int(scale.domains)} domains`, version: '', setup: '', max: scale.max });
  if (detail.length) {
    out.push('', '### Raw load figures', '', row(['Server', 'Run', 'Sent', 'Completed', 'Lost', 'QPS', 'Avg (ms)', 'p99.9 (ms)', 'Max (ms)']),
      row(['---', '---', '---', '---', '---', '---', '---', '---', '---']));
    for (const r of detail) {
      const runs: Array<[string, LoadResult | undefined]> = r.maxRuns && r.maxRuns.length > 1
        ? r.maxRuns.map((l) => [l === r.max ? 'max (median)' : 'max', l]) : [['max', r.max]];
      for (const [label, l] of [...runs, ['50%', r.paced]] as const) {
        if (l) out.push(row([r.name, `${label}: \`${l.command}\``, int(l.sent), int(l.completed), int(l.lost), int(l.qps), ms(l.avgMs), ms(l.p999Ms), ms(l.maxMs)]));
      }
    }
  }
  const g = results.find((r) => r.edits);
  if (g?.edits) {
    const c = [...g.edits.commitMs].sort((a, b) => a - b);
    out.push('', `Edits: ${g.edits.visibleMs.length + g.edits.timeouts} (UPDATE of one apex TXT each, autocommit, one after another); the SQL round trip incl. commit alone: p50 ${ms(percentile(c, 50))} ms, p99 ${ms(percentile(c, 99))} ms.`);
  }
  return out.join('\n') + '\n';
}
