/**
 * A CPU share enforced by the kernel: the CFS bandwidth quota of a cgroup, which is how a
 * container's CPU limit is held under Kubernetes. Preferred to the SIGSTOP/SIGCONT duty cycle
 * (duty-cycle.ts) wherever a cgroup can be made: the quota is work-conserving within a period,
 * so a request that arrives while the process is idle runs at once instead of waiting out a
 * stopped phase, and a short GC pause is not stretched by a whole stop. Measured here, one
 * replica at 0.2 cpu and 400 req/s: per-second p99 2–14 ms under the quota, 11–82 ms
 * duty-cycled.
 *
 * Each limited process gets a group of its own, `<cpu hierarchy>/stratum/<pid>`, removed when
 * the process has exited. Layout: cgroup v1 (`cpu.cfs_quota_us`, `cpu.cfs_period_us`) or v2
 * (`cpu.max`), found from /proc/self/mounts and /proc/self/cgroup.
 */
import { mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export type CgroupVersion = 'v1' | 'v2';

/** Where Stratum's groups go: `dir` is the `stratum` group under this process's own cpu group. */
export interface CpuHierarchy {
  readonly version: CgroupVersion;
  readonly dir: string;
}

/** The kernel's smallest quota (1 ms); and no period under 2 ms (see quotaFor). */
const MIN_US = 1000;
const MIN_PERIOD_US = 2000;

/**
 * Quota and period for `cpus` (a share, 0.5 = half a core): the shortest period whose quota
 * and whose throttled rest are each at least 1 ms, and at least 2 ms. Short, because a request
 * that finds the quota spent waits out the rest of the period: at 0.2 cpu, 4 ms in a 5 ms
 * period against 8 ms in a 10 ms one, and that wait is what a p99 near the edge of the quota
 * is made of. Not shorter, because below about 1 ms of rest the kernel's throttling loses
 * time: measured here, a quota of 1.5 ms per 2 ms gave a busy loop 0.61 of a core, 3 ms per
 * 4 ms gave 0.77.
 */
export function quotaFor(cpus: number): { quotaUs: number; periodUs: number } {
  if (!(cpus > 0)) throw new RangeError(`a CPU quota needs a share above 0, got ${cpus}`);
  const part = cpus - Math.floor(cpus);
  // 1 / (1 - 0.9) is 10.000000000000002: no period a microsecond longer for that.
  const ceil = (us: number): number => Math.ceil(us - 1e-6);
  const periodUs = Math.max(MIN_PERIOD_US, ceil(MIN_US / cpus), part > 0 ? ceil(MIN_US / (1 - part)) : 0);
  return { quotaUs: Math.round(cpus * periodUs), periodUs };
}

/**
 * The files to write, in order, to set a quota, or none (`quotaUs` null): the period first on
 * v1, which checks a quota against the period it has.
 */
export function quotaWrites(
  version: CgroupVersion,
  q: { quotaUs: number | null; periodUs: number },
): [string, string][] {
  return version === 'v1'
    ? [
        ['cpu.cfs_period_us', String(q.periodUs)],
        ['cpu.cfs_quota_us', String(q.quotaUs ?? -1)],
      ]
    : [['cpu.max', `${q.quotaUs ?? 'max'} ${q.periodUs}`]];
}

/**
 * The cpu hierarchy this process is in, from the text of /proc/self/mounts and /proc/self/cgroup;
 * v1's cpu controller first (it is where the controller is when both are mounted), else v2.
 */
export function cpuHierarchyOf(mounts: string, cgroups: string): CpuHierarchy | null {
  const lines = mounts.split('\n').map((l) => l.split(' '));
  const own = (match: (controllers: string[]) => boolean): string | undefined =>
    cgroups
      .split('\n')
      .map((l) => /^\d+:([^:]*):(.*)$/.exec(l))
      .find((m) => m && match(m[1]!.split(',')))?.[2];
  const v1 = lines.find(([, , type, opts]) => type === 'cgroup' && (opts ?? '').split(',').includes('cpu'));
  const v1Path = own((c) => c.includes('cpu'));
  if (v1 && v1Path !== undefined) return { version: 'v1', dir: join(v1[1]!, v1Path, 'stratum') };
  const v2 = lines.find(([, , type]) => type === 'cgroup2');
  const v2Path = own((c) => c.length === 1 && c[0] === '');
  if (v2 && v2Path !== undefined) return { version: 'v2', dir: join(v2[1]!, v2Path, 'stratum') };
  return null;
}

/** Sets the quota of the group in `dir` (quotaWrites). */
function writeQuota(dir: string, version: CgroupVersion, q: { quotaUs: number | null; periodUs: number }): void {
  for (const [file, value] of quotaWrites(version, q)) writeFileSync(join(dir, file), value);
}

/** The quota of the group in `dir` as the kernel holds it, e.g. "2000 10000" (µs of CPU per period; -1 or max: none). */
export function readQuota(dir: string, version: CgroupVersion): string {
  const read = (file: string): string => readFileSync(join(dir, file), 'utf8').trim();
  return version === 'v2' ? read('cpu.max') : `${read('cpu.cfs_quota_us')} ${read('cpu.cfs_period_us')}`;
}

/** Groups left by processes that are gone (a Stratum that was killed); a busy one is left alone. */
function sweep(h: CpuHierarchy): void {
  for (const name of readdirSync(h.dir).filter((n) => /^\d+$/.test(n))) {
    try {
      process.kill(Number(name), 0);
    } catch {
      try {
        rmdirSync(join(h.dir, name));
      } catch {
        // Not empty, or not ours.
      }
    }
  }
}

/**
 * Whether this process can make groups with a CPU quota here: makes `stratum` (and, on v2,
 * enables the cpu controller for it), then a probe group, sets a quota on it and removes it.
 */
export function probeCpuHierarchy(h: CpuHierarchy | null): CpuHierarchy | null {
  if (!h) return null;
  const probe = join(h.dir, `probe-${process.pid}`);
  try {
    mkdirSync(h.dir, { recursive: true });
    if (h.version === 'v2') {
      // v2 hands a controller down one level at a time: into `stratum`, then into its groups.
      try {
        writeFileSync(join(dirname(h.dir), 'cgroup.subtree_control'), '+cpu');
      } catch {
        // Already on, or refused (a group with processes of its own): the next write says which.
      }
      writeFileSync(join(h.dir, 'cgroup.subtree_control'), '+cpu');
    }
    mkdirSync(probe, { recursive: true });
    writeQuota(probe, h.version, quotaFor(0.5));
    sweep(h);
    return h;
  } catch {
    return null;
  } finally {
    try {
      rmdirSync(probe);
    } catch {
      // Never made.
    }
  }
}

let found: CpuHierarchy | null | undefined;

/** This machine's writable cpu hierarchy, or null (checked once). */
export function thisCpuHierarchy(): CpuHierarchy | null {
  if (found === undefined) {
    let mounts = '';
    let cgroups = '';
    try {
      mounts = readFileSync('/proc/self/mounts', 'utf8');
      cgroups = readFileSync('/proc/self/cgroup', 'utf8');
    } catch {
      // Not Linux.
    }
    found = probeCpuHierarchy(cpuHierarchyOf(mounts, cgroups));
  }
  return found;
}

export interface QuotaUsage {
  /** Periods the group ran in, and those it was throttled in (cpu.stat). */
  readonly periods: number;
  readonly throttled: number;
}

export class CpuQuota {
  private removed = false;

  private constructor(
    readonly dir: string,
    private readonly version: CgroupVersion,
    private readonly quota: { quotaUs: number; periodUs: number },
  ) {}

  private write(unlimited: boolean): void {
    if (this.removed) return; // the process is gone, and its group with it
    writeQuota(this.dir, this.version, unlimited ? { ...this.quota, quotaUs: null } : this.quota);
  }

  /** Moves `pid` (and the threads it starts from then on) into a new group holding it to `cpus`. */
  static apply(h: CpuHierarchy, pid: number, cpus: number): CpuQuota {
    const dir = join(h.dir, String(pid));
    mkdirSync(dir, { recursive: true });
    const quota = new CpuQuota(dir, h.version, quotaFor(cpus));
    try {
      quota.write(false);
      writeFileSync(join(dir, 'cgroup.procs'), String(pid));
    } catch (e) {
      quota.remove();
      throw e;
    }
    return quota;
  }

  /** Lets the group's processes run unthrottled until restore(). */
  lift(): void {
    this.write(true);
  }

  restore(): void {
    this.write(false);
  }

  /** The quota as the kernel holds it (readQuota). */
  setting(): string {
    return readQuota(this.dir, this.version);
  }

  usage(): QuotaUsage {
    const stat = readFileSync(join(this.dir, 'cpu.stat'), 'utf8');
    const n = (key: string): number => Number(new RegExp(`^${key} (\\d+)`, 'm').exec(stat)?.[1] ?? 0);
    return { periods: n('nr_periods'), throttled: n('nr_throttled') };
  }

  /** Removes the group; the kernel refuses while a process is in it, so call after the process exited. */
  remove(): void {
    if (this.removed) return;
    try {
      rmdirSync(this.dir);
      this.removed = true;
    } catch {
      // Still busy (the caller retries on exit) or already gone.
    }
  }
}
