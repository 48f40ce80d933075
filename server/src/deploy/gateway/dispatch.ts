/**
 * One request's way through the gateway, whatever the protocol: find the deployment's route,
 * wait (buffered, bounded in count and time) while it has no ready replica, send to the least
 * loaded one, and send again to another when that one cannot answer. A replica that failed a
 * request is only suspect for that request, for a backoff that doubles each time it fails it
 * again: when every replica has failed it, the request waits for the first backoff to end or
 * the table to change, not for the whole buffer time. A request gives up after failing on
 * `maxAttempts` different replicas; failing again on the same ones (the only replica's worker
 * died, and the control plane has not yet replaced it) is waiting for a replica, bounded by
 * the buffer time, as at scale from zero. The front ends (REST, gRPC) supply the attempt;
 * this decides where and how often, and keeps the load windows.
 */
import { ServingError } from '../../serving/types';
import { pickTarget } from './router';
import type { GatewayStats } from './stats';
import type { LiveRoute, RouteTable, Target } from './table';

export interface DispatchOptions {
  /** Different replicas a request may fail on before it gives up, the first one included. Default 3. */
  readonly maxAttempts: number;
  /** Longest a request waits for a ready replica (scale from zero, all replicas down). Default 30 s. */
  readonly bufferTimeoutMs: number;
  /** Requests waiting at once, all deployments together; more are refused at once. Default 1000. */
  readonly maxBuffered: number;
  /** A replica whose connection failed goes to the back of the choice for this long. Default 2 s. */
  readonly ejectMs: number;
  /**
   * A replica that failed this request is suspect for this long (doubling with each further
   * failure, up to ejectMs): the request tries the others first, and comes back to it after
   * the backoff rather than never. Default 100 ms.
   */
  readonly retryBackoffMs: number;
}

export const DEFAULT_DISPATCH: DispatchOptions = {
  maxAttempts: 3,
  bufferTimeoutMs: 30_000,
  maxBuffered: 1000,
  ejectMs: 2000,
  retryBackoffMs: 100,
};

/** The keys still suspect at `now`, and when the first of the others' backoffs ends. */
export function suspects(until: ReadonlyMap<string, number>, now: number): { keys: Set<string>; nextEnd: number } {
  const keys = new Set<string>();
  let nextEnd = Infinity;
  for (const [key, end] of until) {
    if (end <= now) continue;
    keys.add(key);
    nextEnd = Math.min(nextEnd, end);
  }
  return { keys, nextEnd };
}

/** What one attempt on a replica gave: an answer for the client, or a reason to try another replica. */
export type Attempt<T> =
  | { readonly kind: 'answer'; readonly value: T; readonly failed: boolean }
  | { readonly kind: 'retry'; readonly reason: string };

export interface Dispatched<T> {
  readonly value: T;
  /** The request waited for a replica (scale from zero). */
  readonly coldStart: boolean;
}

export class Dispatcher {
  private bufferedTotal = 0;

  constructor(
    private readonly table: RouteTable,
    private readonly stats: GatewayStats,
    private readonly o: DispatchOptions,
    private readonly hooks: {
      /** A deployment's first buffered request: report now, so the control plane scales from zero. */
      readonly onBuffered: (deployment: string) => void;
      readonly now: () => number;
      readonly random?: () => number;
    },
  ) {}

  /** The deployment's route; waits for the first routing table (bounded), then not_found if absent. */
  async route(deployment: string): Promise<LiveRoute> {
    const { now } = this.hooks;
    if (!this.table.received) {
      const ok = await this.table.waitFor(() => this.table.received, now() + this.o.bufferTimeoutMs, now);
      if (!ok) {
        throw new ServingError(
          'unavailable',
          `the gateway has no routing table yet: the control plane has not answered within ${this.o.bufferTimeoutMs} ms`,
        );
      }
    }
    const route = this.table.get(deployment);
    if (!route) {
      const known = this.table.deployments();
      const list = known.length ? `; it routes ${known.map((d) => `"${d}"`).join(', ')}` : '; it routes no deployment';
      throw new ServingError('not_found', `deployment "${deployment}" is not served by this gateway${list}`);
    }
    return route;
  }

