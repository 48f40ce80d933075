/**
 * Model replicas on a worker: reconciles the goal state the control plane sends (a list of
 * replica assignments) with the replica processes running here, and reports their actual
 * state. Each replica is its own process (onnxruntime's run() holds its event loop).
 *
 * On an emulated tier worker (`stratum worker --emulate-tier`) every replica runs under the
 * tier's limits, as the profiler measured it (profiler/emulation.ts): pinned to the tier's
 * cores, duty-cycled to its CPU share, with its thread count, and its peak resident memory
 * held to the tier's memory. A replica over the cap is stopped and reported as not fitting, and
 * stays so (no restart loop): the control plane keeps it as a failed placement with the reason.
 */
import type { ReplicaAssignment, ReplicaStatus } from '@stratum/proto';
import { create } from '@bufbuild/protobuf';
import { ReplicaStatusSchema } from '@stratum/proto';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

import type { PooledReplica, WarmPool } from '../deploy/warm-pool';
import type { Machine, TierLimits } from '../profiler/emulation';
import { DOES_NOT_FIT, doesNotFit } from '../scheduler/placement';
import { readMemory, spawnUnderLimits, type LimitedProcess } from '../profiler/tier-replica';
import type { Logger } from '../util/log';

type Phase = 'loading' | 'ready' | 'unavailable' | 'draining';

interface Hosted {
  readonly assignment: ReplicaAssignment;
  phase: Phase;
  url: string;
  reason: string;
  child?: ChildProcess;
  limited?: LimitedProcess;
  pooled?: PooledReplica;
}

export function doesNotFitReason(usedMb: number, capMb: number): string {
  return `${DOES_NOT_FIT}: reached ${usedMb.toFixed(0)} MiB, over the tier's ${capMb.toFixed(0)} MiB memory`;
}

export interface ReplicaHostOptions {
  /** Path of the model file for a digest, fetched from the control plane when needed. */
  readonly fetchModel: (digest: string) => Promise<string>;
  /** Called whenever a replica's phase changes, so the agent can report it at once. */
  readonly onChange: () => void;
  readonly log: Logger;
  /** The replica entry point (default: this build's serving/replica-main.js). */
  readonly replicaMain?: string;
  /** Processes started ahead of need: a scale from zero then pays only the model load. */
  readonly pool?: WarmPool;
  /** The tier's limits every replica runs under (an emulated tier worker); none: unlimited. */
  readonly limits?: TierLimits;
  /** Default: this machine (cores, taskset). */
  readonly machine?: Machine;
  /** How often a loading replica's memory is checked against the cap. Default 50 ms. */
  readonly memoryPollMs?: number;
}

const READY_LINE = /ready on (\S+)/;

export class ReplicaHost {
  private readonly hosted = new Map<string, Hosted>();

  constructor(private readonly o: ReplicaHostOptions) {}

  /** Starts what is assigned and not running; stops what runs and is no longer assigned. */
  reconcile(assignments: readonly ReplicaAssignment[]): void {
    const wanted = new Set(assignments.map((a) => a.replicaId));
    for (const a of assignments) if (!this.hosted.has(a.replicaId)) this.start(a);
    for (const [id, h] of this.hosted) if (!wanted.has(id) && h.phase !== 'draining') this.stop(id, h);
  }

  statuses(): ReplicaStatus[] {
    return [...this.hosted.entries()].map(([id, h]) =>
      create(ReplicaStatusSchema, {
        replicaId: id,
        state: h.phase,
        url: h.url,
        reason: h.reason,
        pid: h.pooled?.pid ?? h.child?.pid ?? 0,
      }),
    );
  }

  async stopAll(): Promise<void> {
    await Promise.all(
      [...this.hosted.values()].map(
        (h) =>
          new Promise<void>((resolve) => {
            const c = h.child;
            if (!c || c.exitCode !== null || c.signalCode !== null) return resolve();
            c.once('exit', () => resolve());
            void (h.limited?.release() ?? Promise.resolve()).then(() => c.kill('SIGTERM'));
            setTimeout(() => c.kill('SIGKILL'), 5000).unref();
          }),
      ),
    );
    await Promise.all([...this.hosted.values()].map((h) => h.pooled?.stop()));
    await this.o.pool?.close();
    this.hosted.clear();
  }

  private set(h: Hosted, phase: Phase, fields: Partial<Pick<Hosted, 'url' | 'reason'>> = {}): void {
    h.phase = phase;
    Object.assign(h, fields);
    this.o.onChange();
  }

  private start(a: ReplicaAssignment): void {
    const h: Hosted = { assignment: a, phase: 'loading', url: '', reason: '' };
    this.hosted.set(a.replicaId, h);
    this.o.log.info({ replica: a.replicaId, deployment: a.deployment }, 'starting replica');
    void this.o.fetchModel(a.modelDigest).then(
      (path) => this.spawn(h, path),
      (e: unknown) => this.set(h, 'unavailable', { reason: `cannot fetch model: ${(e as Error).message}` }),
    );
  }

