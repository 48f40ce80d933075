/**
 * The gateway's copy of the routing table: the last snapshot WatchRoutes delivered, with this
 * gateway's own bookkeeping per target (requests outstanding, recent failures). It outlives the
 * stream: while the control plane is away the gateway keeps routing by the last table it saw.
 * Waiters (buffered requests, retries out of targets) wake on every new snapshot.
 */
import type { TargetView } from './router';

export interface Target extends TargetView {
  /** `key` is the replica id and URL together: a replica restarted elsewhere is another target. */
  readonly replicaId: string;
  outstanding: number;
  ejectedUntil: number;
}

export interface LiveRoute {
  readonly deployment: string;
  readonly modelName: string;
  readonly modelVersion: number;
  readonly scaledToZero: boolean;
  readonly targets: readonly Target[];
  /** Inference needs a key hashing to one of keyHashes (SHA-256 hex). */
  readonly requireKey: boolean;
  readonly keyHashes: readonly string[];
}

/** The parts of proto `RoutingTable` the gateway reads. */
export interface TableSnapshot {
  readonly generation: bigint;
  readonly routes: readonly {
    readonly deployment: string;
    readonly modelName: string;
    readonly modelVersion: number;
    readonly scaledToZero: boolean;
    readonly targets: readonly { readonly replicaId: string; readonly url: string }[];
    /** Absent: an open deployment. */
    readonly requireKey?: boolean;
    readonly keyHashes?: readonly string[];
  }[];
}

export class RouteTable {
  private routes = new Map<string, LiveRoute>();
  private gen: bigint | null = null;
  private readonly waiters = new Set<() => void>();
  private closed = false;

  /** Whether any snapshot has arrived: before that the gateway cannot tell a deployment exists. */
  get received(): boolean {
    return this.gen !== null;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  get generation(): bigint | null {
    return this.gen;
  }

  get(deployment: string): LiveRoute | undefined {
    return this.routes.get(deployment);
  }

  deployments(): string[] {
    return [...this.routes.keys()];
  }

  /** Every target URL in the table. */
  urls(): Set<string> {
    return new Set([...this.routes.values()].flatMap((r) => r.targets.map((t) => t.url)));
  }

  /** Replaces the table; targets that stay (same replica at the same URL) keep their counters. */
  apply(snapshot: TableSnapshot): void {
    const next = new Map<string, LiveRoute>();
    for (const r of snapshot.routes) {
      const before = new Map((this.routes.get(r.deployment)?.targets ?? []).map((t) => [t.key, t]));
      const seen = new Set<string>();
      const targets: Target[] = [];
      for (const t of r.targets) {
        const url = t.url.replace(/\/+$/, '');
        const key = `${t.replicaId} ${url}`;
        if (seen.has(key)) continue;
        seen.add(key);
        targets.push(before.get(key) ?? { key, replicaId: t.replicaId, url, outstanding: 0, ejectedUntil: 0 });
      }
      next.set(r.deployment, {
        deployment: r.deployment,
        modelName: r.modelName,
        modelVersion: r.modelVersion,
        scaledToZero: r.scaledToZero,
        targets,
        requireKey: r.requireKey ?? false,
        keyHashes: [...(r.keyHashes ?? [])],
      });
    }
    this.routes = next;
    this.gen = snapshot.generation;
    for (const wake of [...this.waiters]) wake();
  }

  /**
   * Resolves true once `ready()` holds (at once, or after a later snapshot), false at `deadline`
   * (a time from `now()`) or when the table closes.
   */
  waitFor(ready: () => boolean, deadline: number, now: () => number): Promise<boolean> {
    if (ready()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const finish = (ok: boolean): void => {
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(ok);
      };
      const check = (): void => {
        if (this.closed) finish(false);
        else if (ready()) finish(true);
      };
      const timer = setTimeout(() => finish(ready()), Math.max(0, deadline - now()));
      this.waiters.add(check);
    });
  }

  /** Wakes every waiter with false: the gateway is shutting down. */
  close(): void {
    this.closed = true;
    for (const wake of [...this.waiters]) wake();
  }
}