  async dispatch<T>(
    deployment: string,
    attempt: (target: Target, route: LiveRoute) => Promise<Attempt<T>>,
  ): Promise<Dispatched<T>> {
    const { now } = this.hooks;
    let route = await this.route(deployment);
    const window = this.stats.window(deployment);
    const started = now();
    const deadline = started + this.o.bufferTimeoutMs;
    window.arrive(started);
    // Replicas this request saw fail: until when it leaves them alone, and how often each failed.
    const suspectUntil = new Map<string, number>();
    const failures = new Map<string, number>();
    let replicasFailed = 0;
    let waits = 0;
    let lastReason = '';
    let coldStart = false;
    let failed = true;
    try {
      for (;;) {
        const { keys: suspect, nextEnd } = suspects(suspectUntil, now());
        const target = pickTarget(route.targets, suspect, now(), this.hooks.random);
        if (!target) {
          if (replicasFailed >= this.o.maxAttempts) throw this.exhausted(deployment, replicasFailed, lastReason);
          coldStart =
            (await this.buffer(
              deployment,
              window,
              suspect,
              deadline,
              nextEnd,
              replicasFailed,
              lastReason,
              waits++ === 0,
            )) || coldStart;
          route = await this.route(deployment);
          continue;
        }
        target.outstanding++;
        let result: Attempt<T>;
        try {
          result = await attempt(target, route);
        } finally {
          target.outstanding--;
        }
        if (result.kind === 'answer') {
          failed = result.failed;
          return { value: result.value, coldStart };
        }
        const at = now();
        const times = (failures.get(target.key) ?? 0) + 1;
        failures.set(target.key, times);
        if (times === 1) replicasFailed++;
        suspectUntil.set(target.key, at + Math.min(this.o.ejectMs, this.o.retryBackoffMs * 2 ** (times - 1)));
        target.ejectedUntil = at + this.o.ejectMs;
        lastReason = `replica ${target.replicaId} at ${target.url}: ${result.reason}`;
        if (replicasFailed >= this.o.maxAttempts) throw this.exhausted(deployment, replicasFailed, lastReason);
        this.stats.retry(deployment);
      }
    } finally {
      window.depart(now(), { latencyMs: now() - started, failed, coldStart });
    }
  }

  /**
   * Waits until the route shows a replica that is not suspect for this request (a new
   * snapshot), or the first suspect's backoff ends (`wakeAt`), whichever comes first. Throws
   * at the buffer deadline. Returns whether it waited with no replica at all (a cold start)
   * rather than for a replacement or a backoff.
   */
  private async buffer(
    deployment: string,
    window: ReturnType<GatewayStats['window']>,
    suspect: ReadonlySet<string>,
    deadline: number,
    wakeAt: number,
    replicasFailed: number,
    lastReason: string,
    firstWait: boolean,
  ): Promise<boolean> {
    const cold = (this.table.get(deployment)?.targets.length ?? 0) === 0;
    if (this.bufferedTotal >= this.o.maxBuffered) {
      throw new ServingError(
        'unavailable',
        `deployment "${deployment}" has no ready replica and the gateway already holds ${this.o.maxBuffered} waiting requests; retry later`,
      );
    }
    this.bufferedTotal++;
    // Reported once per request, however many backoffs it waits out.
    if (window.buffer(1) === 1 && firstWait) this.hooks.onBuffered(deployment);
    try {
      const fresh = (): boolean => {
        const r = this.table.get(deployment);
        return !r || r.targets.some((t) => !suspect.has(t.key));
      };
      const { now } = this.hooks;
      if (await this.table.waitFor(fresh, Math.min(deadline, wakeAt), now)) return cold;
      if (this.table.isClosed)
        throw new ServingError('unavailable', 'the gateway is shutting down; retry on another gateway');
      // A backoff ended before the deadline (a timer may fire a little early: the deadline is what it waited for).
      if (wakeAt < deadline) return cold;
      const why =
        replicasFailed > 0 ? `; last failure: ${lastReason}` : ' (it is scaling from zero, or its replicas are down)';
      throw new ServingError(
        'unavailable',
        `deployment "${deployment}" has no ready replica after ${this.o.bufferTimeoutMs} ms${why}; retry later`,
      );
    } finally {
      this.bufferedTotal--;
      window.buffer(-1);
    }
  }

  private exhausted(deployment: string, replicasFailed: number, lastReason: string): ServingError {
    return new ServingError(
      'unavailable',
      `deployment "${deployment}": no replica answered, ${replicasFailed} replica${replicasFailed === 1 ? '' : 's'} tried; last: ${lastReason}`,
    );
  }
}
