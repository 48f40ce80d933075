/**
 * The gateway's two conversations with the control plane, neither of which the data plane ever
 * waits on: the WatchRoutes subscription (resubscribed with backoff forever; the last table
 * stays in force meanwhile) and the load reports (every interval, and at once when a
 * deployment's first request is buffered; a failed report is dropped, its cold starts kept).
 */
import { Code, ConnectError, createClient, type Client } from '@connectrpc/connect';
import { createGrpcTransport, Http2SessionManager } from '@connectrpc/connect-node';
import { DeploymentService, type RoutingTable } from '@stratum/proto';

import { bearer } from '../../client';
import type { Logger } from '../../util/log';
import { backoffMs } from './router';
import type { LoadSnapshot } from './window';

export interface ControlPlane {
  readonly client: Client<typeof DeploymentService>;
  close(): void;
}

export function connectControlPlane(url: string, token: string | undefined): ControlPlane {
  // Pings detect a control plane that vanished without closing the connection (host down).
  const session = new Http2SessionManager(url, { pingIntervalMs: 5000, pingTimeoutMs: 5000, pingIdleConnection: true });
  const transport = createGrpcTransport({ baseUrl: url, sessionManager: session, interceptors: [bearer(token)] });
  return { client: createClient(DeploymentService, transport), close: () => session.abort() };
}

export interface WatchOptions {
  readonly client: Client<typeof DeploymentService>;
  readonly gatewayId: string;
  readonly onTable: (table: RoutingTable) => void;
  readonly onConnected: (connected: boolean) => void;
  readonly log: Logger;
  readonly backoff?: { readonly initialMs: number; readonly maxMs: number };
}

/** Subscribes until stop(); every failure or end of stream resubscribes after a backoff. */
export function watchRoutes(o: WatchOptions): { stop(): Promise<void> } {
  const abort = new AbortController();
  const backoff = o.backoff ?? { initialMs: 100, maxMs: 5000 };
  let wake: (() => void) | null = null;
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  const loop = (async () => {
    let failures = 0;
    while (!abort.signal.aborted) {
      try {
        for await (const table of o.client.watchRoutes({ gatewayId: o.gatewayId }, { signal: abort.signal })) {
          if (failures > 0 || table.generation === 0n)
            o.log.info({ generation: String(table.generation) }, 'routing table received');
          failures = 0;
          o.onConnected(true);
          o.onTable(table);
        }
        o.log.warn('the control plane ended the routes stream; resubscribing');
      } catch (e) {
        if (abort.signal.aborted) break;
        const err = ConnectError.from(e);
        const level = failures === 0 ? 'warn' : 'debug';
        o.log[level](
          { code: Code[err.code], err: err.rawMessage },
          'routes stream failed; serving the last routing table and resubscribing',
        );
      }
      o.onConnected(false);
      if (abort.signal.aborted) break;
      await sleep(backoffMs(failures++, backoff));
    }
  })();
  return {
    async stop() {
      abort.abort();
      wake?.();
      await loop;
    },
  };
}

export interface ReporterOptions {
  readonly client: Client<typeof DeploymentService>;
  readonly gatewayId: string;
  readonly intervalMs: number;
  /** Closes the current windows and returns them. */
  readonly collect: () => LoadSnapshot[];
  /** Called with the loads of a report that failed. */
  readonly restore: (loads: LoadSnapshot[]) => void;
  readonly log: Logger;
}

/** Reports load every interval; `now()` sends one at once (coalesced with one in flight). */
export class Reporter {
  private timer: NodeJS.Timeout | null = null;
  private sending: Promise<void> | null = null;
  private again = false;
  private stopped = false;
  private failures = 0;

  constructor(private readonly o: ReporterOptions) {}

  start(): void {
    this.timer = setInterval(() => this.now(), this.o.intervalMs);
  }

  now(): void {
    if (this.stopped) return;
    if (this.sending) {
      this.again = true;
      return;
    }
    this.sending = this.send().finally(() => {
      this.sending = null;
      if (this.again && !this.stopped) {
        this.again = false;
        this.now();
      }
    });
  }

  private async send(): Promise<void> {
    const loads = this.o.collect();
    if (loads.length === 0) return;
    const windowSeconds = Math.max(...loads.map((l) => l.windowSeconds));
    try {
      await this.o.client.reportGatewayMetrics(
        {
          gatewayId: this.o.gatewayId,
          windowSeconds,
          loads: loads.map(({ windowSeconds: _, ...l }) => ({
            ...l,
            requests: BigInt(l.requests),
            failures: BigInt(l.failures),
            retries: BigInt(l.retries),
          })),
        },
        { timeoutMs: Math.max(1000, this.o.intervalMs) },
      );
      this.failures = 0;
    } catch (e) {
      this.o.restore(loads);
      if (this.failures++ === 0)
        this.o.log.warn({ err: ConnectError.from(e).rawMessage }, 'load report failed; the next one carries on');
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.sending;
  }
}
