/**
 * `stratum serve --tiers`: each tier's worker is emulated, so a replica deployed on edge runs
 * under edge's limits. Observed on the real replica process through /proc.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { DEFAULT_TIERS } from '../../config/tiers';
import { emulationPlan, thisMachine } from '../../profiler/emulation';
import { cli, cliJson, freePort, REPO, serve, stop, tempHome, waitFor, GENTOO } from './harness';

interface ReplicaJson {
  workerId: string;
  state: string;
  pid?: number;
}

describe('serve --tiers', () => {
  it('runs a replica on the edge worker under edge’s limits, and it answers', async () => {
    const home = tempHome();
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const server = await serve(home, port, ['--tiers', 'cloud,edge']);
    try {
      const run = cli(['run', join(REPO, 'examples', 'penguins.yaml')], home, url);
      expect(run.code).toBe(0);
      const workers = cliJson<{
        workers: { id: string; name: string; tier: string; labels?: Record<string, string> }[];
      }>(['workers'], home, url).workers;
      const edge = workers.find((w) => w.tier === 'edge')!;
      expect(edge.labels).toMatchObject({ emulated: 'true' });
      const d = cliJson<{ endpoint: string }>(
        ['deploy', 'penguins', '--tier', 'edge', '--min', '1', '--max', '1'],
        home,
        url,
      );
      const replica = await waitFor('a ready replica', () =>
        cliJson<{ replicas?: ReplicaJson[] }[]>(['deployments'], home, url)[0]!.replicas?.find(
          (r) => r.state === 'STATE_READY',
        ),
      );
      expect(replica.workerId).toBe(edge.id);
      const limits = DEFAULT_TIERS.find((t) => t.name === 'edge')!;
      const plan = emulationPlan(limits, thisMachine());
      const status = readFileSync(`/proc/${replica.pid}/status`, 'utf8');
      const allowed = /^Cpus_allowed_list:\s+(\S+)$/m.exec(status)?.[1];
      console.log(`edge replica pid ${replica.pid}: cores ${allowed}; ${plan.notes.join('; ')}`);
      if (plan.cpuset) expect(allowed).toBe(plan.cpuset.join(','));
      const res = await fetch(`${d.endpoint}/v2/models/penguins/predict`, {
        method: 'POST',
        body: JSON.stringify({
          rows: [GENTOO],
        }),
      });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { predictions: string[] }).predictions).toEqual(['Gentoo']);
    } finally {
      await stop(server);
    }
  });
});
