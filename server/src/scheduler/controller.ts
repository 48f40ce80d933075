/**
 * The scheduler: owns the trial queue, leases trials to workers, reclaims the leases of
 * workers that stop renewing them, and closes runs by selecting their best model.
 *
 * SQLite is the source of truth (a restart loses nothing); what lives only in memory is
 * liveness (when each worker was last heard from) and the long polls waiting for work.
 * `tick()` reconciles: expired leases go back to the queue, silent workers become LOST.
 */
import { create } from '@bufbuild/protobuf';
import {
  DataArtifactSchema,
  RunEvent_Kind,
  RunEventSchema,
  State,
  TrialAssignmentSchema,
  Worker_Status,
  type DataArtifact,
  type Run,
  type TrialAssignment,
} from '@stratum/proto';
import { randomUUID } from 'node:crypto';

import type { TrialPlan } from '../spec';
import type { ModelRepo } from '../store/models';
import { RunRepo, TERMINAL, toRun, toTrial, type TrialRow } from '../store/runs';
import type { ResourceAmounts, WorkerRecord, WorkerRepo } from '../store/workers';
import type { Logger } from '../util/log';
import type { EventHub } from './events';
import { shouldStop, type EarlyStoppingPolicy } from './early-stopping';
import { addResources, NO_RESOURCES, pickTrial, type PlacementTrial, type PlacementWorker } from './placement';
import { splitBaseline } from './baseline';
import { finalizeRun, qosPlan, type DescribeModel, type QosPlan } from './finalize';
import { DEFAULT_MAX_QOS_CANDIDATES, screenCandidates } from './qos-selection';
import type { ProfileCandidate } from '../profiler/candidates';
import type { ModelProfile } from '../profiler/types';
import { EMPTY_INFO } from '../store/model-info';

export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

export interface SchedulerOptions {
  readonly leaseTtlMs: number;
  readonly heartbeatIntervalMs: number;
  /** Attempts per trial before it fails for good (worker loss and trainer errors both count). */
  readonly maxAttempts: number;
}

export const DEFAULT_SCHEDULER_OPTIONS: SchedulerOptions = {
  leaseTtlMs: 5000,
  heartbeatIntervalMs: 1000,
  maxAttempts: 3,
};

export interface SubmitInput {
  readonly name: string;
  readonly specYaml: string;
  readonly specFile: string;
  readonly specHash: string;
  readonly specJson: string;
  readonly task: string;
  readonly metric: string;
  readonly goal: string;
  readonly earlyStopping?: EarlyStoppingPolicy;
  readonly data: readonly DataArtifact[];
  readonly dataHash: string;
  readonly plans: readonly TrialPlan[];
  readonly resources: ResourceAmounts;
}

export interface JoinInput {
  readonly name: string;
  readonly tier: string;
  readonly total: ResourceAmounts;
  readonly labels: Record<string, string>;
  readonly versions: Record<string, string>;
  readonly trainers: readonly string[];
  readonly previousId?: string;
}

export interface CompletionInput {
  readonly workerId: string;
  readonly trialId: string;
  readonly leaseId: string;
  readonly ok: boolean;
  readonly error: string;
  readonly metrics: Record<string, number>;
  readonly modelDigest: string;
  readonly modelFormat: string;
  readonly modelSize: number;
  readonly backend: string;
  readonly note: string;
}

/** What a lease poll answers: a trial to run, or a nudge to fetch the replica goal state. */
export interface LeaseResult {
  readonly assignment?: TrialAssignment;
  readonly replicasChanged?: boolean;
}

interface Waiter {
  readonly workerId: string;
  readonly resolve: (r: LeaseResult) => void;
}

export class UnknownWorkerError extends Error {
  constructor(readonly workerId: string) {
    super(`unknown worker ${workerId}: join again`);
    this.name = 'UnknownWorkerError';
  }
}

