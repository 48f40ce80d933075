/**
 * What the tests observe of a process held to its tier's CPU share, whichever way this machine
 * holds it: in its own cgroup with the plan's quota, or duty-cycled (some looks at it find it
 * stopped, state T).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { quotaFor, readQuota } from '../cpu-quota';
import type { EmulationPlan } from '../emulation';

/** Of 200 looks at the process's state about 2 ms apart, how many found it stopped (T). */
export async function stoppedSamples(pid: number): Promise<number> {
  let stopped = 0;
  for (let i = 0; i < 200; i++) {
    if (/^\d+ \(.*\) T/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))) stopped++;
    await new Promise((r) => setTimeout(r, 2));
  }
  return stopped;
}

/** Asserts that `pid` is held to the plan's share; says how, for the test's log. */
export async function expectHeldToShare(pid: number, plan: EmulationPlan): Promise<string> {
  const share = plan.share;
  if (share?.by === 'cfs-quota') {
    const dir = join(share.hierarchy.dir, String(pid));
    const procs = readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').map(Number);
    expect(procs).toContain(pid);
    const q = quotaFor(share.cpus);
    const setting = `${q.quotaUs} ${q.periodUs}`;
    expect(readQuota(dir, share.hierarchy.version)).toBe(setting);
    return `in ${dir}, quota ${setting} (µs per period)`;
  }
  expect(share).toEqual({ by: 'duty-cycle' });
  const stopped = await stoppedSamples(pid);
  expect(stopped).toBeGreaterThan(0);
  return `duty-cycled: stopped in ${stopped}/200 samples`;
}
