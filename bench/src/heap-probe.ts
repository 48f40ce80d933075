/**
 * A memory probe the soak loads into every process of the Stratum it starts, through
 * NODE_OPTIONS=--require (so the processes run unmodified, spawned as Stratum spawns them).
 * With STRATUM_BENCH_PROBE_DIR set, each process appends JSON lines to DIR/PID.jsonl:
 *
 *   - every STRATUM_BENCH_PROBE_MS (default 5000): resident memory, V8 heap used/committed,
 *     external memory, and the committed size of each V8 space (a growing young generation or
 *     code space is settling; a growing old space after full GCs is a leak);
 *   - on SIGUSR2: the same after a full GC, i.e. the live heap, the figure that tells a leak
 *     from garbage not yet collected.
 *
 * Without the variable it does nothing. Sampling is a timer that never keeps a process alive.
 */
import { appendFileSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

export const PROBE_DIR_ENV = 'STRATUM_BENCH_PROBE_DIR';
export const PROBE_MS_ENV = 'STRATUM_BENCH_PROBE_MS';

export interface ProbeSample {
  /** Date.now() of the reading. */
  readonly t: number;
  /** The script the process runs (argv[1]'s file name) and its first argument, to tell roles apart. */
  readonly script: string;
  /** The reading followed a full GC (SIGUSR2). */
  readonly gc: boolean;
  readonly rss: number;
  readonly heapUsed: number;
  readonly heapTotal: number;
  readonly external: number;
  /** Committed bytes per V8 space (new_space, old_space, code_space, large_object_space, ...). */
  readonly spaces: Record<string, number>;
  /** Milliseconds spent in GC pauses since the process started: scavenges (minor) and the rest (major). */
  readonly gcMs: { readonly minor: number; readonly major: number };
}

/** Cumulative GC pause time, from the 'gc' performance entries (kind 1: a scavenge). */
const gcMs = { minor: 0, major: 0 };

function sample(gc: boolean): ProbeSample {
  const m = process.memoryUsage();
  const spaces: Record<string, number> = {};
  for (const s of getHeapSpaceStatistics()) if (s.space_size > 0) spaces[s.space_name] = s.space_size;
  return {
    t: Date.now(),
    script: `${basename(process.argv[1] ?? '')} ${process.argv[2] ?? ''}`.trim(),
    gc,
    rss: m.rss,
    heapUsed: m.heapUsed,
    heapTotal: m.heapTotal,
    external: m.external,
    spaces,
    gcMs: { minor: Number(gcMs.minor.toFixed(1)), major: Number(gcMs.major.toFixed(1)) },
  };
}

function install(dir: string): void {
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      if ((e as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR)
        gcMs.minor += e.duration;
      else gcMs.major += e.duration;
    }
  }).observe({ entryTypes: ['gc'] });
  const file = join(dir, `${process.pid}.jsonl`);
  const write = (gc: boolean): void => {
    try {
      appendFileSync(file, JSON.stringify(sample(gc)) + '\n');
    } catch {
      // The bench removed the folder (its system is stopping): nothing left to record.
    }
  };
  const every = Number(process.env[PROBE_MS_ENV] ?? 5000);
  setInterval(() => write(false), every > 0 ? every : 5000).unref();
  // A full GC on request: V8 exposes gc() only with --expose-gc, which a fresh context then sees.
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  process.on('SIGUSR2', () => {
    gc();
    write(true);
  });
  write(false);
}

/** The environment that loads the probe into a process and everything it starts (NODE_OPTIONS is inherited). */
export function probeEnv(dir: string, everyMs?: number): Record<string, string> {
  const existing = process.env.NODE_OPTIONS ?? '';
  return {
    NODE_OPTIONS: `${existing} --require "${join(__dirname, 'heap-probe.js')}"`.trim(),
    [PROBE_DIR_ENV]: dir,
    ...(everyMs !== undefined ? { [PROBE_MS_ENV]: String(everyMs) } : {}),
  };
}

/** The probe's lines of every process, by pid (one file each; a torn last line is skipped). */
export function readProbe(dir: string): Map<number, ProbeSample[]> {
  const out = new Map<number, ProbeSample[]>();
  for (const file of readdirSync(dir)) {
    const pid = Number(file.replace(/\.jsonl$/, ''));
    if (!Number.isInteger(pid)) continue;
    const lines = readFileSync(join(dir, file), 'utf8').split('\n');
    const samples: ProbeSample[] = [];
    for (const line of lines) {
      try {
        if (line) samples.push(JSON.parse(line) as ProbeSample);
      } catch {
        // A line cut by SIGKILL (a killed replica) or by the end of the run.
      }
    }
    out.set(pid, samples);
  }
  return out;
}

const dir = process.env[PROBE_DIR_ENV];
if (dir) install(dir);