export interface SchedulerDeps {
  readonly runs: RunRepo;
  readonly workers: WorkerRepo;
  readonly models: ModelRepo;
  readonly events: EventHub;
  readonly clock: Clock;
  readonly log: Logger;
  readonly options: SchedulerOptions;
  readonly describeModel?: DescribeModel;
  /** Resources held per worker by something other than trials (model replicas). */
  readonly otherUsage?: () => ReadonlyMap<string, ResourceAmounts>;
  /** Latency-aware selection (`selection.qos`); without it such a run sets every candidate aside. */
  readonly qos?: {
    readonly profile: ProfileCandidate;
    /** Keeps the winner's profile with its registered model, for the deployment plan's QoS check. */
    readonly saveProfile?: (p: ModelProfile) => void;
    readonly maxCandidates?: number;
  };
}

export class Scheduler {
  private readonly waiters = new Set<Waiter>();
  private readonly woken = new Set<string>();
  private readonly lastSeen = new Map<string, number>();
  private readonly options: SchedulerOptions;
  /** Runs whose candidates are being profiled for `selection.qos`. */
  private readonly screening = new Map<string, AbortController>();

  constructor(private readonly d: SchedulerDeps) {
    this.options = d.options;
  }

  // ---- runs ------------------------------------------------------------------------------

  submit(input: SubmitInput): Run {
    const id = randomUUID();
    const now = this.d.clock.now();
    this.d.runs.insert(
      {
        id,
        name: input.name,
        specYaml: input.specYaml,
        specFile: input.specFile,
        specHash: input.specHash,
        specJson: input.specJson,
        dataJson: JSON.stringify(input.data.map((a) => ({ ...a, sizeBytes: Number(a.sizeBytes) }))),
        dataHash: input.dataHash,
        task: input.task,
        metric: input.metric,
        goal: input.goal,
        earlyStoppingJson: JSON.stringify(input.earlyStopping ?? null),
        createdAt: now,
      },
      input.plans.map((p) => ({
        id: randomUUID(),
        index: p.index,
        candidate: p.candidate,
        trainer: p.trainer,
        paramsJson: JSON.stringify(p.params),
        seed: p.seed,
        resources: input.resources,
      })),
    );
    this.d.log.info({ runId: id, name: input.name, trials: input.plans.length }, 'run submitted');
    this.publishRun(id);
    this.dispatch();
    return this.d.runs.getRun(id)!;
  }

  cancel(runId: string): Run | undefined {
    const row = this.d.runs.runRow(runId);
    if (!row) return undefined;
    if (!TERMINAL.has(row.state)) {
      const now = this.d.clock.now();
      this.d.runs.transaction(() => {
        for (const t of this.d.runs.trialRows(runId)) {
          if (TERMINAL.has(t.state)) continue;
          this.d.runs.updateTrial(t.id, {
            state: State.CANCELLED,
            state_reason: 'run cancelled',
            lease_id: '',
            finished_at: now,
          });
        }
        this.d.runs.updateRun(runId, { state: State.CANCELLED, state_reason: 'cancelled by user', finished_at: now });
      });
      this.screening.get(runId)?.abort();
      this.d.log.info({ runId }, 'run cancelled');
      this.publishRun(runId);
      this.dispatch();
    }
    return this.d.runs.getRun(runId);
  }

  // ---- workers ---------------------------------------------------------------------------

  join(input: JoinInput): string {
    const now = this.d.clock.now();
    const known = input.previousId ? this.d.workers.get(input.previousId) : undefined;
    const id = known ? known.id : `w-${randomUUID().slice(0, 8)}`;
    this.d.workers.upsert({
      ...input,
      id,
      status: Worker_Status.READY,
      joinedAt: known?.joinedAt ?? now,
      lastSeen: now,
    });
    this.lastSeen.set(id, now);
    this.d.log.info({ workerId: id, name: input.name, tier: input.tier, resources: input.total }, 'worker joined');
    this.dispatch();
    return id;
  }

