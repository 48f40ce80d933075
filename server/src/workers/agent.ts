/**
 * The worker agent: joins the control plane, pulls trials with a long poll, runs them on its
 * executor, streams progress, uploads results, and renews its leases with heartbeats.
 *
 * It dials out (nothing listens on the worker), so a worker behind NAT or on an edge box can
 * join. When the control plane is unreachable it keeps its trials running and retries; when
 * the control plane no longer knows it (a new database), it joins again.
 */
import { Code, ConnectError } from '@connectrpc/connect';
import type { TrialAssignment } from '@stratum/proto';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { createStratumClient, type StratumClient } from '../client';
import type { ResourceAmounts } from '../store/workers';
import type { Logger } from '../util/log';
import { TrialAbortedError, type TrialExecutor } from './executor';
import { GpuSlots } from './gpus';
import { WarmPool } from '../deploy/warm-pool';
import type { TierLimits } from '../profiler/emulation';
import { ReplicaHost } from './replica-host';

export interface AgentOptions {
  readonly url: string;
  readonly joinToken: string;
  readonly name: string;
  readonly tier: string;
  readonly resources: ResourceAmounts;
  readonly labels?: Record<string, string>;
  readonly trainers: readonly string[];
  readonly versions?: Record<string, string>;
  readonly executor: TrialExecutor;
  readonly cacheDir: string;
  readonly log: Logger;
  readonly leaseWaitMs?: number;
  /** Device ids of the GPUs offered, one per `resources.gpus` (default "0".."n-1"). */
  readonly gpuIds?: readonly string[];
  /** Replica processes kept started ahead of need (0: start each when asked). */
  readonly warmReplicas?: number;
  /** An emulated tier worker: its replicas run under the tier's limits (replica-host.ts). */
  readonly replicaLimits?: TierLimits;
}