  private spawn(h: Hosted, modelPath: string): void {
    if (!this.hosted.has(h.assignment.replicaId)) return;
    if (h.phase === 'draining') return this.ended(h, 'stopped before it started');
    if (this.o.pool) return void this.fromPool(h, this.o.pool, modelPath);
    const argv = [
      this.o.replicaMain ?? join(__dirname, '..', 'serving', 'replica-main.js'),
      ...replicaArgs(h.assignment, modelPath, this.o.limits),
    ];
    // The IPC channel ties the replica's life to this agent's (see replica-main).
    const options = { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] as ('ignore' | 'pipe' | 'ipc')[] };
    if (this.o.limits) {
      h.limited = spawnUnderLimits(this.o.limits, process.execPath, argv, options, {
        ...(this.o.machine ? { machine: this.o.machine } : {}),
      });
      this.o.log.info({ replica: h.assignment.replicaId, limits: h.limited.plan.notes }, 'replica under tier limits');
    }
    const child = h.limited?.child ?? spawn(process.execPath, argv, options);
    h.child = child;
    const cap = this.o.limits?.memoryMb;
    const poll =
      cap !== undefined
        ? setInterval(() => {
            if (h.phase === 'loading' || h.phase === 'ready') this.checkMemory(h, child.pid, cap);
          }, this.o.memoryPollMs ?? 50)
        : undefined;
    poll?.unref();
    let out = '';
    let err = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = READY_LINE.exec(out);
      if (m && h.phase === 'loading') {
        // The peak of the load counts: a model that passed the cap between two polls is caught here.
        if (cap !== undefined && this.checkMemory(h, child.pid, cap)) return;
        this.set(h, 'ready', { url: m[1]! });
      }
    });
    child.stderr!.on('data', (d: Buffer) => {
      err = (err + d.toString()).slice(-2000);
    });
    child.once('exit', (code, signal) => {
      if (poll) clearInterval(poll);
      void h.limited?.release();
      const tail = err.trim().split('\n').slice(-3).join(' | ');
      this.ended(h, `replica process exited (${signal ?? `code ${code}`})${tail ? `: ${tail}` : ''}`);
    });
  }

  private fromPool(h: Hosted, pool: WarmPool, modelPath: string): void {
    pool.acquire(replicaArgs(h.assignment, modelPath, this.o.limits)).then(
      (pooled) => {
        h.pooled = pooled;
        void pooled.exited.then((code) => this.ended(h, `replica process exited (code ${code})`));
        if (h.phase === 'draining' || !this.hosted.has(h.assignment.replicaId)) void pooled.stop();
        else if (h.phase === 'loading') {
          // The peak resident set covers the whole load, so one reading at ready is enough here.
          const cap = this.o.limits?.memoryMb;
          if (cap !== undefined && this.checkMemory(h, pooled.pid, cap)) return;
          this.set(h, 'ready', { url: pooled.url });
        }
      },
      (e: unknown) => this.ended(h, `replica did not start: ${(e as Error).message}`),
    );
  }

  /**
   * Over the tier's memory: the process is killed at once (it must not exhaust the machine) and
   * the replica stays here as unavailable, "does not fit", so nothing restarts it. True if over.
   */
  private checkMemory(h: Hosted, pid: number | undefined, capMb: number): boolean {
    const m = pid ? readMemory(pid) : null;
    if (!m || m.hwmMb <= capMb) return false;
    const reason = doesNotFitReason(m.hwmMb, capMb);
    this.o.log.warn({ replica: h.assignment.replicaId, reason }, 'replica over the tier memory');
    this.set(h, 'unavailable', { reason, url: '' });
    void h.limited?.release();
    if (h.pooled) void h.pooled.stop();
    else h.child?.kill('SIGKILL');
    return true;
  }

  /** A replica process ended: expected when draining, a failure otherwise. */
  private ended(h: Hosted, reason: string): void {
    const id = h.assignment.replicaId;
    if (this.hosted.get(id) !== h) return;
    // Already reported as not fitting: the exit is the kill that followed, not news.
    if (h.phase === 'unavailable' && doesNotFit(h.reason)) return;
    if (h.phase === 'draining') {
      this.hosted.delete(id);
      this.o.onChange();
      return;
    }
    this.set(h, 'unavailable', { reason });
  }

  private stop(id: string, h: Hosted): void {
    this.o.log.info({ replica: id }, 'stopping replica');
    // Unavailable: its process has ended, or is being killed for its memory; nothing to drain.
    if (h.phase === 'unavailable') {
      this.hosted.delete(id);
      this.o.onChange();
      return;
    }
    const running =
      h.pooled ?? (h.child && h.child.exitCode === null && h.child.signalCode === null ? h.child : undefined);
    if (!running) {
      // Nothing started yet (model still fetching, or the pool has not answered): draining
      // makes the pending start stop itself when it lands.
      if (h.phase === 'loading') return this.set(h, 'draining');
      this.hosted.delete(id);
      this.o.onChange();
      return;
    }
    this.set(h, 'draining');
    if (h.pooled) void h.pooled.stop();
    // A duty-cycled process runs again before it is asked to drain (a stopped one cannot).
    else void (h.limited?.release() ?? Promise.resolve()).then(() => h.child!.kill('SIGTERM'));
  }
}

/**
 * replica-main's arguments for an assignment; threads follow the cpus the replica was given, or
 * the tier's thread count on an emulated tier worker.
 */
export function replicaArgs(a: ReplicaAssignment, modelPath: string, limits?: TierLimits): string[] {
  return [
    '--model',
    modelPath,
    '--name',
    a.deployment,
    '--version',
    String(a.modelVersion),
    '--port',
    '0',
    '--max-batch-size',
    String(Math.max(1, a.maxBatchSize)),
    '--max-queue-delay-ms',
    String(Math.max(0, Math.round(a.maxQueueDelayMs))),
    '--threads',
    String(limits ? limits.threads : Math.max(1, Math.floor(a.resources?.cpus ?? 1))),
  ];
}