  /** Renews the worker's leases; returns the trials it must abort. */
  heartbeat(workerId: string, leases: ReadonlyArray<{ trialId: string; leaseId: string }>): string[] {
    this.touch(workerId);
    const deadline = this.d.clock.now() + this.options.leaseTtlMs;
    const abort: string[] = [];
    for (const l of leases) {
      const t = this.d.runs.trialRow(l.trialId);
      if (!t || t.state !== State.RUNNING || t.lease_id !== l.leaseId || t.worker_id !== workerId)
        abort.push(l.trialId);
      else this.d.runs.updateTrial(t.id, { lease_deadline: deadline });
    }
    return abort;
  }

  /** Long poll for work; resolves empty after waitMs or when the caller goes away. */
  lease(workerId: string, waitMs: number, signal?: AbortSignal): Promise<LeaseResult> {
    this.touch(workerId);
    if (this.woken.delete(workerId)) return Promise.resolve({ replicasChanged: true });
    const now = this.tryLease(workerId);
    if (now || waitMs <= 0) return Promise.resolve({ assignment: now });
    return new Promise((resolve) => {
      const waiter: Waiter = {
        workerId,
        resolve: (r) => {
          clearTimeout(timer);
          this.waiters.delete(waiter);
          resolve(r);
        },
      };
      const timer = setTimeout(() => waiter.resolve({}), waitMs);
      signal?.addEventListener('abort', () => waiter.resolve({}), { once: true });
      this.waiters.add(waiter);
    });
  }

  /** Answers the worker's lease poll (or its next one) with "your replica goal state changed". */
  wake(workerId: string): void {
    const waiter = [...this.waiters].find((w) => w.workerId === workerId);
    if (waiter) waiter.resolve({ replicasChanged: true });
    else this.woken.add(workerId);
  }

  progress(input: {
    workerId: string;
    trialId: string;
    leaseId: string;
    epoch: number;
    progress: number;
    metrics: Record<string, number>;
  }): { stop: boolean; abort: boolean; reason: string } {
    this.touch(input.workerId);
    const t = this.d.runs.trialRow(input.trialId);
    if (!t || t.state !== State.RUNNING || t.lease_id !== input.leaseId) {
      return { stop: false, abort: true, reason: 'lease no longer valid' };
    }
    const history = JSON.parse(t.history_json) as { epoch: number; metrics: Record<string, number> }[];
    if (input.epoch > 0) history.push({ epoch: input.epoch, metrics: input.metrics });
    const fields: Partial<TrialRow> = {
      progress: input.progress,
      history_json: JSON.stringify(history),
      lease_deadline: this.d.clock.now() + this.options.leaseTtlMs,
    };
    let decision = { stop: false, reason: '' };
    const policy = this.policyOf(t.run_id);
    if (policy && input.epoch > 0 && !t.stop_requested) {
      const others = this.d.runs
        .trialRows(t.run_id)
        .filter((o) => o.id !== t.id)
        .map((o) => JSON.parse(o.history_json) as typeof history);
      const d = shouldStop(policy, history, others, input.epoch);
      if (d.stop) {
        decision = { stop: true, reason: d.reason ?? 'early stopping' };
        fields.stop_requested = 1;
        fields.state_reason = `stopped early: ${decision.reason}`;
      }
    }
    this.d.runs.updateTrial(t.id, fields);
    this.publishTrial(t.id);
    return { stop: decision.stop, abort: false, reason: decision.reason };
  }

  complete(input: CompletionInput): { accepted: boolean; reason: string } {
    this.touch(input.workerId);
    const t = this.d.runs.trialRow(input.trialId);
    if (!t || t.state !== State.RUNNING || t.lease_id !== input.leaseId) {
      return { accepted: false, reason: 'lease no longer valid (trial cancelled or re-queued)' };
    }
    const now = this.d.clock.now();
    if (input.ok) {
      const { model, baseline } = splitBaseline(input.metrics);
      if (Object.keys(baseline).length > 0 && this.d.runs.runRow(t.run_id)?.baseline_json === '{}') {
        this.d.runs.updateRun(t.run_id, { baseline_json: JSON.stringify(baseline) });
      }
      this.d.runs.updateTrial(t.id, {
        state: State.SUCCEEDED,
        state_reason: t.stop_requested ? t.state_reason : input.note,
        metrics_json: JSON.stringify(model),
        progress: 1,
        finished_at: now,
        lease_id: '',
        backend: input.backend,
        model_digest: input.modelDigest,
        model_format: input.modelFormat,
        model_size: input.modelSize,
      });
    } else {
      this.retryOrFail(t, `failed on ${input.workerId}: ${input.error}`);
    }
    this.publishTrial(t.id);
    this.maybeFinalize(t.run_id);
    this.dispatch();
    return { accepted: true, reason: '' };
  }

