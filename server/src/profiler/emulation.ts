/**
 * Emulating a tier on one machine. A replica process runs under its tier's limits:
 *
 * - CPU affinity: `taskset -c` (util-linux) pins it to ceil(cpus) cores. Without taskset the
 *   process may use every core; the share below then carries the whole limit (cpus / cores here).
 * - A share below its cores (0.5 cpu on one core): a CFS bandwidth quota on a cgroup of its own
 *   (cpu-quota.ts), as Kubernetes holds a container's CPU limit, where this process can make
 *   cgroups; otherwise duty-cycled, SIGCONT for share × period and SIGSTOP for the rest of each
 *   period (duty-cycle.ts). Both cap the CPU time per period (the quota's as short as the
 *   kernel holds accurately, cpu-quota.quotaFor; the duty cycle's 10 ms); the quota lets a request
 *   run as soon as it arrives while time is left in the period, the duty cycle makes one that
 *   arrives in a stopped phase wait for the next running slice.
 * - onnxruntime's intra-op threads: replica-main --threads.
 * - Memory: nothing caps it while it runs; the replica's peak resident set (VmHWM) after load
 *   and after the sweep is compared with the tier's memory, and a model over it is reported as
 *   not fitting (a replica that passes the cap while loading is stopped at once).
 *
 * The plan is a pure function of the tier and the machine, so it is tested without processes.
 */
import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';

import { quotaFor, thisCpuHierarchy, type CpuHierarchy } from './cpu-quota';

export interface TierLimits {
  readonly cpus: number;
  readonly threads: number;
  readonly memoryMb: number;
}

export interface Machine {
  readonly cpuCount: number;
  /** Whether `taskset` (util-linux) can be run. */
  readonly taskset: boolean;
  /** Where a CPU quota can be set (cpu-quota.ts); absent or null: nowhere, the duty cycle holds the share. */
  readonly cpuQuota?: CpuHierarchy | null;
}

export interface EmulationPlan {
  /** Cores the process is pinned to; null without taskset. */
  readonly cpuset: readonly number[] | null;
  /** Share of its cores' time the process gets in each period; 1 means no limit below them. */
  readonly duty: number;
  readonly periodMs: number;
  /** What holds a share below 1: a cgroup's CFS quota (`cpus` of CPU time per period), or the duty cycle. */
  readonly share:
    | { readonly by: 'cfs-quota'; readonly cpus: number; readonly hierarchy: CpuHierarchy }
    | { readonly by: 'duty-cycle' }
    | null;
  readonly threads: number;
  readonly memoryMb: number;
  /** Human-readable: what is applied, and what could not be. */
  readonly notes: readonly string[];
}

export const DUTY_PERIOD_MS = 10;

const round = (n: number, digits = 2): number => Number(n.toFixed(digits));

/**
 * How to run a replica of a tier with `limits` here. `slot` spreads several replicas of the
 * same tier over different cores (slot 0 takes the last cores, slot 1 the ones before, ...),
 * so they do not share a core while cores remain.
 */
export function emulationPlan(limits: TierLimits, machine: Machine, slot = 0): EmulationPlan {
  const n = Math.max(1, machine.cpuCount);
  const notes: string[] = [];
  const cores = Math.min(n, Math.max(1, Math.ceil(limits.cpus - 1e-9)));
  if (limits.cpus > n)
    notes.push(`the tier asks for ${limits.cpus} cpus; this machine has ${n}, so the replica gets all ${n}`);
  let cpuset: number[] | null = null;
  let duty: number;
  if (machine.taskset) {
    const start = (((n - cores * (slot + 1)) % n) + n) % n;
    cpuset = Array.from({ length: cores }, (_, i) => (start + i) % n).sort((a, b) => a - b);
    duty = Math.min(1, limits.cpus / cores);
    notes.push(`pinned to core${cores === 1 ? '' : 's'} ${cpuset.join(',')} (taskset)`);
  } else {
    duty = Math.min(1, limits.cpus / n);
    notes.push(
      `taskset (util-linux) not found: no CPU affinity; the CPU share alone holds the limit (${round(limits.cpus)} of ${n} cores)`,
    );
  }
  // The cores the share is of: those pinned, or all of them.
  const over = cpuset?.length ?? n;
  const ofCores = `${round(duty * 100, 0)}% of its core${over === 1 ? '' : 's'}`;
  let share: EmulationPlan['share'] = null;
  if (duty < 1 && machine.cpuQuota) {
    const cpus = round(duty * over, 4);
    const q = quotaFor(cpus);
    share = { by: 'cfs-quota', cpus, hierarchy: machine.cpuQuota };
    notes.push(
      `CFS quota: ${round(q.quotaUs / 1000)} ms of CPU time per ${round(q.periodUs / 1000)} ms (cgroup ${machine.cpuQuota.version}), ${ofCores}`,
    );
  } else if (duty < 1) {
    share = { by: 'duty-cycle' };
    notes.push(
      `duty-cycled: runs ${round(duty * DUTY_PERIOD_MS)} ms of every ${DUTY_PERIOD_MS} ms (SIGCONT/SIGSTOP; no writable cgroup for a CPU quota), ${ofCores}`,
    );
  }
  notes.push(`${limits.threads} onnxruntime thread${limits.threads === 1 ? '' : 's'}`);
  notes.push(`memory cap ${round(limits.memoryMb, 0)} MiB, checked against the peak resident set (VmHWM)`);
  return {
    cpuset,
    duty: round(duty, 4),
    periodMs: DUTY_PERIOD_MS,
    share,
    threads: limits.threads,
    memoryMb: limits.memoryMb,
    notes,
  };
}

/** The command line that starts `command args` under the plan's affinity. */
export function limitedCommand(
  plan: Pick<EmulationPlan, 'cpuset'>,
  command: string,
  args: readonly string[],
): { command: string; args: string[] } {
  if (!plan.cpuset) return { command, args: [...args] };
  return { command: 'taskset', args: ['-c', plan.cpuset.join(','), command, ...args] };
}

let tasksetFound: boolean | undefined;

/** This machine: its cores, whether taskset runs and where a CPU quota can be set (checked once). */
export function thisMachine(): Machine {
  if (tasksetFound === undefined) {
    try {
      execFileSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' });
      tasksetFound = true;
    } catch {
      tasksetFound = false;
    }
  }
  return { cpuCount: cpus().length, taskset: tasksetFound, cpuQuota: thisCpuHierarchy() };
}
