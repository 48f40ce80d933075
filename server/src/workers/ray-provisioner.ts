/**
 * Workers as Ray jobs: a reconciler that sizes a set of `stratum worker` jobs to the trial
 * queue through Ray's Job Submission API. Each job runs one worker agent that joins the
 * control plane over gRPC like any other worker (so Ray only has to start processes).
 *
 * Every tick: 1. read each job's state from Ray (a job that ended is reported, with its logs
 * when it failed), 2. match jobs to joined workers by name (the submission id is the worker's
 * name), 3. ask the pure policy (ray/scaling.ts) what to start and stop, 4. stop and submit.
 * Jobs carry this control plane's join URL in their metadata, so after a restart the running
 * ones are adopted, not leaked.
 */
import { randomBytes } from 'node:crypto';

import { canEverRun, type PlacementTrial, type PlacementWorker } from '../scheduler/placement';
import { systemClock, type Clock } from '../scheduler/controller';
import type { ResourceAmounts } from '../store/workers';
import type { Logger } from '../util/log';
import { RayApiError, TERMINAL_JOB_STATUSES, type RayJobInfo, type RayJobsClient } from './ray/jobs-client';
import { decideScaling, type JobPhase, type ScalingConfig } from './ray/scaling';

/** What the provisioner reads from the control plane. */
export interface RayClusterView {
  /** Trials waiting for a worker, as placement sees them. */
  pending(): readonly PlacementTrial[];
  /** Joined workers: name, liveness and how many trials each holds. */
  workers(): readonly { readonly name: string; readonly live: boolean; readonly running: number }[];
}

export interface RayWorkerShape {
  readonly resources: ResourceAmounts;
  readonly tier: string;
  /** Trainer names the worker will offer (placement skips trials it cannot run). */
  readonly trainers: readonly string[];
}

export interface RayProvisionerOptions {
  readonly client: RayJobsClient;
  readonly cluster: RayClusterView;
  /** The control plane URL as Ray's nodes reach it. */
  readonly joinUrl: string;
  readonly joinToken: string;
  /** Put the join token in each job's runtime_env (visible in Ray's job info); false: nodes provide it. */
  readonly tokenInJob: boolean;
  /** argv that starts the Stratum CLI on a Ray node, e.g. ["node", "/opt/stratum/server/dist/cli/main.js"]. */
  readonly workerCommand: readonly string[];
  readonly shape: RayWorkerShape;
  /** Ray custom resource each job asks one unit of (tiers: "stratum-tier-edge"). */
  readonly tierResource?: string;
  /** More environment for the workers (not secrets: Ray shows it). */
  readonly env?: Readonly<Record<string, string>>;
  readonly scaling: ScalingConfig;
  readonly log: Logger;
  readonly clock?: Clock;
  readonly pollMs?: number;
}

interface TrackedJob {
  phase: JobPhase;
  submittedAt: number;
  startedAt?: number;
  idleSince: number;
  /** Set when Stratum asked Ray to stop it: its end is expected. */
  stopReason?: string;
  /** Whether a long wait for Ray to start it was reported. */
  toldPending?: boolean;
}

export const RAY_JOB_PREFIX = 'stratum-ray-';
const CONTROL_PLANE_KEY = 'stratum.control-plane';
const LOG_TAIL = 4000;