  leave(workerId: string): void {
    this.d.workers.setStatus(workerId, Worker_Status.LEFT, this.d.clock.now());
    this.lastSeen.delete(workerId);
    this.reclaim(workerId, `worker ${workerId} left`);
  }

  // ---- reconciliation ------------------------------------------------------------------

  /** After a restart: workers get one lease period to come back; their trials keep running meanwhile. */
  recover(): void {
    const now = this.d.clock.now();
    for (const w of this.d.workers.all()) if (w.status === Worker_Status.READY) this.lastSeen.set(w.id, now);
    for (const t of this.d.runs.trialsInState(State.RUNNING)) {
      this.d.runs.updateTrial(t.id, { lease_deadline: now + this.options.leaseTtlMs });
    }
    for (const r of [...this.d.runs.runsInState(State.RUNNING), ...this.d.runs.runsInState(State.PENDING)]) {
      this.maybeFinalize(r.id);
    }
  }

  /** One reconciliation step: 1. silent workers → LOST, 2. expired leases → queue, 3. dispatch. */
  tick(): void {
    const now = this.d.clock.now();
    for (const [id, seen] of this.lastSeen) {
      if (now - seen > this.options.leaseTtlMs) {
        this.lastSeen.delete(id);
        this.d.workers.setStatus(id, Worker_Status.LOST);
        this.d.log.warn({ workerId: id, silentMs: now - seen }, 'worker lost');
        this.reclaim(id, `worker ${id} lost`);
      }
    }
    for (const t of this.d.runs.trialsInState(State.RUNNING)) {
      if (t.lease_deadline < now) {
        this.retryOrFail(t, `lease expired on ${t.worker_id}`);
        this.publishTrial(t.id);
        this.maybeFinalize(t.run_id);
      }
    }
    this.dispatch();
  }

  /** Per-worker resources in use (by trials holding a lease). */
  usage(): Map<string, { used: ResourceAmounts; running: string[] }> {
    const out = new Map<string, { used: ResourceAmounts; running: string[] }>();
    for (const t of this.d.runs.trialsInState(State.RUNNING)) {
      const u = out.get(t.worker_id) ?? { used: NO_RESOURCES, running: [] };
      out.set(t.worker_id, {
        used: addResources(u.used, JSON.parse(t.resources_json) as ResourceAmounts),
        running: [...u.running, t.id],
      });
    }
    return out;
  }

  /** Trials waiting for a worker, in queue order, as placement sees them (read-only: the Ray provisioner sizes its workers to it). */
  pendingTrials(): PlacementTrial[] {
    return this.d.runs.pendingTrials().map((t) => ({
      id: t.id,
      trainer: t.trainer,
      resources: JSON.parse(t.resources_json) as ResourceAmounts,
    }));
  }

  isLive(workerId: string): boolean {
    return this.lastSeen.has(workerId);
  }

  /** Answers waiting long polls while trials fit. */
  dispatch(): void {
    for (const w of [...this.waiters]) {
      const a = this.tryLease(w.workerId);
      if (a) w.resolve({ assignment: a });
    }
  }

  close(): void {
    for (const w of [...this.waiters]) w.resolve({});
    for (const a of this.screening.values()) a.abort();
  }

  // ---- internals -----------------------------------------------------------------------

