// Prometheus text for the API: requests by method, route and status, and their duration.
const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

interface Series { method: string; route: string; status: number; count: number; sum: number; buckets: number[] }

const esc = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

export class ApiMetrics {
  private series = new Map<string, Series>();

  observe(method: string, route: string, status: number, seconds: number): void {
    const k = `${method} ${route} ${status}`;
    let s = this.series.get(k);
    if (!s) this.series.set(k, (s = { method, route, status, count: 0, sum: 0, buckets: BUCKETS.map(() => 0) }));
    s.count++;
    s.sum += seconds;
    BUCKETS.forEach((b, i) => { if (seconds <= b) s.buckets[i]++; });
  }

  render(): string {
    const out = [
      '# HELP glidepath_api_requests_total API requests by method, route and status.',
      '# TYPE glidepath_api_requests_total counter',
    ];
    const all = [...this.series.values()].sort((a, b) => (a.route + a.method + a.status < b.route + b.method + b.status ? -1 : 1));
    const lbl = (s: Series) => `method="${esc(s.method)}",route="${esc(s.route)}",status="${s.status}"`;
    for (const s of all) out.push(`glidepath_api_requests_total{${lbl(s)}} ${s.count}`);
    out.push('# HELP glidepath_api_request_duration_seconds API request duration.', '# TYPE glidepath_api_request_duration_seconds histogram');
    for (const s of all) {
      BUCKETS.forEach((b, i) => out.push(`glidepath_api_request_duration_seconds_bucket{${lbl(s)},le="${b}"} ${s.buckets[i]}`));
      out.push(`glidepath_api_request_duration_seconds_bucket{${lbl(s)},le="+Inf"} ${s.count}`);
      out.push(`glidepath_api_request_duration_seconds_sum{${lbl(s)}} ${s.sum}`);
      out.push(`glidepath_api_request_duration_seconds_count{${lbl(s)}} ${s.count}`);
    }
    return out.join('\n') + '\n';
  }
}