/** Quotes one argument for the shell Ray runs the entrypoint with. */
export function shellQuote(arg: string): string {
  return /^[A-Za-z0-9_./:=,@%+-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** How many of the first queued trial a worker of this shape runs at once. */
function slotsFor(trial: PlacementTrial | undefined, total: ResourceAmounts): number {
  if (!trial) return 1;
  const r = trial.resources;
  const ratios = [r.cpus > 0 ? total.cpus / r.cpus : Infinity, r.memoryMb > 0 ? total.memoryMb / r.memoryMb : Infinity];
  if (r.gpus > 0) ratios.push(total.gpus / r.gpus);
  const n = Math.floor(Math.min(...ratios));
  return Number.isFinite(n) ? Math.max(1, n) : 1;
}

export class RayProvisioner {
  private readonly jobs = new Map<string, TrackedJob>();
  private readonly clock: Clock;
  private failures = { count: 0, lastAt: 0 };
  private closed = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private apiDown = false;

  constructor(private readonly o: RayProvisionerOptions) {
    this.clock = o.clock ?? systemClock;
  }

  /** Adopts this control plane's running jobs, then reconciles every pollMs until stopAll. */
  async start(): Promise<void> {
    try {
      for (const j of await this.o.client.list()) {
        if (j.metadata[CONTROL_PLANE_KEY] !== this.o.joinUrl || TERMINAL_JOB_STATUSES.has(j.status)) continue;
        const now = this.clock.now();
        this.jobs.set(j.submissionId, { phase: 'pending', submittedAt: now, idleSince: now });
        this.o.log.info({ worker: j.submissionId }, 'adopted a running Ray worker job');
      }
    } catch (e) {
      this.o.log.warn({ err: (e as Error).message }, 'cannot list Ray jobs; starting without adopting any');
    }
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    while (!this.closed) {
      await this.tick();
      if (this.closed) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.o.pollMs ?? 1000);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  /** The Ray jobs this control plane runs as workers, by name. */
  jobNames(): string[] {
    return [...this.jobs.keys()];
  }

  /** One reconciliation step (also called by tests with an injected clock). */
  async tick(): Promise<void> {
    try {
      await this.refresh();
      this.observeWorkers();
      await this.scale();
      if (this.apiDown) this.o.log.info({ address: this.o.client.address }, 'Ray job API reachable again');
      this.apiDown = false;
    } catch (e) {
      if (!(e instanceof RayApiError)) {
        this.o.log.error({ err: (e as Error).message }, 'Ray provisioner step failed; retrying');
      } else {
        if (!this.apiDown) this.o.log.warn({ err: e.message }, 'Ray job API call failed; retrying');
        this.apiDown = true;
      }
    }
  }

  // 1. Ray's view of each job.
  private async refresh(): Promise<void> {
    for (const [name, job] of [...this.jobs]) {
      const info = await this.o.client.get(name);
      if (!info) {
        this.jobs.delete(name);
        this.o.log.warn({ worker: name }, 'Ray no longer knows this worker job');
      } else if (TERMINAL_JOB_STATUSES.has(info.status)) {
        this.jobs.delete(name);
        await this.ended(name, job, info);
      } else if (info.status === 'RUNNING' && job.phase === 'pending') {
        job.phase = 'starting';
        job.startedAt = this.clock.now();
      } else if (info.status === 'PENDING' && !job.toldPending) {
        // Waiting for resources is normal (an autoscaler may add a node), but say so once.
        if (this.clock.now() - job.submittedAt > this.o.scaling.joinTimeoutMs) {
          job.toldPending = true;
          this.o.log.warn({ worker: name, rayMessage: info.message }, 'Ray has not started this worker job yet');
        }
      }
    }
  }

  private async ended(name: string, job: TrackedJob, info: RayJobInfo): Promise<void> {
    if (job.stopReason && info.status === 'STOPPED') {
      this.o.log.info({ worker: name, reason: job.stopReason }, 'Ray worker job stopped');
      return;
    }
    const logs = await this.o.client.logs(name).then(
      (text) => text.slice(-LOG_TAIL),
      (e: Error) => `(logs unavailable: ${e.message})`,
    );
    const fields = { worker: name, rayStatus: info.status, rayMessage: info.message, logs };
    if (info.status === 'FAILED') {
      this.failures = { count: this.failures.count + 1, lastAt: this.clock.now() };
      this.o.log.error(fields, 'Ray worker job failed');
    } else {
      this.o.log.warn(fields, `Ray worker job ended outside Stratum (${info.status})`);
    }
  }

  // 2. Which jobs have a joined worker, and how busy each is.
  private observeWorkers(): void {
    const now = this.clock.now();
    const byName = new Map(this.o.cluster.workers().map((w) => [w.name, w]));
    for (const [name, job] of this.jobs) {
      const w = byName.get(name);
      if (!w?.live) continue;
      if (job.phase !== 'joined') {
        job.phase = 'joined';
        this.failures = { count: 0, lastAt: 0 };
      }
      if (w.running > 0) job.idleSince = Infinity;
      else if (job.idleSince === Infinity) job.idleSince = now;
    }
  }

  // 3 and 4. The policy's decision, carried out.
  private async scale(): Promise<void> {
    const now = this.clock.now();
    const shape: PlacementWorker = {
      id: '',
      tier: this.o.shape.tier,
      total: this.o.shape.resources,
      used: { cpus: 0, memoryMb: 0, gpus: 0 },
      trainers: this.o.shape.trainers,
    };
    const runnable = this.o.cluster.pending().filter((t) => canEverRun(t, shape));
    const running = new Map(this.o.cluster.workers().map((w) => [w.name, w.running]));
    const active = [...this.jobs].filter(([, j]) => j.stopReason === undefined);
    const decision = decideScaling(
      {
        now,
        queued: runnable.length,
        slotsPerWorker: slotsFor(runnable[0], this.o.shape.resources),
        jobs: active.map(([name, j]) => ({
          name,
          phase: j.phase,
          running: j.phase === 'joined' ? (running.get(name) ?? 0) : 0,
          idleSince: Number.isFinite(j.idleSince) ? j.idleSince : now,
          ...(j.startedAt !== undefined ? { startedAt: j.startedAt } : {}),
        })),
        failures: this.failures,
      },
      this.o.scaling,
    );
    for (const s of decision.stop) await this.stopJob(s.name, s.reason);
    for (let i = 0; i < decision.start; i++) await this.submit();
  }

  private async stopJob(name: string, reason: string): Promise<void> {
    const job = this.jobs.get(name);
    if (!job || job.stopReason) return;
    job.stopReason = reason;
    this.o.log.info({ worker: name, reason }, 'stopping Ray worker job');
    await this.o.client.stop(name);
  }

  private async submit(): Promise<void> {
    const { resources, tier } = this.o.shape;
    const name = `${RAY_JOB_PREFIX}${tier}-${randomBytes(4).toString('hex')}`;
    const args = [
      ...this.o.workerCommand,
      'worker',
      '--join',
      this.o.joinUrl,
      '--name',
      name,
      '--tier',
      tier,
      '--cpus',
      String(resources.cpus),
      '--memory',
      `${resources.memoryMb}Mi`,
      '--gpus',
      String(resources.gpus),
      '--label',
      `provisioner=ray,ray-job=${name}`,
    ];
    const now = this.clock.now();
    this.jobs.set(name, { phase: 'pending', submittedAt: now, idleSince: now });
    try {
      await this.o.client.submit({
        submissionId: name,
        entrypoint: args.map(shellQuote).join(' '),
        numCpus: resources.cpus,
        numGpus: resources.gpus,
        memory: resources.memoryMb * 2 ** 20,
        ...(this.o.tierResource ? { resources: { [this.o.tierResource]: 1 } } : {}),
        envVars: { ...this.o.env, ...(this.o.tokenInJob ? { STRATUM_JOIN_TOKEN: this.o.joinToken } : {}) },
        metadata: { [CONTROL_PLANE_KEY]: this.o.joinUrl, 'stratum.tier': tier },
      });
      this.o.log.info({ worker: name, tier, resources }, 'submitted Ray worker job');
    } catch (e) {
      this.jobs.delete(name);
      this.failures = { count: this.failures.count + 1, lastAt: this.clock.now() };
      this.o.log.error({ worker: name, err: (e as Error).message }, 'Ray refused the worker job');
      if (e instanceof RayApiError && e.status === undefined) throw e;
    }
  }

  /** Stops every worker job this provisioner runs (serve shutting down). */
  async stopAll(): Promise<void> {
    this.closed = true;
    this.wake?.();
    await this.loop;
    await Promise.allSettled([...this.jobs.keys()].map((name) => this.stopJob(name, 'control plane stopping')));
  }
}