  private touch(workerId: string): void {
    const w = this.d.workers.get(workerId);
    if (!w || w.status === Worker_Status.LEFT) throw new UnknownWorkerError(workerId);
    const now = this.d.clock.now();
    if (w.status === Worker_Status.LOST) {
      this.d.workers.setStatus(workerId, Worker_Status.READY, now);
      this.d.log.info({ workerId }, 'worker back');
    }
    this.lastSeen.set(workerId, now);
  }

  private placementWorker(w: WorkerRecord): PlacementWorker {
    const trials = this.usage().get(w.id)?.used ?? NO_RESOURCES;
    const other = this.d.otherUsage?.().get(w.id) ?? NO_RESOURCES;
    return { id: w.id, tier: w.tier, total: w.total, used: addResources(trials, other), trainers: w.trainers };
  }

  private tryLease(workerId: string): TrialAssignment | undefined {
    const w = this.d.workers.get(workerId);
    if (!w || w.status !== Worker_Status.READY) return undefined;
    const queue = this.d.runs
      .pendingTrials()
      .map((t) => ({ ...t, resources: JSON.parse(t.resources_json) as ResourceAmounts }));
    const picked = pickTrial(
      queue.map((t) => ({ id: t.id, trainer: t.trainer, resources: t.resources })),
      this.placementWorker(w),
    );
    if (!picked) return undefined;
    const t = queue.find((q) => q.id === picked.id)!;
    const now = this.d.clock.now();
    const leaseId = randomUUID();
    const run = this.d.runs.runRow(t.run_id)!;
    this.d.runs.transaction(() => {
      this.d.runs.updateTrial(t.id, {
        state: State.RUNNING,
        state_reason: t.attempt > 0 ? `attempt ${t.attempt + 1}` : '',
        worker_id: workerId,
        lease_id: leaseId,
        lease_deadline: now + this.options.leaseTtlMs,
        attempt: t.attempt + 1,
        started_at: now,
        progress: 0,
        history_json: '[]',
        stop_requested: 0,
      });
      if (run.state === State.PENDING) this.d.runs.updateRun(run.id, { state: State.RUNNING, started_at: now });
    });
    if (run.state === State.PENDING) this.publishRun(run.id);
    this.publishTrial(t.id);
    const data = JSON.parse(run.data_json) as { source: string; digest: string; format: string; sizeBytes: number }[];
    return create(TrialAssignmentSchema, {
      trialId: t.id,
      leaseId,
      runId: run.id,
      specYaml: run.spec_yaml,
      specFile: run.spec_file,
      candidate: t.candidate,
      trainer: t.trainer,
      paramsJson: t.params_json,
      attempt: t.attempt + 1,
      seed: t.seed,
      data: data.map((d) => create(DataArtifactSchema, { ...d, sizeBytes: BigInt(d.sizeBytes) })),
      resources: { cpus: t.resources.cpus, memoryMb: BigInt(t.resources.memoryMb), gpus: t.resources.gpus },
    });
  }

  private retryOrFail(t: TrialRow, reason: string): void {
    const now = this.d.clock.now();
    if (t.attempt >= this.options.maxAttempts) {
      this.d.runs.updateTrial(t.id, {
        state: State.FAILED,
        state_reason: `${reason} (attempt ${t.attempt} of ${this.options.maxAttempts})`,
        lease_id: '',
        finished_at: now,
      });
    } else {
      this.d.runs.updateTrial(t.id, {
        state: State.PENDING,
        state_reason: `re-queued: ${reason} (attempt ${t.attempt} of ${this.options.maxAttempts})`,
        lease_id: '',
        worker_id: '',
        progress: 0,
      });
    }
    this.d.log.warn({ trialId: t.id, runId: t.run_id, reason }, 'trial attempt ended');
  }

  private reclaim(workerId: string, reason: string): void {
    for (const t of this.d.runs.trialsInState(State.RUNNING)) {
      if (t.worker_id !== workerId) continue;
      this.retryOrFail(t, reason);
      this.publishTrial(t.id);
      this.maybeFinalize(t.run_id);
    }
    this.dispatch();
  }

  private policyOf(runId: string): EarlyStoppingPolicy | null {
    const row = this.d.runs.runRow(runId);
    return row ? (JSON.parse(row.early_stopping_json) as EarlyStoppingPolicy | null) : null;
  }

