/**
 * A replica's Prometheus metrics (prom-client), every series labelled with the model's name
 * and version: requests by protocol/route/status, request latency, rows per batch, queue
 * depth and the time onnxruntime spends per run.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

export type Protocol = 'rest' | 'grpc';

const LATENCY_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export class ReplicaMetrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'protocol' | 'route' | 'status'>;
  private readonly latency: Histogram<'protocol' | 'route'>;
  private readonly batchRows: Histogram;
  private readonly batchRequests: Histogram;
  private readonly inference: Histogram;
  private readonly series = new Map<string, { count: { inc(): void }; latency: { observe(v: number): void } }>();

  constructor(model: { name: string; version: string }, queueDepth: () => number) {
    const registers = [this.registry];
    this.registry.setDefaultLabels({ model: model.name, version: model.version });
    collectDefaultMetrics({ register: this.registry, prefix: 'stratum_replica_process_' });
    this.requests = new Counter({
      name: 'stratum_replica_requests_total',
      help: 'Requests answered, by protocol, route and status (HTTP status or gRPC code name)',
      labelNames: ['protocol', 'route', 'status'],
      registers,
    });
    this.latency = new Histogram({
      name: 'stratum_replica_request_duration_seconds',
      help: 'Time from request start to the last byte of the answer',
      labelNames: ['protocol', 'route'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.batchRows = new Histogram({
      name: 'stratum_replica_batch_size',
      help: 'Rows per model run (batched requests merged)',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024],
      registers,
    });
    this.batchRequests = new Histogram({
      name: 'stratum_replica_batch_requests',
      help: 'Requests merged into one model run',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128],
      registers,
    });
    this.inference = new Histogram({
      name: 'stratum_replica_inference_duration_seconds',
      help: 'Time onnxruntime spends in one run (one batch)',
      buckets: LATENCY_BUCKETS,
      registers,
    });
    new Gauge({
      name: 'stratum_replica_queue_depth',
      help: 'Requests waiting for the batcher',
      registers,
      collect() {
        this.set(queueDepth());
      },
    });
  }

  request(protocol: Protocol, route: string, status: string | number, seconds: number): void {
    // prom-client hashes a label object on every call; the children, looked up once per
    // series, skip that on the per-request path. Routes are templates, so the series are few.
    const key = `${protocol} ${route} ${status}`;
    let series = this.series.get(key);
    if (!series) {
      series = {
        count: this.requests.labels({ protocol, route, status: String(status) }),
        latency: this.latency.labels({ protocol, route }),
      };
      this.series.set(key, series);
    }
    series.count.inc();
    series.latency.observe(seconds);
  }

  batch(rows: number, requests: number): void {
    this.batchRows.observe(rows);
    this.batchRequests.observe(requests);
  }

  run(seconds: number): void {
    this.inference.observe(seconds);
  }
}
