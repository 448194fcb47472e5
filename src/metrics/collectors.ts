// Collectors: metrics whose values are read at scrape time from plain numbers the DNS side keeps
// (typed arrays on the query path, where a prom-client call per query would cost more than the
// answer). Each is an object the prom-client registry renders like its own metrics: name, help,
// type, and get() returning the values.
import type { Metric } from 'prom-client';
import { HANDLE_BUCKETS } from '../server/query-stats.js';
import { RRL_CLASSES, RRL_ACTIONS } from '../server/rrl.js';
import type { Scrape } from './registry.js';
import { qtypeLabel, rcodeLabel } from './labels.js';

export interface Value { value: number; labels?: Record<string, string>; metricName?: string }

export function collector(name: string, help: string, type: 'counter' | 'gauge' | 'histogram', values: () => Value[] | undefined): Metric {
  const m = {
    name, help, type, aggregator: 'sum',
    get: async () => ({ name, help, type, aggregator: 'sum', values: values() ?? [] }),
    reset: () => undefined,
  };
  // prom-client's Registry takes any object with name, help, type and get() (registry.js reads no
  // more); its Metric type is the union of its own classes, hence the cast.
  return m as unknown as Metric;
}

export function dnsCollectors(now: () => Scrape): Metric[] {
  return [
    collector('glidepath_dns_queries_total', 'DNS queries answered, by query type and response code.', 'counter', () => {
      const q = now().queries;
      if (!q) return undefined;
      // Summed per label pair: every unknown type (or rcode) lands in one `other` series.
      const sums = new Map<string, Value>();
      for (const [key, v] of q.byKey) {
        const labels = { qtype: qtypeLabel(Math.floor(key / 4096)), rcode: rcodeLabel(key % 4096) };
        const k = `${labels.qtype} ${labels.rcode}`;
        const s = sums.get(k);
        if (s) s.value += v; else sums.set(k, { value: v, labels });
      }
      return [...sums.values()];
    }),
    collector('glidepath_dns_handle_seconds', 'Time from a query\'s bytes to its answer\'s bytes, in the handler.', 'histogram', () => {
      const q = now().queries;
      if (!q) return undefined;
      const out: Value[] = [];
      let cumulative = 0;
      HANDLE_BUCKETS.forEach((le, i) => {
        cumulative += q.buckets[i] ?? 0;
        out.push({ metricName: 'glidepath_dns_handle_seconds_bucket', labels: { le: String(le) }, value: cumulative });
      });
      // Observations above the last bucket are counted only in +Inf.
      out.push({ metricName: 'glidepath_dns_handle_seconds_bucket', labels: { le: '+Inf' }, value: q.observations });
      out.push({ metricName: 'glidepath_dns_handle_seconds_sum', value: q.sumSeconds });
      out.push({ metricName: 'glidepath_dns_handle_seconds_count', value: q.observations });
      return out;
    }),
    collector('glidepath_dns_cache_hits_total', 'DNS queries answered from the response cache (the rest of glidepath_dns_queries_total was answered afresh).', 'counter', () => {
      const q = now().queries;
      return q ? [{ value: q.cacheHits ?? 0 }] : undefined;
    }),
    // Per tenant, never per domain: a domain label would make a series per domain served.
    collector('glidepath_tenant_queries_total', 'DNS answers counted toward the tenant\'s domains (per-domain statistics), added as each batch is written (GLIDEPATH_STATS_FLUSH_INTERVAL).', 'counter', () => {
      const t = now().queries?.tenants;
      return t?.map(([tenant, value]) => ({ labels: { tenant }, value }));
    }),
    collector('glidepath_rrl_responses_total', 'UDP responses response rate limiting acted on: dropped, slipped (sent truncated), or logged only (GLIDEPATH_RRL=log).', 'counter', () => {
      const r = now().queries?.rrl;
      if (!r) return undefined;
      const out: Value[] = [];
      RRL_CLASSES.forEach((cls, c) => RRL_ACTIONS.forEach((action, a) => {
        out.push({ labels: { class: cls, action }, value: r[c * RRL_ACTIONS.length + a] ?? 0 });
      }));
      return out;
    }),
  ];
}

const gauge = (now: () => Scrape, name: string, help: string, pick: (s: Scrape) => number | undefined) =>
  collector(name, help, 'gauge', () => {
    const v = pick(now());
    return v === undefined ? undefined : [{ value: v }];
  });

export function feedCollectors(now: () => Scrape): Metric[] {
  return [
    gauge(now, 'glidepath_snapshot_age_seconds', 'Seconds since the snapshot last caught up with the journal.', (s) => s.feed?.ageSeconds),
    gauge(now, 'glidepath_journal_seq', 'Last journal sequence applied to the snapshot.', (s) => s.feed?.seq),
    gauge(now, 'glidepath_journal_lag', 'Journal entries announced but not yet applied to the snapshot.', (s) => s.feed?.lag),
    gauge(now, 'glidepath_domains', 'Domains served.', (s) => s.feed?.domains),
  ];
}

export function workerCollectors(now: () => Scrape): Metric[] {
  return [
    collector('glidepath_workers', 'Workers answering DNS (serve --workers), and how many answered this scrape.', 'gauge', () => {
      const w = now().workers;
      return w && [{ labels: { state: 'ready' }, value: w.ready }, { labels: { state: 'reporting' }, value: w.reporting }];
    }),
  ];
}

export function nodeCollectors(now: () => Scrape): Metric[] {
  return [
    collector('glidepath_node_info', 'This node: GLIDEPATH_NODE_ID and GLIDEPATH_ROLE (always 1).', 'gauge', () => {
      const n = now().node;
      return n && [{ labels: { node: n.id, role: n.role }, value: 1 }];
    }),
  ];
}
