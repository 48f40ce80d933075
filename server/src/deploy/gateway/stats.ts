/**
 * What the gateway measures, per deployment: the report windows the control plane's autoscaler
 * reads (window.ts), and the same events as Prometheus series at /metrics (prom-client).
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

import { LoadWindow, type LoadSnapshot } from './window';

const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export class GatewayStats {
  readonly registry = new Registry();
  private readonly windows = new Map<string, LoadWindow>();
  private readonly requests: Counter<'deployment' | 'protocol' | 'code'>;
  private readonly latency: Histogram<'deployment' | 'protocol'>;
  private readonly retries: Counter<'deployment'>;
  private readonly coldStarts: Histogram<'deployment'>;
  readonly controlPlaneConnected: Gauge;
  readonly generation: Gauge;

  constructor(
    private readonly now: () => number,
    targets: () => Map<string, number>,
  ) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'stratum_gateway_process_' });
    this.requests = new Counter({
      name: 'stratum_gateway_requests_total',
      help: 'Requests answered, by deployment, protocol and code (HTTP status or gRPC code name)',
      labelNames: ['deployment', 'protocol', 'code'],
      registers,
    });
    this.latency = new Histogram({
      name: 'stratum_gateway_request_duration_seconds',
      help: 'Time from arrival at the gateway to the answer, buffering and retries included',
      labelNames: ['deployment', 'protocol'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.retries = new Counter({
      name: 'stratum_gateway_retries_total',
      help: 'Requests sent again to another replica after one failed (connection refused or reset, 502/503/504, UNAVAILABLE)',
      labelNames: ['deployment'],
      registers,
    });
    this.coldStarts = new Histogram({
      name: 'stratum_gateway_cold_start_seconds',
      help: 'Latency of requests that waited for a replica (scale from zero)',
      labelNames: ['deployment'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    });
    const windows = this.windows;
    const perDeployment = (name: string, help: string, value: (w: LoadWindow) => number) =>
      new Gauge({
        name,
        help,
        labelNames: ['deployment'],
        registers,
        collect() {
          this.reset();
          for (const w of windows.values()) this.set({ deployment: w.deployment }, value(w));
        },
      });
    perDeployment('stratum_gateway_inflight', 'Requests in flight now, buffered ones included', (w) => w.inflight);
    perDeployment('stratum_gateway_buffered', 'Requests waiting for a ready replica', (w) => w.buffered);
    new Gauge({
      name: 'stratum_gateway_ready_targets',
      help: 'Ready replicas in the routing table',
      labelNames: ['deployment'],
      registers,
      collect() {
        this.reset();
        for (const [deployment, n] of targets()) this.set({ deployment }, n);
      },
    });
    this.controlPlaneConnected = new Gauge({
      name: 'stratum_gateway_control_plane_connected',
      help: '1 while the WatchRoutes stream is open',
      registers,
    });
    this.generation = new Gauge({
      name: 'stratum_gateway_routing_generation',
      help: 'Generation of the routing table in use',
      registers,
    });
  }

  window(deployment: string): LoadWindow {
    let w = this.windows.get(deployment);
    if (!w) this.windows.set(deployment, (w = new LoadWindow(deployment, this.now())));
    return w;
  }

  retry(deployment: string): void {
    this.window(deployment).retry();
    this.retries.inc({ deployment });
  }

  answered(
    deployment: string,
    protocol: 'rest' | 'grpc',
    code: string | number,
    seconds: number,
    coldStart: boolean,
  ): void {
    this.requests.inc({ deployment, protocol, code: String(code) });
    this.latency.observe({ deployment, protocol }, seconds);
    if (coldStart) this.coldStarts.observe({ deployment }, seconds);
  }

  /**
   * Closes the windows of `deployments` (those in the routing table) and of any other deployment
   * with activity, and drops idle windows of deployments no longer routed.
   */
  snapshot(deployments: readonly string[]): LoadSnapshot[] {
    const now = this.now();
    const routed = new Set(deployments);
    for (const d of routed) this.window(d);
    const out: LoadSnapshot[] = [];
    for (const [d, w] of this.windows) {
      if (!routed.has(d) && w.idle()) {
        this.windows.delete(d);
        continue;
      }
      out.push(w.snapshot(now));
    }
    return out;
  }

  /** A report that failed: its cold-start samples go into the next one. */
  restore(loads: readonly LoadSnapshot[]): void {
    for (const l of loads) if (l.coldStartMs.length > 0) this.window(l.deployment).restoreColdStarts(l.coldStartMs);
  }
}
