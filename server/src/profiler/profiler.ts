/**
 * The resource profiler: for a model and a set of tiers, on each tier a replica process under
 * that tier's limits (tier-replica.ts), then for every batch size (the replica's dynamic
 * batching limit) and concurrency level a point measured until stable (sweep.ts). It reports
 * load time, model size, peak memory and the points, and streams progress as it goes.
 */
import { createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';

import type { Tier } from '../config/tiers';
import { readOnnxSignature } from '../onnx/signature';
import type { Machine } from './emulation';
import { sampleRequests, type SampleOptions } from './inputs';
import { createRng } from '../util/random';
import type { Task } from './loadgen';
import { inferTask, measureOpenLoopPoint, measurePoint, settleReplica, warmUp } from './sweep';
import { MemoryCapExceeded, startTierReplica, type TierReplica } from './tier-replica';
import {
  DEFAULT_SWEEP,
  type ModelProfile,
  type OpenLoopPoint,
  type ProfiledModel,
  type ProfileEvent,
  type ProfilePoint,
  type SweepSettings,
  type TierProfile,
} from './types';

export interface ProfileOptions {
  readonly modelPath: string;
  /** The registered model the file is; default: name "model", version 0, digest and size of the file. */
  readonly model?: Partial<ProfiledModel>;
  readonly tiers: readonly Tier[];
  readonly settings?: Partial<SweepSettings>;
  readonly inputs?: Omit<SampleOptions, 'count'>;
  readonly onEvent?: (e: ProfileEvent) => void;
  readonly machine?: Machine;
  /** Checked between points: an aborted profile stops its replica and rejects. */
  readonly signal?: AbortSignal;
  readonly now?: () => number;
}

/** Settings with the defaults filled in and checked; throws a RangeError naming the bad one. */
export function sweepSettings(partial: Partial<SweepSettings> = {}): SweepSettings {
  const s: SweepSettings = { ...DEFAULT_SWEEP, ...partial };
  const ints = (name: keyof SweepSettings, list: readonly number[], max: number): void => {
    if (list.length === 0 || !list.every((n) => Number.isInteger(n) && n >= 1 && n <= max))
      throw new RangeError(`${name} must be whole numbers from 1 to ${max}, got [${list.join(', ')}]`);
  };
  ints('batchSizes', s.batchSizes, 1024);
  ints('concurrency', s.concurrency, 1024);
  for (const k of ['maxQueueDelayMs', 'warmupMs'] as const)
    if (!(s[k] >= 0)) throw new RangeError(`${k} must be ≥ 0, got ${s[k]}`);
  for (const k of ['windowMs', 'maxPointMs'] as const)
    if (!(s[k] > 0)) throw new RangeError(`${k} must be > 0, got ${s[k]}`);
  if (!(Number.isInteger(s.stableWindows) && s.stableWindows >= 2))
    throw new RangeError(`stableWindows must be a whole number ≥ 2, got ${s.stableWindows}`);
  if (!(s.tolerance > 0 && s.tolerance < 1)) throw new RangeError(`tolerance must be in (0, 1), got ${s.tolerance}`);
  if (!s.openLoopFractions.every((f) => f > 0 && f <= 1))
    throw new RangeError(`openLoopFractions must each be in (0, 1], got [${s.openLoopFractions.join(', ')}]`);
  return s;
}

const mib = (n: number): string => `${n.toFixed(0)} MiB`;

export async function profileModel(o: ProfileOptions): Promise<ModelProfile> {
  const settings = sweepSettings(o.settings);
  const clock = o.now ?? Date.now;
  const started = performance.now();
  const bytes = readFileSync(o.modelPath);
  const signature = readOnnxSignature(bytes);
  const samples = sampleRequests(signature, o.inputs);
  const model: ProfiledModel = {
    name: o.model?.name ?? 'model',
    version: o.model?.version ?? 0,
    digest: o.model?.digest ?? `sha256:${createHash('sha256').update(bytes).digest('hex')}`,
    sizeBytes: o.model?.sizeBytes ?? bytes.length,
  };
  const emit = o.onEvent ?? (() => {});
  const perTier = settings.batchSizes.length * settings.concurrency.length;
  const progress = { done: 0, total: perTier * o.tiers.length };
  const tiers: TierProfile[] = [];
  for (const tier of o.tiers) {
    emit({
      kind: 'tier-start',
      tier: tier.name,
      message: `${tier.name}: ${tier.cpus} cpu, ${tier.threads} thread(s), ${mib(tier.memoryMb)}`,
    });
    const profile = await profileTier(tier, { o, settings, bodies: samples.bodies, emit, progress });
    progress.done = perTier * (tiers.length + 1);
    tiers.push(profile);
    emit({ kind: 'tier-done', tier: tier.name, profile });
  }
  const result: ModelProfile = {
    id: randomUUID(),
    model,
    createdAtMs: clock(),
    durationMs: performance.now() - started,
    settings,
    inputs: samples.description,
    tiers,
  };
  emit({ kind: 'done', profile: result });
  return result;
}

interface TierRun {
  readonly o: ProfileOptions;
  readonly settings: SweepSettings;
  readonly bodies: Parameters<typeof inferTask>[2];
  readonly emit: (e: ProfileEvent) => void;
  readonly progress: { done: number; total: number };
}

/** The highest error-free closed-loop throughput among `points` of one batch size. */
export function maxThroughput(points: readonly ProfilePoint[], batchSize: number): number {
  return Math.max(0, ...points.filter((p) => p.batchSize === batchSize && p.errors === 0).map((p) => p.throughput));
}

/** The offered rates of the open-loop points: fractions of the measured throughput, rounded, distinct, rising. */
export function openLoopRates(throughput: number, fractions: readonly number[]): number[] {
  const rates = fractions.map((f) => Number((f * throughput).toPrecision(3))).filter((r) => r > 0);
  return [...new Set(rates)].sort((a, b) => a - b);
}

async function profileTier(tier: Tier, run: TierRun): Promise<TierProfile> {
  const { o, settings } = run;
  const limits = { cpus: tier.cpus, threads: tier.threads, memoryMb: tier.memoryMb };
  const points: ProfilePoint[] = [];
  const openLoop: OpenLoopPoint[] = [];
  let loadMs = 0;
  let loadMemoryMb = 0;
  let peakMemoryMb = 0;
  let emulation: readonly string[] = [];
  const result = (fits: boolean, reason: string): TierProfile => ({
    tier,
    fits,
    reason,
    loadMs,
    loadMemoryMb,
    peakMemoryMb,
    emulation,
    points,
    openLoop,
  });
  // The replica of the best batch setting so far stays up (idle) for the open-loop points
  // measured after the sweep, instead of a fresh start (slow on a duty-cycled tier).
  let best: { replica: TierReplica; batchSize: number; throughput: number } | undefined;
  try {
    for (const batchSize of settings.batchSizes) {
      let replica: TierReplica;
      try {
        replica = await startTierReplica({
          modelPath: o.modelPath,
          name: 'model',
          limits,
          batching: { maxBatchSize: batchSize, maxQueueDelayMs: settings.maxQueueDelayMs },
          ...(o.machine ? { machine: o.machine } : {}),
        });
      } catch (e) {
        if (e instanceof MemoryCapExceeded) {
          loadMemoryMb = e.usedMb;
          return result(false, `does not fit: ${e.message}`);
        }
        return result(false, `the replica could not start: ${e instanceof Error ? e.message : String(e)}`);
      }
      let kept = false;
      try {
        emulation = replica.plan.notes;
        const memory = replica.memory();
        if (points.length === 0) {
          loadMs = replica.loadMs;
          loadMemoryMb = memory?.hwmMb ?? 0;
          run.emit({
            kind: 'loaded',
            tier: tier.name,
            message: `${tier.name}: loaded in ${loadMs.toFixed(0)} ms, ${memory ? `${mib(memory.hwmMb)} resident` : 'memory not measured (no /proc)'}`,
          });
        }
        if (memory && memory.hwmMb > tier.memoryMb) {
          return result(
            false,
            `does not fit: needs ${mib(memory.hwmMb)} once loaded, over the tier's ${mib(tier.memoryMb)} memory`,
          );
        }
        const warm = inferTask(replica.url, 'model', run.bodies, 1);
        await warmUp(warm.task, Math.max(settings.warmupMs, 100)).finally(warm.close);
        for (const concurrency of settings.concurrency) {
          if (o.signal?.aborted) throw new Error('the profile was cancelled');
          const { task, close } = inferTask(replica.url, 'model', run.bodies, concurrency);
          try {
            const point: ProfilePoint = { batchSize, ...(await measurePoint(task, concurrency, settings)) };
            points.push(point);
            run.progress.done++;
            run.emit({ kind: 'point', tier: tier.name, point, done: run.progress.done, total: run.progress.total });
          } finally {
            close();
          }
        }
        peakMemoryMb = Math.max(peakMemoryMb, replica.memory()?.hwmMb ?? 0);
        const throughput = maxThroughput(points, batchSize);
        if (settings.openLoopFractions.length > 0 && throughput > (best?.throughput ?? 0)) {
          await best?.replica.stop();
          best = { replica, batchSize, throughput };
          kept = true;
        }
      } finally {
        if (!kept) await replica.stop();
      }
    }
    if (best) {
      openLoop.push(...(await measureOpenLoop(tier, run, best)));
      peakMemoryMb = Math.max(peakMemoryMb, best.replica.memory()?.hwmMb ?? 0);
    }
  } finally {
    await best?.replica.stop();
  }
  if (peakMemoryMb > tier.memoryMb)
    return result(
      false,
      `does not fit: peaks at ${mib(peakMemoryMb)} under load, over the tier's ${mib(tier.memoryMb)} memory`,
    );
  return result(true, '');
}

/** As many sockets as could be in flight at an open loop's highest rate for a few of its p99s; the pool queues the rest. */
export const openLoopSockets = (batchSize: number): number => Math.max(16, 2 * batchSize);

/** Per concurrency level of settleReplica. */
const SETTLE_MS = 400;

/**
 * Readies a replica for open-loop points (the profiler's, and bench/profiler-accuracy's load
 * test of the same deployment, so both measure replicas in the same state): settled at full
 * speed (sweep.settleReplica), then, under the tier's share, every socket of `task`'s pool busy
 * for the warm-up time (an idle replica's first requests are slow again).
 */
export async function prepareForOpenLoop(
  replica: TierReplica,
  task: Task,
  bodies: Parameters<typeof inferTask>[2],
  settings: Pick<SweepSettings, 'concurrency' | 'warmupMs'>,
  sockets: number,
): Promise<void> {
  const levels = [...new Set([...settings.concurrency, sockets])];
  await replica.atFullSpeed(() => settleReplica(replica.url, 'model', bodies, levels, SETTLE_MS));
  await warmUp(task, Math.max(settings.warmupMs, 100), 50, sockets);
}

/**
 * Open-loop points on the best batch setting's replica: the p99 under random arrivals at
 * fixed fractions of its measured throughput (the capacity analysis interpolates on these).
 * Arrivals are seeded, so two profiles offer the same sequence of gaps.
 */
async function measureOpenLoop(
  tier: Tier,
  run: TierRun,
  best: { replica: TierReplica; batchSize: number; throughput: number },
): Promise<OpenLoopPoint[]> {
  const { o, settings } = run;
  const rates = openLoopRates(best.throughput, settings.openLoopFractions);
  const sockets = openLoopSockets(best.batchSize);
  const { task, close } = inferTask(best.replica.url, 'model', run.bodies, sockets);
  const rng = createRng(42);
  const random = (): number => rng.next();
  const out: OpenLoopPoint[] = [];
  try {
    await prepareForOpenLoop(best.replica, task, run.bodies, settings, sockets);
    for (const rate of rates) {
      if (o.signal?.aborted) throw new Error('the profile was cancelled');
      const point: OpenLoopPoint = {
        batchSize: best.batchSize,
        ...(await measureOpenLoopPoint(task, rate, settings, random)),
      };
      out.push(point);
      run.emit({
        kind: 'open-loop',
        tier: tier.name,
        message: `${tier.name}: open loop at ${rate} req/s (batch ${best.batchSize}): p99 ${point.p99Ms.toFixed(2)} ms, served ${point.throughput.toFixed(0)} req/s`,
      });
    }
  } finally {
    close();
  }
  return out;
}
