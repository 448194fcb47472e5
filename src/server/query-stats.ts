// Counters for /metrics: queries by type and rcode. Plain numbers, no I/O on the query path.
import { typeName, RCODE_NAMES } from '../dns/constants.js';

export class QueryStats {
  private readonly byKey = new Map<string, number>();
  total = 0;

  count(qtype: number, rcode: number): void {
    this.total++;
    const key = `${qtype}:${rcode}`;
    this.byKey.set(key, (this.byKey.get(key) ?? 0) + 1);
  }

  /** Prometheus text exposition. */
  render(): string {
    const lines = ['# HELP glidepath_dns_queries_total DNS queries answered, by query type and response code.',
      '# TYPE glidepath_dns_queries_total counter'];
    for (const [k, v] of this.byKey) {
      const [t, r] = k.split(':').map(Number);
      lines.push(`glidepath_dns_queries_total{qtype="${typeName(t)}",rcode="${RCODE_NAMES[r] ?? r}"} ${v}`);
    }
    return lines.join('\n') + '\n';
  }
}
