/**
 * Replicas on an emulated tier worker run under the tier's limits, observed on the real
 * replica processes through /proc: the cores they may run on, their thread flag, their CPU
 * share (their own cgroup's quota, or the duty cycle's stops), and a model over the tier's
 * memory reported as not fitting, without restarts.
 */
import { create } from '@bufbuild/protobuf';
import { ReplicaAssignmentSchema, type ReplicaStatus } from '@stratum/proto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { WarmPool } from '../../deploy/warm-pool';
import { waitFor } from '../../cli/__tests__/harness';
import { inferBody, http, tinyAnswer, tinyModelFile } from '../../deploy/gateway/__tests__/harness';
import { emulationPlan, thisMachine, type TierLimits } from '../../profiler/emulation';
import { expectHeldToShare } from '../../profiler/__tests__/limits';
import { replicaMainPath } from '../../profiler/tier-replica';
import { silentLogger } from '../../util/log';
import { ReplicaHost } from '../replica-host';

const modelPath = tinyModelFile();
const warmScript = join(__dirname, '..', '..', '..', 'dist', 'deploy', 'warm-replica-main.js');
const env = { ...process.env, STRATUM_LOG_LEVEL: 'warn' };
const EDGE: TierLimits = { cpus: 0.5, threads: 1, memoryMb: 2048 };

const assignment = (id: string) =>
  create(ReplicaAssignmentSchema, {
    replicaId: id,
    deployment: 'tiny',
    modelName: 'tiny',
    modelVersion: 2,
    modelDigest: 'sha256:tiny',
    maxBatchSize: 4,
    maxQueueDelayMs: 1,
    // The plan's cpus would give 2 threads; the tier's thread count wins.
    resources: { cpus: 2, memoryMb: 512n, gpus: 0 },
  });

const procField = (pid: number, key: string): string =>
  new RegExp(`^${key}:\\s+(.*)$`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]?.trim() ?? '';

function hostWith(limits: TierLimits, pool?: WarmPool): ReplicaHost {
  return new ReplicaHost({
    fetchModel: () => Promise.resolve(modelPath),
    onChange: () => undefined,
    log: silentLogger(),
    replicaMain: replicaMainPath(),
    limits,
    ...(pool ? { pool } : {}),
  });
}

const statusOf = (host: ReplicaHost, id: string): ReplicaStatus | undefined =>
  host.statuses().find((s) => s.replicaId === id);

describe('replicas on an emulated tier worker', () => {
  const machine = thisMachine();
  const plan = emulationPlan(EDGE, machine);
  let host: ReplicaHost | undefined;

  afterEach(async () => {
    await host?.stopAll();
    host = undefined;
  });

  it('run pinned to the tier’s cores, with its threads and its CPU share, and still answer', async () => {
    host = hostWith(EDGE);
    host.reconcile([assignment('r-1')]);
    const ready = await waitFor('the replica ready', () =>
      statusOf(host!, 'r-1')?.state === 'ready' ? statusOf(host!, 'r-1') : undefined,
    );
    const pid = ready.pid;
    if (plan.cpuset) expect(procField(pid, 'Cpus_allowed_list')).toBe(plan.cpuset.join(','));
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    expect(argv[argv.indexOf('--threads') + 1]).toBe('1');
    // Held to half its core.
    console.log(`edge replica pid ${pid}: ${plan.notes.join('; ')}; ${await expectHeldToShare(pid, plan)}`);
    const res = await http(`${ready.url}/v2/models/tiny/infer`, { body: JSON.stringify(inferBody([[1, 2, 3, 4]])) });
    expect(res.status).toBe(200);
    res
      .json<{ outputs: { data: number[] }[] }>()
      .outputs[0]!.data.forEach((v, i) => expect(v).toBeCloseTo(tinyAnswer([1, 2, 3, 4])[i]!, 5));
    // Unassigned: it drains and leaves, under its share.
    host.reconcile([]);
    await waitFor('the replica gone', () => (host!.statuses().length === 0 ? true : undefined));
    expect(() => process.kill(pid, 0)).toThrow();
  });

  it('reports a model over the tier’s memory as not fitting, kills it, and does not restart it', async () => {
    host = hostWith({ ...EDGE, memoryMb: 16 });
    host.reconcile([assignment('r-big')]);
    const failed = await waitFor('the replica reported', () => {
      const s = statusOf(host!, 'r-big');
      return s?.state === 'unavailable' ? s : undefined;
    });
    expect(failed.reason).toMatch(/^does not fit: reached \d+ MiB, over the tier's 16 MiB memory$/);
    const pid = failed.pid;
    await waitFor('the process killed', () => {
      try {
        process.kill(pid, 0);
        return undefined;
      } catch {
        return true;
      }
    });
    // The control plane keeps assigning it; nothing starts again and the reason stays.
    host.reconcile([assignment('r-big')]);
    await new Promise((r) => setTimeout(r, 1000));
    expect(host.statuses()).toHaveLength(1);
    expect(statusOf(host, 'r-big')).toMatchObject({ state: 'unavailable', reason: failed.reason, pid });
    // Unassigned, it is simply gone: there is no process left to drain.
    host.reconcile([]);
    expect(host.statuses()).toEqual([]);
  });

  it('starts warm pool processes under the same limits', async () => {
    const pool = new WarmPool({ size: 1, script: warmScript, env, limits: EDGE, refillDelayMs: 50 });
    await pool.start();
    host = hostWith(EDGE, pool);
    host.reconcile([assignment('r-warm')]);
    const ready = await waitFor('the pooled replica ready', () =>
      statusOf(host!, 'r-warm')?.state === 'ready' ? statusOf(host!, 'r-warm') : undefined,
    );
    if (plan.cpuset) expect(procField(ready.pid, 'Cpus_allowed_list')).toBe(plan.cpuset.join(','));
    const argv = readFileSync(`/proc/${ready.pid}/cmdline`, 'utf8').split('\0');
    expect(argv).toContain(warmScript);
    // Held to its share from its load on (while it waited it was idle, and left alone).
    console.log(`pooled edge replica pid ${ready.pid}: ${await expectHeldToShare(ready.pid, plan)}`);
    const res = await http(`${ready.url}/v2/models/tiny/infer`, { body: JSON.stringify(inferBody([[1, 2, 3, 4]])) });
    expect(res.status).toBe(200);
  });
});
