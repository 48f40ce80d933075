import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';

import { DEFAULT_TIERS } from '../../config/tiers';
import { CpuQuota, cpuHierarchyOf, quotaFor, quotaWrites, thisCpuHierarchy } from '../cpu-quota';
import { DutyCycle } from '../duty-cycle';
import { emulationPlan, limitedCommand, thisMachine } from '../emulation';
import { readMemory } from '../tier-replica';
import { expectHeldToShare } from './limits';

const [cloud, fog, edge] = DEFAULT_TIERS.map((t) => ({ cpus: t.cpus, threads: t.threads, memoryMb: t.memoryMb }));
const twoCores = { cpuCount: 2, taskset: true };
const v1 = { version: 'v1', dir: '/sys/fs/cgroup/cpu/stratum' } as const;

describe('emulationPlan', () => {
  it('pins whole cores and duty-cycles the share below them where no cgroup can be made', () => {
    expect(emulationPlan(cloud!, twoCores)).toMatchObject({ cpuset: [0, 1], duty: 1, threads: 2, memoryMb: 4096 });
    expect(emulationPlan(fog!, twoCores)).toMatchObject({ cpuset: [1], duty: 1, threads: 1 });
    const e = emulationPlan(edge!, twoCores);
    expect(e).toMatchObject({ cpuset: [1], duty: 0.5, periodMs: 10, threads: 1, memoryMb: 256 });
    expect(e.share).toEqual({ by: 'duty-cycle' });
    expect(e.notes).toEqual([
      'pinned to core 1 (taskset)',
      'duty-cycled: runs 5 ms of every 10 ms (SIGCONT/SIGSTOP; no writable cgroup for a CPU quota), 50% of its core',
      '1 onnxruntime thread',
      'memory cap 256 MiB, checked against the peak resident set (VmHWM)',
    ]);
    expect(emulationPlan({ cpus: 1.5, threads: 2, memoryMb: 1 }, { cpuCount: 4, taskset: true }).duty).toBe(0.75);
  });

  it('holds a share below the cores with a CFS quota where a cgroup can be made', () => {
    const e = emulationPlan(edge!, { ...twoCores, cpuQuota: v1 });
    expect(e.share).toEqual({ by: 'cfs-quota', cpus: 0.5, hierarchy: v1 });
    expect(e.notes[1]).toBe('CFS quota: 1 ms of CPU time per 2 ms (cgroup v1), 50% of its core');
    // Not pinned, the quota is the tier's cpus over all the cores.
    const loose = emulationPlan(fog!, { cpuCount: 2, taskset: false, cpuQuota: v1 });
    expect(loose.share).toEqual({ by: 'cfs-quota', cpus: 1, hierarchy: v1 });
    expect(loose.notes[1]).toBe('CFS quota: 2 ms of CPU time per 2 ms (cgroup v1), 50% of its cores');
    // Whole cores need no share.
    expect(emulationPlan(cloud!, { ...twoCores, cpuQuota: v1 }).share).toBeNull();
    expect(emulationPlan(fog!, { ...twoCores, cpuQuota: v1 }).share).toBeNull();
  });

  it('spreads replicas of a tier over the cores by slot', () => {
    expect([0, 1, 2].map((slot) => emulationPlan(fog!, twoCores, slot).cpuset)).toEqual([[1], [0], [1]]);
    expect(emulationPlan(cloud!, { cpuCount: 8, taskset: true }, 1).cpuset).toEqual([4, 5]);
  });

  it('without taskset, holds the limit by the CPU share alone, and says so', () => {
    const p = emulationPlan(fog!, { cpuCount: 2, taskset: false });
    expect(p).toMatchObject({ cpuset: null, duty: 0.5 });
    expect(p.notes[0]).toBe(
      'taskset (util-linux) not found: no CPU affinity; the CPU share alone holds the limit (1 of 2 cores)',
    );
    expect(emulationPlan({ cpus: 8, threads: 8, memoryMb: 1 }, twoCores).notes[0]).toBe(
      'the tier asks for 8 cpus; this machine has 2, so the replica gets all 2',
    );
  });

  it('puts taskset in front of the command only when pinning', () => {
    expect(limitedCommand({ cpuset: [0, 1] }, 'node', ['x.js'])).toEqual({
      command: 'taskset',
      args: ['-c', '0,1', 'node', 'x.js'],
    });
    expect(limitedCommand({ cpuset: null }, 'node', ['x.js'])).toEqual({ command: 'node', args: ['x.js'] });
  });
});

