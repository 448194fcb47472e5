// The one place /metrics is rendered: a prom-client registry holding the API's request metrics
// (observed per request, with prom-client's own Counter and Histogram) and collectors that expose
// what the DNS side counts in typed arrays (server/query-stats.ts) and how current the snapshot is
// (feed/state.ts). The DNS side's numbers are gathered once per scrape, from this process or, under
// `serve --workers`, from every worker (cluster/primary.ts sums them), then read by the collectors.
import { Counter, Histogram, Registry } from 'prom-client';
import type { QueryStatsState } from '../server/query-stats.js';
import type { FeedState } from '../feed/state.js';
import { dnsCollectors, feedCollectors, workerCollectors, nodeCollectors } from './collectors.js';
import { methodLabel } from './labels.js';
import { healthCollectors, type HealthScrape } from './health.js';

/** What the DNS side reports for one scrape; a part left out is not exposed. */
export interface Scrape {
  queries?: QueryStatsState;
  feed?: FeedState;
  /** `serve --workers`: workers ready, and how many answered this scrape. */
  workers?: { ready: number; reporting: number };
  /** GLIDEPATH_NODE_ID and the role: one info series, to join on (one value per process). */
  node?: { id: string; role: 'primary' | 'edge' };
  /** Health checks (the primary side, which runs them). */
  health?: HealthScrape;
}

export type Gather = () => Scrape | Promise<Scrape>;

const API_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export class Metrics {
  private readonly registry = new Registry();
  private readonly requests: Counter<'method' | 'route' | 'status'>;
  private readonly durations: Histogram<'method' | 'route' | 'status'>;
  private current: Scrape = {};
  private rendering: Promise<unknown> = Promise.resolve();

  constructor(private readonly gather: Gather = () => ({})) {
    this.requests = new Counter({
      name: 'glidepath_api_requests_total', help: 'API requests by method, route and status.',
      labelNames: ['method', 'route', 'status'], registers: [this.registry],
    });
    this.durations = new Histogram({
      name: 'glidepath_api_request_duration_seconds', help: 'API request duration.',
      labelNames: ['method', 'route', 'status'], buckets: API_BUCKETS, registers: [this.registry],
    });
    const now = () => this.current;
    for (const m of [...dnsCollectors(now), ...feedCollectors(now), ...workerCollectors(now), ...nodeCollectors(now), ...healthCollectors(now)]) this.registry.registerMetric(m);
  }

  get contentType(): string { return this.registry.contentType; }

  /** One API request. `route` is the route's pattern (bounded), never the URL. */
  observeRequest(method: string, route: string, status: number, seconds: number): void {
    const labels = { method: methodLabel(method), route, status: String(status) };
    this.requests.inc(labels);
    this.durations.observe(labels, seconds);
  }

  /** Prometheus text. Scrapes run one at a time: each gathers, then every collector reads that. */
  render(): Promise<string> {
    const out = this.rendering.then(async () => {
      this.current = await this.gather();
      return this.registry.metrics();
    });
    this.rendering = out.catch(() => undefined);
    return out;
  }
}
