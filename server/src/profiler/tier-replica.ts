/**
 * The one wrapper around a replica process under a tier's limits (emulation.ts): started
 * through taskset, held to its CPU share (a cgroup's CFS quota, or the duty cycle where no
 * cgroup can be made), its memory read from /proc, stopped cleanly. The profiler and
 * bench/profiler-accuracy use it; a model over the tier's memory while loading is stopped and
 * reported (MemoryCapExceeded), never left to exhaust the machine.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { CpuQuota } from './cpu-quota';
import { DutyCycle } from './duty-cycle';
import {
  emulationPlan,
  limitedCommand,
  thisMachine,
  type EmulationPlan,
  type Machine,
  type TierLimits,
} from './emulation';

/** replica-main.js of this build (under ts-jest, the one tsc -b wrote to server/dist). */
export function replicaMainPath(): string {
  const here = join(__dirname, '..', 'serving', 'replica-main.js');
  return existsSync(here) ? here : join(__dirname, '..', '..', 'dist', 'serving', 'replica-main.js');
}

export interface MemoryReading {
  /** Resident now, and the peak so far (VmRSS, VmHWM), in MiB. */
  readonly rssMb: number;
  readonly hwmMb: number;
}

/** /proc/<pid>/status → resident memory; null where /proc is not there (not Linux) or the process is gone. */
export function readMemory(pid: number): MemoryReading | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return null;
  }
  const kb = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN);
  const rss = kb('VmRSS');
  const hwm = kb('VmHWM');
  if (!Number.isFinite(rss) || !Number.isFinite(hwm)) return null;
  return { rssMb: rss / 1024, hwmMb: hwm / 1024 };
}

export class MemoryCapExceeded extends Error {
  constructor(
    readonly usedMb: number,
    readonly capMb: number,
  ) {
    super(`reached ${usedMb.toFixed(0)} MiB while loading, over the tier's ${capMb.toFixed(0)} MiB memory`);
    this.name = 'MemoryCapExceeded';
  }
}

export interface TierReplicaOptions {
  readonly modelPath: string;
  readonly name: string;
  readonly version?: string;
  readonly limits: TierLimits;
  readonly batching: { readonly maxBatchSize: number; readonly maxQueueDelayMs: number };
  /** Spreads replicas of one tier over cores (emulationPlan). */
  readonly slot?: number;
  readonly machine?: Machine;
  readonly readyTimeoutMs?: number;
  /** How often the resident set is checked against the cap while loading. Default 50 ms. */
  readonly memoryPollMs?: number;
}

export interface TierReplica {
  readonly url: string;
  readonly pid: number;
  readonly plan: EmulationPlan;
  /** From spawn to the ready line. */
  readonly loadMs: number;
  memory(): MemoryReading | null;
  /** Runs `fn` with the tier's CPU share lifted (settling a fresh replica, sweep.settleReplica). */
  atFullSpeed<T>(fn: () => Promise<T>): Promise<T>;
  stop(): Promise<void>;
}

function exitOf(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
  });
}

export interface LimitedProcess {
  readonly child: ChildProcess;
  readonly plan: EmulationPlan;
  /** Holds the process to its CPU share from now on, if it is not already (spawnUnderLimits does unless told to wait). */
  limitCpu(): void;
  /** Runs `fn` with the CPU share lifted, then holds the process to it again. */
  atFullSpeed<T>(fn: () => Promise<T>): Promise<T>;
  /**
   * Ends what could leave the process unable to run: the duty cycle (its SIGSTOP). Call before
   * signalling it to stop. A CFS quota stays on, so the process drains under its share; its
   * cgroup is removed once the process has exited.
   */
  release(): Promise<void>;
}

interface HeldShare {
  /** Lets the process run (ends a duty cycle; a quota stays). */
  release(): Promise<void>;
  lift(): Promise<void>;
  restore(): void;
  exited(): void;
}