describe('CPU quota settings', () => {
  it('turns a share into a quota in the shortest period that keeps quota and rest at 1 ms or more', () => {
    expect(quotaFor(0.5)).toEqual({ quotaUs: 1000, periodUs: 2000 });
    expect(quotaFor(0.2)).toEqual({ quotaUs: 1000, periodUs: 5000 });
    expect(quotaFor(0.1)).toEqual({ quotaUs: 1000, periodUs: 10000 });
    expect(quotaFor(0.05)).toEqual({ quotaUs: 1000, periodUs: 20000 });
    // The throttled rest stays at 1 ms or more.
    expect(quotaFor(0.75)).toEqual({ quotaUs: 3000, periodUs: 4000 });
    expect(quotaFor(0.9)).toEqual({ quotaUs: 9000, periodUs: 10000 });
    expect(quotaFor(1)).toEqual({ quotaUs: 2000, periodUs: 2000 });
    expect(quotaFor(1.5)).toEqual({ quotaUs: 3000, periodUs: 2000 });
    expect(() => quotaFor(0)).toThrow('a CPU quota needs a share above 0, got 0');
  });

  it('writes the period before the quota on v1, one cpu.max on v2', () => {
    expect(quotaWrites('v1', { quotaUs: 2000, periodUs: 10000 })).toEqual([
      ['cpu.cfs_period_us', '10000'],
      ['cpu.cfs_quota_us', '2000'],
    ]);
    expect(quotaWrites('v2', { quotaUs: 2000, periodUs: 10000 })).toEqual([['cpu.max', '2000 10000']]);
    // No quota: what lift() writes.
    expect(quotaWrites('v1', { quotaUs: null, periodUs: 10000 })).toEqual([
      ['cpu.cfs_period_us', '10000'],
      ['cpu.cfs_quota_us', '-1'],
    ]);
    expect(quotaWrites('v2', { quotaUs: null, periodUs: 10000 })).toEqual([['cpu.max', 'max 10000']]);
  });

  it('finds the cpu hierarchy this process is in: v1’s cpu controller first, else v2', () => {
    const hybrid = [
      'tmpfs /sys/fs/cgroup tmpfs rw,relatime,mode=755 0 0',
      'cgroup /sys/fs/cgroup/cpu,cpuacct cgroup rw,nosuid,nodev,noexec,relatime,cpu,cpuacct 0 0',
      'cgroup /sys/fs/cgroup/memory cgroup rw,relatime,memory 0 0',
      'cgroup2 /sys/fs/cgroup/unified cgroup2 rw,relatime 0 0',
    ].join('\n');
    const inV1 = '5:memory:/a\n3:cpu,cpuacct:/user.slice/jupyter\n0::/user.slice\n';
    expect(cpuHierarchyOf(hybrid, inV1)).toEqual({
      version: 'v1',
      dir: '/sys/fs/cgroup/cpu,cpuacct/user.slice/jupyter/stratum',
    });
    const unified = 'cgroup2 /sys/fs/cgroup cgroup2 rw,nosuid,nodev,noexec,relatime 0 0\n';
    expect(cpuHierarchyOf(unified, '0::/\n')).toEqual({ version: 'v2', dir: '/sys/fs/cgroup/stratum' });
    expect(cpuHierarchyOf(unified, '0::/system.slice/lab.service\n')).toEqual({
      version: 'v2',
      dir: '/sys/fs/cgroup/system.slice/lab.service/stratum',
    });
    expect(cpuHierarchyOf('proc /proc proc rw 0 0\n', '')).toBeNull();
  });
});

/** CPU time (user + system) a process has used, in ms, from /proc/<pid>/stat (clock ticks of 10 ms). */
const cpuMs = (pid: number): number => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8')
    .replace(/^.*\) /, '')
    .split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
};

describe('CpuQuota on this machine', () => {
  it('holds a busy process to its share, or leaves the duty cycle to where no cgroup can be made', async () => {
    const h = thisCpuHierarchy();
    const plan = emulationPlan(edge!, thisMachine());
    console.log(`cpu hierarchy here: ${h ? `${h.version} ${h.dir}` : 'none writable'}; edge: ${plan.notes.join('; ')}`);
    if (!h) {
      expect(plan.share).toEqual({ by: 'duty-cycle' });
      return;
    }
    expect(plan.share).toEqual({ by: 'cfs-quota', cpus: 0.5, hierarchy: h });
    const child = spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    const quota = CpuQuota.apply(h, child.pid!, 0.2);
    try {
      expect(quota.setting()).toBe('1000 5000');
      expect(
        await expectHeldToShare(child.pid!, { ...plan, share: { by: 'cfs-quota', cpus: 0.2, hierarchy: h } }),
      ).toBe(`in ${quota.dir}, quota 1000 5000 (µs per period)`);
      const before = cpuMs(child.pid!);
      const t0 = performance.now();
      await new Promise((r) => setTimeout(r, 1500));
      const share = (cpuMs(child.pid!) - before) / (performance.now() - t0);
      console.log(`busy loop under a 0.2 cpu quota: ${share.toFixed(3)} of a core; ${JSON.stringify(quota.usage())}`);
      // A busy loop alone would take a whole core; the kernel holds it near 0.2 (ticks are 10 ms).
      expect(share).toBeLessThan(0.35);
      expect(share).toBeGreaterThan(0.05);
      expect(quota.usage().throttled).toBeGreaterThan(10);
      quota.lift();
      expect(quota.setting()).toBe(h.version === 'v1' ? '-1 5000' : 'max 5000');
      quota.restore();
      expect(quota.setting()).toBe('1000 5000');
      quota.remove();
      expect(existsSync(quota.dir)).toBe(true); // refused while the process is in it
    } finally {
      child.kill('SIGKILL');
      await exited;
    }
    quota.remove();
    expect(existsSync(quota.dir)).toBe(false);
  });
});

const stateOf = (pid: number): string => /^State:\s+(\S)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]!;

describe('DutyCycle', () => {
  it('stops and continues a process, and leaves it running when stopped', async () => {
    const child = spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    try {
      const cycle = DutyCycle.start(child.pid!, 0.3, 10);
      const seen = new Set<string>();
      for (let i = 0; i < 200 && seen.size < 2; i++) {
        seen.add(stateOf(child.pid!) === 'T' ? 'stopped' : 'running');
        await new Promise((r) => setTimeout(r, 1));
      }
      expect(seen).toEqual(new Set(['stopped', 'running']));
      await cycle.stop();
      expect(stateOf(child.pid!)).not.toBe('T');
      expect(readMemory(child.pid!)?.hwmMb).toBeGreaterThan(1);
    } finally {
      child.kill('SIGKILL');
      await exited;
    }
    expect(readMemory(child.pid!)).toBeNull();
    expect(() => DutyCycle.start(1, 1, 10)).toThrow('a duty cycle runs a share in (0, 1), got 1');
  });
});