  private maybeFinalize(runId: string): void {
    const run = this.d.runs.runRow(runId);
    if (!run || TERMINAL.has(run.state)) return;
    const trials = this.d.runs.trialRows(runId);
    if (trials.some((t) => !TERMINAL.has(t.state))) return;
    const plan = qosPlan(run, trials);
    if (plan && plan.ranked.length > 0) {
      if (!this.screening.has(runId)) this.screen(runId, plan);
      return;
    }
    finalizeRun(run, trials, this.finalizeDeps());
    this.finished(runId);
  }

  private finalizeDeps() {
    return {
      runs: this.d.runs,
      models: this.d.models,
      describeModel: this.d.describeModel ?? (() => EMPTY_INFO),
      now: this.d.clock.now(),
    };
  }

  private finished(runId: string): void {
    const after = this.d.runs.runRow(runId)!;
    this.d.log.info({ runId, state: State[after.state], reason: after.state_reason }, 'run finished');
    this.publishRun(runId);
  }

  /**
   * Profiles the candidates for `selection.qos` off the request path; the run stays RUNNING
   * (its reason says what is measured) until the verdicts are in. A restart starts it again
   * through recover().
   */
  private screen(runId: string, plan: QosPlan): void {
    const abort = new AbortController();
    this.screening.set(runId, abort);
    const maxCandidates = this.d.qos?.maxCandidates ?? DEFAULT_MAX_QOS_CANDIDATES;
    const count = Math.min(plan.ranked.length, maxCandidates);
    const profile: ProfileCandidate =
      this.d.qos?.profile ?? (() => Promise.reject(new Error('this control plane has no profiler')));
    this.d.runs.updateRun(runId, {
      state_reason: `profiling candidates on ${plan.rule.tier} for selection.qos (up to ${count})`,
    });
    this.publishRun(runId);
    screenCandidates(plan, {
      profile,
      signal: abort.signal,
      maxCandidates,
      onVerdict: (trialId, reason) => {
        if (reason === undefined || abort.signal.aborted) return;
        this.d.runs.updateTrial(trialId, { excluded_reason: reason });
        this.publishTrial(trialId);
      },
    })
      .then((outcome) => {
        if (abort.signal.aborted) return; // cancelled, or closing: recover() starts it again
        const run = this.d.runs.runRow(runId);
        if (!run || TERMINAL.has(run.state)) return;
        finalizeRun(run, this.d.runs.trialRows(runId), this.finalizeDeps(), outcome);
        const after = this.d.runs.runRow(runId)!;
        if (outcome.chosen && after.model_version > 0)
          this.d.qos?.saveProfile?.({
            ...outcome.chosen.profile,
            model: { ...outcome.chosen.profile.model, name: after.model_name, version: after.model_version },
          });
        this.finished(runId);
      })
      .catch((e: unknown) => {
        if (abort.signal.aborted) return;
        const run = this.d.runs.runRow(runId);
        if (!run || TERMINAL.has(run.state)) return;
        const reason = `selection.qos could not be checked: ${e instanceof Error ? e.message : String(e)}`;
        this.d.runs.updateRun(runId, { state: State.FAILED, state_reason: reason, finished_at: this.d.clock.now() });
        this.finished(runId);
      })
      .finally(() => this.screening.delete(runId));
  }

  private publishRun(runId: string): void {
    const run = this.d.runs.getRun(runId);
    if (!run) return;
    this.d.events.publish(
      runId,
      create(RunEventSchema, { kind: RunEvent_Kind.RUN, run, atMs: BigInt(this.d.clock.now()) }),
    );
  }

  private publishTrial(trialId: string): void {
    const row = this.d.runs.trialRow(trialId);
    if (!row) return;
    this.d.events.publish(
      row.run_id,
      create(RunEventSchema, { kind: RunEvent_Kind.TRIAL, trial: toTrial(row), atMs: BigInt(this.d.clock.now()) }),
    );
  }
}

export { toRun };