/** The running enforcement of a CPU share below the process's cores. */
function holdShare(plan: EmulationPlan, pid: number): HeldShare {
  const share = plan.share;
  if (share?.by === 'cfs-quota') {
    try {
      const quota = CpuQuota.apply(share.hierarchy, pid, share.cpus);
      return {
        release: () => Promise.resolve(),
        lift: () => Promise.resolve(quota.lift()),
        restore: () => quota.restore(),
        exited: () => quota.remove(),
      };
    } catch {
      // The probe said it could (emulation.thisMachine); if the kernel refuses now, the duty cycle holds it.
    }
  }
  let cycle: DutyCycle | undefined = DutyCycle.start(pid, plan.duty, plan.periodMs);
  const stop = async (): Promise<void> => {
    await cycle?.stop();
    cycle = undefined;
  };
  let released = false;
  return {
    release: () => {
      released = true;
      return stop();
    },
    lift: stop,
    restore: () => {
      if (!released) cycle ??= DutyCycle.start(pid, plan.duty, plan.periodMs);
    },
    exited: () => undefined,
  };
}

/**
 * Spawns `command args` under a tier's limits: pinned with taskset and held to its CPU share
 * per the emulation plan (the thread count is the caller's flag to pass, e.g. replica-main
 * --threads). `cpuLater`: the caller calls limitCpu itself (an idle process gains nothing from
 * the limit, and a duty cycle would only cost the caller wake-ups).
 */
export function spawnUnderLimits(
  limits: TierLimits,
  command: string,
  args: readonly string[],
  options: SpawnOptions,
  o: { readonly slot?: number; readonly machine?: Machine; readonly cpuLater?: boolean } = {},
): LimitedProcess {
  const plan = emulationPlan(limits, o.machine ?? thisMachine(), o.slot ?? 0);
  const limited = limitedCommand(plan, command, args);
  const child = spawn(limited.command, limited.args, options);
  let held: HeldShare | undefined;
  child.once('exit', () => held?.exited());
  const limitCpu = (): void => {
    const running = child.exitCode === null && child.signalCode === null;
    if (!held && running && child.pid !== undefined && plan.share) held = holdShare(plan, child.pid);
  };
  if (!o.cpuLater) limitCpu();
  return {
    child,
    plan,
    limitCpu,
    atFullSpeed: async (fn) => {
      const h = held;
      await h?.lift();
      try {
        return await fn();
      } finally {
        if (child.exitCode === null && child.signalCode === null) h?.restore();
      }
    },
    release: async () => {
      await held?.release();
    },
  };
}

export async function startTierReplica(o: TierReplicaOptions): Promise<TierReplica> {
  const argv = [
    replicaMainPath(),
    ...['--model', o.modelPath, '--name', o.name, '--version', o.version ?? '1', '--port', '0'],
    ...['--threads', String(o.limits.threads), '--max-queue-size', '65536'],
    ...['--max-batch-size', String(o.batching.maxBatchSize)],
    ...['--max-queue-delay-ms', String(o.batching.maxBatchSize > 1 ? o.batching.maxQueueDelayMs : 0)],
  ];
  const started = performance.now();
  const { child, plan, release, atFullSpeed } = spawnUnderLimits(
    o.limits,
    process.execPath,
    argv,
    { env: { ...process.env, STRATUM_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'] },
    { ...(o.slot !== undefined ? { slot: o.slot } : {}), ...(o.machine ? { machine: o.machine } : {}) },
  );
  const exited = exitOf(child);
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const stop = async (): Promise<void> => {
    await release();
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
  };
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(
        () => reject(new Error(`the replica was not ready after ${o.readyTimeoutMs ?? 60000} ms`)),
        o.readyTimeoutMs ?? 60000,
      );
      const poll = setInterval(() => {
        const m = child.pid ? readMemory(child.pid) : null;
        if (m && m.hwmMb > o.limits.memoryMb) reject(new MemoryCapExceeded(m.hwmMb, o.limits.memoryMb));
      }, o.memoryPollMs ?? 50);
      const done = (): void => {
        clearTimeout(timer);
        clearInterval(poll);
      };
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /ready on (\S+)/.exec(out);
        if (m) {
          done();
          resolve(m[1]!);
        }
      });
      child.once('error', (e) => {
        done();
        reject(e);
      });
      void exited.then(() => {
        done();
        const tail = stderr.trim().split('\n').slice(-3).join(' | ');
        reject(
          new Error(
            `the replica exited (${child.signalCode ?? `code ${child.exitCode}`}) before it was ready: ${tail}`,
          ),
        );
      });
    });
    const loadMs = performance.now() - started;
    return {
      url,
      pid: child.pid!,
      plan,
      loadMs,
      memory: () => readMemory(child.pid!),
      atFullSpeed,
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}