interface Running {
  readonly assignment: TrialAssignment;
  readonly abort: AbortController;
  stop: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class WorkerAgent {
  private readonly client: StratumClient;
  private readonly running = new Map<string, Running>();
  private workerId = '';
  private heartbeatMs = 1000;
  private stopped = false;
  private readonly loops: Promise<void>[] = [];
  private leaseAbort = new AbortController();
  private readonly replicas: ReplicaHost;
  private readonly pool: WarmPool | undefined;
  private wakeHeartbeat: (() => void) | undefined;
  private heartbeatDue = false;
  private readonly gpus: GpuSlots;

  constructor(private readonly o: AgentOptions) {
    this.gpus = new GpuSlots(o.gpuIds ?? Array.from({ length: o.resources.gpus }, (_, i) => String(i)));
    this.client = createStratumClient({ url: o.url, token: o.joinToken });
    mkdirSync(o.cacheDir, { recursive: true, mode: 0o700 });
    const limits = o.replicaLimits ? { limits: o.replicaLimits } : {};
    this.pool = (o.warmReplicas ?? 0) > 0 ? new WarmPool({ size: o.warmReplicas!, ...limits }) : undefined;
    this.replicas = new ReplicaHost({
      fetchModel: (digest) => this.fetchArtifact(digest),
      onChange: () => this.heartbeatNow(),
      log: o.log,
      pool: this.pool,
      ...limits,
    });
  }

  /** Sends the next heartbeat now (a replica changed state, or the goal state did). */
  private heartbeatNow(): void {
    this.heartbeatDue = true;
    this.wakeHeartbeat?.();
  }

  get id(): string {
    return this.workerId;
  }

  async start(): Promise<void> {
    await this.join();
    // The pool fills in the background; until it has, replicas start cold (the pool spawns one).
    void this.pool?.start().catch((e: unknown) => this.o.log.warn({ err: (e as Error).message }, 'warm pool'));
    this.loops.push(this.heartbeatLoop(), this.leaseLoop());
  }

  /** Leaves the cluster: running trials are aborted and go back to the queue at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.leaseAbort.abort();
    this.wakeHeartbeat?.();
    for (const r of this.running.values()) r.abort.abort('worker stopping');
    await this.replicas.stopAll();
    await this.client.workers.leave({ workerId: this.workerId }).catch(() => undefined);
    await this.o.executor.close();
    await Promise.allSettled(this.loops);
  }

  private async join(): Promise<void> {
    for (let attempt = 0; !this.stopped; attempt++) {
      try {
        const r = await this.client.workers.join({
          name: this.o.name,
          tier: this.o.tier,
          resources: {
            cpus: this.o.resources.cpus,
            memoryMb: BigInt(Math.round(this.o.resources.memoryMb)),
            gpus: this.o.resources.gpus,
          },
          labels: this.o.labels ?? {},
          // The pid lets operators (and the fault tests) find the process behind a worker.
          versions: { node: process.versions.node, pid: String(process.pid), ...this.o.versions },
          trainers: [...this.o.trainers],
          previousId: this.workerId,
        });
        this.workerId = r.workerId;
        this.heartbeatMs = r.heartbeatIntervalMs;
        this.o.log.info({ workerId: r.workerId, tier: this.o.tier }, 'joined');
        return;
      } catch (e) {
        if (e instanceof ConnectError && e.code === Code.Unauthenticated) throw e;
        this.o.log.warn({ err: (e as Error).message, attempt }, 'join failed, retrying');
        await sleep(Math.min(5000, 200 * 2 ** attempt));
      }
    }
  }

  /** Runs an RPC; a NOT_FOUND (the control plane forgot us) triggers a re-join. */
  private async call<T>(fn: () => Promise<T>): Promise<T | undefined> {
    try {
      return await fn();
    } catch (e) {
      if (e instanceof ConnectError && e.code === Code.NotFound && !this.stopped) {
        this.o.log.warn('control plane does not know this worker: joining again');
        await this.join();
      } else if (!this.stopped) {
        this.o.log.debug({ err: (e as Error).message }, 'control plane call failed');
      }
      return undefined;
    }
  }

  private async heartbeatLoop(): Promise<void> {
    while (!this.stopped) {
      const leases = [...this.running.values()].map((r) => ({
        trialId: r.assignment.trialId,
        leaseId: r.assignment.leaseId,
      }));
      this.heartbeatDue = false;
      const resp = await this.call(() =>
        this.client.workers.heartbeat({ workerId: this.workerId, leases, replicas: this.replicas.statuses() }),
      );
      // No answer (control plane down or restarting): replicas keep serving as they are.
      if (resp) this.replicas.reconcile(resp.replicas);
      for (const id of resp?.abortTrialIds ?? []) {
        const r = this.running.get(id);
        if (r) {
          this.o.log.info({ trialId: id }, 'control plane revoked the lease: aborting trial');
          r.abort.abort('lease revoked');
        }
      }
      if (!this.heartbeatDue && !this.stopped) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, this.heartbeatMs);
          this.wakeHeartbeat = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.wakeHeartbeat = undefined;
      }
    }
  }

  private async leaseLoop(): Promise<void> {
    while (!this.stopped) {
      const resp = await this.call(() =>
        this.client.workers.leaseTrial(
          { workerId: this.workerId, waitMs: this.o.leaseWaitMs ?? 10000 },
          { signal: this.leaseAbort.signal },
        ),
      );
      if (resp === undefined) {
        if (!this.stopped) await sleep(500);
        continue;
      }
      if (resp.replicasChanged) this.heartbeatNow();
      if (resp.assignment) void this.runTrial(resp.assignment);
    }
  }

  private async runTrial(a: TrialAssignment): Promise<void> {
    const state: Running = { assignment: a, abort: new AbortController(), stop: false };
    this.running.set(a.trialId, state);
    const base = { workerId: this.workerId, trialId: a.trialId, leaseId: a.leaseId };
    this.o.log.info({ trialId: a.trialId, candidate: a.candidate, attempt: a.attempt }, 'trial started');
    // The scheduler placed the trial on free GPU slots; these are the devices it gets.
    const gpus = this.gpus.acquire(a.resources?.gpus ?? 0);
    try {
      if (!gpus) throw new Error(`the trial asks for ${a.resources?.gpus} GPU(s); ${this.gpus.available} free here`);
      const dataPaths: Record<string, string> = {};
      const data: Record<string, string> = {};
      for (const d of a.data) {
        dataPaths[d.digest] = await this.fetchArtifact(d.digest);
        data[d.source] = d.digest;
      }
      const out = await this.o.executor.run(
        {
          specYaml: a.specYaml,
          specFile: a.specFile,
          candidate: a.candidate,
          trainer: a.trainer,
          params: JSON.parse(a.paramsJson) as Record<string, unknown>,
          seed: a.seed,
          attempt: a.attempt,
          data,
          dataPaths,
        },
        {
          onProgress: (epoch, progress, metrics) => {
            void this.call(() => this.client.workers.reportProgress({ ...base, epoch, progress, metrics })).then(
              (r) => {
                if (r?.stop) state.stop = true;
                if (r?.abort) state.abort.abort('lease revoked');
              },
            );
          },
          shouldStop: () => state.stop,
        },
        state.abort.signal,
        { env: this.gpus.envFor(gpus) },
      );
      await this.complete({
        ...base,
        ok: true,
        metrics: out.metrics,
        model: out.artifact,
        modelFormat: out.format,
        backend: out.backend,
        note: out.note,
      });
      this.o.log.info({ trialId: a.trialId }, 'trial succeeded');
    } catch (e) {
      if (e instanceof TrialAbortedError || state.abort.signal.aborted) {
        this.o.log.info({ trialId: a.trialId, reason: String(state.abort.signal.reason) }, 'trial aborted');
      } else {
        const message = e instanceof Error ? e.message : String(e);
        this.o.log.warn({ trialId: a.trialId, err: message }, 'trial failed');
        await this.complete({ ...base, ok: false, error: message });
      }
    } finally {
      if (gpus) this.gpus.release(gpus);
      this.running.delete(a.trialId);
    }
  }

  /** Results are retried until the control plane answers: a restart must not lose them. */
  private async complete(req: Parameters<StratumClient['workers']['completeTrial']>[0]): Promise<void> {
    for (let attempt = 0; !this.stopped; attempt++) {
      try {
        const r = await this.client.workers.completeTrial(req);
        if (!r.accepted) this.o.log.info({ trialId: req.trialId, reason: r.reason }, 'result not accepted');
        return;
      } catch (e) {
        if (e instanceof ConnectError && e.code === Code.NotFound) {
          await this.join();
          req = { ...req, workerId: this.workerId };
        }
        await sleep(Math.min(5000, 200 * 2 ** attempt));
      }
    }
  }

  private async fetchArtifact(digest: string): Promise<string> {
    const path = join(this.o.cacheDir, digest.replace(':', '-'));
    if (existsSync(path)) return path;
    const chunks: Uint8Array[] = [];
    for await (const c of this.client.workers.fetchArtifact({ digest })) chunks.push(c.data);
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, Buffer.concat(chunks), { mode: 0o600 });
    renameSync(tmp, path);
    return path;
  }
}
