// Prometheus metrics for the HTTP front end: requests by method and status, a latency histogram,
// and the count of 503 answers given because the store could not answer completely.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { LatencyWindow } from './latency-window.ts';

export class HttpMetrics {
  readonly registry = new Registry();
  readonly requests: Counter<'method' | 'status'>;
  readonly latency: Histogram<'method'>;
  readonly unavailable: Counter;
  readonly unexpectedRelease: Gauge;
  /** Recent latencies: the signal a background backfill slows down on. */
  readonly recent = new LatencyWindow();

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'almanac_' });
    this.requests = new Counter({
      name: 'almanac_http_requests_total',
      help: 'HTTP requests answered, by method and status',
      labelNames: ['method', 'status'],
      registers: [this.registry],
    });
    this.latency = new Histogram({
      name: 'almanac_http_request_duration_seconds',
      help: 'Time from request start to the last byte of the answer',
      labelNames: ['method'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [this.registry],
    });
    this.unexpectedRelease = new Gauge({
      name: 'almanac_release_unexpected',
      help: '1 while this node runs a release the database does not expect (it made no schema change)',
      registers: [this.registry],
    });
    this.unavailable = new Counter({
      name: 'almanac_store_unavailable_total',
      help: 'Requests answered 503 because the store could not give a complete answer',
      registers: [this.registry],
    });
  }

  observe(method: string, status: number, seconds: number): void {
    // Unknown methods are folded together so a scanner cannot create unbounded label values.
    const known = /^(GET|HEAD|PUT|DELETE|OPTIONS|PROPFIND|PROPPATCH|MKCOL|MKCALENDAR|COPY|MOVE|REPORT)$/u.test(method) ? method : 'OTHER';
    this.requests.inc({ method: known, status: String(status) });
    this.latency.observe({ method: known }, seconds);
    this.recent.add(seconds);
  }
}
