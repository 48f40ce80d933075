/**
 * Emulating a tier on one machine. A replica process runs under its tier's limits:
 *
 * - CPU affinity: `taskset -c` (util-linux) pins it to ceil(cpus) cores. Without taskset the
 *   process may use every core; the duty cycle then carries the whole share (cpus / cores here).
 * - A share below its cores (0.5 cpu on one core): the process is duty-cycled, SIGCONT for
 *   share × period and SIGSTOP for the rest of each period (10 ms by default; duty-cycle.ts).
 *   This is emulation, not isolation: like a CFS quota it caps the CPU time per period, and a
 *   request that arrives while the process is stopped waits for the next running slice.
 * - onnxruntime's intra-op threads: replica-main --threads.
 * - Memory: nothing caps it while it runs; the replica's peak resident set (VmHWM) after load
 *   and after the sweep is compared with the tier's memory, and a model over it is reported as
 *   not fitting (a replica that passes the cap while loading is stopped at once).
 *
 * The plan is a pure function of the tier and the machine, so it is tested without processes.
 */
import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';

export interface TierLimits {
  readonly cpus: number;
  readonly threads: number;
  readonly memoryMb: number;
}

export interface Machine {
  readonly cpuCount: number;
  /** Whether `taskset` (util-linux) can be run. */
  readonly taskset: boolean;
}

export interface EmulationPlan {
  /** Cores the process is pinned to; null without taskset. */
  readonly cpuset: readonly number[] | null;
  /** Share of each period the process runs; 1 means no duty cycle. */
  readonly duty: number;
  readonly periodMs: number;
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
      `taskset (util-linux) not found: no CPU affinity; the share is held by the duty cycle alone (${round(limits.cpus)} of ${n} cores)`,
    );
  }
  if (duty < 1)
    notes.push(
      `duty-cycled: runs ${round(duty * DUTY_PERIOD_MS)} ms of every ${DUTY_PERIOD_MS} ms (SIGCONT/SIGSTOP), ${round(duty * 100, 0)}% of its core${cores === 1 ? '' : 's'}`,
    );
  notes.push(`${limits.threads} onnxruntime thread${limits.threads === 1 ? '' : 's'}`);
  notes.push(`memory cap ${round(limits.memoryMb, 0)} MiB, checked against the peak resident set (VmHWM)`);
  return {
    cpuset,
    duty: round(duty, 4),
    periodMs: DUTY_PERIOD_MS,
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

/** This machine: its cores and whether taskset runs (checked once). */
export function thisMachine(): Machine {
  if (tasksetFound === undefined) {
    try {
      execFileSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' });
      tasksetFound = true;
    } catch {
      tasksetFound = false;
    }
  }
  return { cpuCount: cpus().length, taskset: tasksetFound };
}
