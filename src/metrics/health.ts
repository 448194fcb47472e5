// Health checks on /metrics (issue 20). Labels stay bounded: `kind`, `state` and `outcome` take
// fixed values; a check's own series (`tenant`, `check`) exist for the first HEALTH_SERIES_MAX
// checks by id only (checks are created through the API, not by traffic, but a tenant could
// create many): past it `glidepath_health_checks` still counts every check.
import type { Metric } from 'prom-client';
import type { Scrape } from './registry.js';
import { collector, type Value } from './collectors.js';

export const HEALTH_SERIES_MAX = 1000;
const KINDS = ['passive', 'tcp', 'http', 'https'];
const STATES = ['up', 'down'];
const OUTCOMES = ['success', 'failure'];

export interface HealthScrape {
  /** The first HEALTH_SERIES_MAX checks by id. */
  checks: Array<{ tenant: string; name: string; kind: string; up: boolean }>;
  counts: Array<{ kind: string; state: string; n: number }>;
  /** Active runs in this process, by "kind outcome". */
  runs: Record<string, number>;
}

export function healthCollectors(now: () => Scrape): Metric[] {
  return [
    collector('glidepath_health_check_up', `1 while the health check is up, 0 while down (the first ${HEALTH_SERIES_MAX} checks).`, 'gauge', () =>
      now().health?.checks.map((c): Value => ({ labels: { tenant: c.tenant, check: c.name, kind: c.kind }, value: c.up ? 1 : 0 }))),
    collector('glidepath_health_checks', 'Health checks by kind and state.', 'gauge', () => {
      const h = now().health;
      if (!h) return undefined;
      return KINDS.flatMap((kind) => STATES.map((state): Value => ({
        labels: { kind, state }, value: h.counts.find((c) => c.kind === kind && c.state === state)?.n ?? 0,
      })));
    }),
    collector('glidepath_health_check_runs_total', 'Active health check runs in this process, by kind and outcome.', 'counter', () => {
      const h = now().health;
      if (!h) return undefined;
      return KINDS.filter((k) => k !== 'passive').flatMap((kind) => OUTCOMES.map((outcome): Value => ({
        labels: { kind, outcome }, value: h.runs[`${kind} ${outcome}`] ?? 0,
      })));
    }),
  ];
}
