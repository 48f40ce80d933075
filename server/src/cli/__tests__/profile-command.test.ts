/**
 * `stratum profile`: the QoS grammar, a local .onnx file profiled here, and a registered model
 * profiled by a control plane's ProfileService (a canned runner: the profiler itself is tested
 * in profiler/__tests__).
 */
import { connectNodeAdapter } from '@connectrpc/connect-node';
import { ProfileService } from '@stratum/proto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { createDualServer, type DualHandler } from '../../api/listener';
import { profileRoutes } from '../../api/profiles';
import { DEFAULT_TIERS } from '../../config/tiers';
import { threeTiers } from '../../profiler/__tests__/hand-built';
import { writeModel } from '../../profiler/__tests__/model';
import { ProfileRepo } from '../../profiler/repo';
import type { ProfileRunner } from '../../profiler/runner';
import { openDb } from '../../store/db';
import { ModelRepo } from '../../store/models';
import { ArtifactStore } from '../../store/artifacts';
import { EMPTY_INFO } from '../../store/model-info';
import { UsageError } from '../args';
import { parseQos, profile, PROFILE_COMMAND, sweepFlags } from '../profile-command';

function captured(isTTY = false) {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (s: string) => out.push(s), err: (s: string) => err.push(s), isTTY }, out, err };
}

describe('parseQos', () => {
  it('reads latencies with units (ms by default), a rate and a cost', () => {
    expect(parseQos('p99=20ms,rps=200')).toEqual({ p99Ms: 20, p95Ms: 0, p50Ms: 0, rps: 200, maxCostPerHour: 0 });
    expect(parseQos('p50=800us, p95=1.5s, p99=30, cost=$0.30/h')).toEqual({
      p99Ms: 30,
      p95Ms: 1500,
      p50Ms: 0.8,
      rps: 0,
      maxCostPerHour: 0.3,
    });
  });

  it('names the part it cannot read', () => {
    expect(() => parseQos('p99')).toThrow(new UsageError('--qos: "p99" is not KEY=VALUE'));
    expect(() => parseQos('p99=fast')).toThrow('--qos p99: not a duration: "fast" (e.g. 250ms, 1.5s, 800us)');
    expect(() => parseQos('rps=-1')).toThrow('--qos rps: expects a number ≥ 0, got "-1"');
    expect(() => parseQos('p90=1ms')).toThrow('--qos: unknown key "p90" (p99, p95, p50, rps, cost)');
    expect(() => sweepFlags({ concurrency: ['1', 'x'] })).toThrow(
      '--concurrency expects whole numbers ≥ 1 separated by commas, got "1,x"',
    );
    expect(PROFILE_COMMAND.flags.qos!.type).toBe('string');
  });
});

describe('stratum profile FILE.onnx', () => {
  it('profiles the file here: progress on stderr, tables and the recommendation on stdout', async () => {
    const c = captured();
    const code = await profile(
      [writeModel()],
      {
        tiers: ['fog'],
        qos: 'p99=60s,rps=5',
        'batch-sizes': ['1'],
        concurrency: ['2'],
        'window-ms': 100,
        'max-point-ms': 600,
      },
      c.io,
    );
    expect(code).toBe(0);
    expect(c.err[0]).toBe('fog: 1 cpu, 1 thread(s), 1024 MiB');
    expect(c.err[1]).toMatch(/^fog: loaded in \d+ ms, \d+ MiB resident$/);
    expect(c.err[2]).toMatch(/^\[1\/1\] fog batch 1 concurrency 2: [\d.]+ req\/s, p50 [\d.]+ ms, p99 [\d.]+ ms/);
    const text = c.out.join('\n');
    expect(text).toMatch(/^profile \w{8} of model:0 \([\d.]+ KiB\), [\d.]+ s; inputs: synthetic: x FP32 \[1,16\]/);
    expect(text).toMatch(
      /\nfog \(1 cpu, 1 thread, 1024 MiB, \$0\.10\/h\): loaded in \d+ ms, \d+ MiB after load, \d+ MiB peak\n/,
    );
    expect(text).toContain('\n  batch  conc  req/s');
    // The open-loop points (random arrivals at fixed rates) follow the closed-loop table.
    expect(text).toContain('\n  open loop (random arrivals at fixed rates):\n  batch  offered  req/s');
    expect(text).toContain('QoS p99 ≤ 60000 ms, 5.0 req/s:\n  ✓ fog: 1 replica at $0.10/h = $0.10/h;');
    expect(text).toMatch(
      /\nrecommendation: fog, 1 replica, batching off, \$0\.10\/h \(\$[\d.e-]+ per 1k requests\); expected p99 at 5\.0 req\/s: [\d.]+ ms \(open-loop\)$/,
    );
  });

  it('says when the file or a tier is not there', async () => {
    await expect(profile(['/nope/model.onnx'], {}, captured().io)).rejects.toThrow(
      'no such model file: /nope/model.onnx',
    );
    await expect(profile([writeModel()], { tiers: ['clod'] }, captured().io)).rejects.toThrow(
      'unknown tier "clod" (did you mean "cloud"?); tiers: cloud, fog, edge',
    );
  });
});

describe('stratum profile NAME', () => {
  it('asks the control plane, draws a bar on a terminal, and prints JSON with --json', async () => {
    const home = mkdtempSync(join(tmpdir(), 'stratum-profile-cli-'));
    const db = openDb(join(home, 'stratum.db'));
    const models = new ModelRepo(db);
    const lineage = {
      runId: '',
      trialId: '',
      specHash: '',
      dataHash: '',
      paramsJson: '{}',
      trainer: '',
      backend: '',
      candidate: '',
      versions: {},
    };
    models.register(
      {
        name: 'penguins',
        format: 'onnx',
        digest: `sha256:${'a'.repeat(64)}`,
        size: 649,
        metrics: {},
        lineage,
        info: EMPTY_INFO,
        source: 'imported',
      },
      1,
    );
    const canned = threeTiers();
    const asked: unknown[] = [];
    const runner: ProfileRunner = async function* (job) {
      asked.push(job.settings);
      const fog = canned.tiers[1]!;
      yield { kind: 'tier-start', tier: 'fog', message: 'fog: 1 cpu' };
      yield { kind: 'point', tier: 'fog', point: fog.points[0]!, done: 1, total: 2 };
      yield { kind: 'point', tier: 'fog', point: fog.points[1]!, done: 2, total: 2 };
      yield { kind: 'done', profile: canned };
    };
    const routes = profileRoutes({
      models,
      artifacts: new ArtifactStore(join(home, 'a'), db),
      profiles: new ProfileRepo(db),
      tiers: () => [...DEFAULT_TIERS],
      runner,
    });
    const server = createDualServer(
      connectNodeAdapter({ routes: (r) => r.service(ProfileService, routes) }) as DualHandler,
    );
    const { port } = await server.listen(0, '127.0.0.1');
    try {
      const c = captured(true);
      const flags = {
        server: `http://127.0.0.1:${port}`,
        token: 't',
        qos: 'p99=10ms,rps=1000',
        concurrency: ['4'],
        json: true,
      };
      expect(await profile(['penguins'], flags, c.io)).toBe(0);
      expect(asked).toEqual([{ ...canned.settings, concurrency: [4] }]);
      expect(c.err[0]).toBe('fog: 1 cpu');
      expect(c.err[1]).toBe(`[${'█'.repeat(15)}${'░'.repeat(15)}]  50%  1/2  fog batch 1 × 1: 600 req/s, p99 4.00 ms`);
      expect(c.err[2]).toBe(`\x1b[1A\x1b[J[${'█'.repeat(30)}] 100%  2/2  fog batch 1 × 4: 1500 req/s, p99 9.00 ms`);
      const out = JSON.parse(c.out.join('\n')) as { profile: { id: string }; report: { best: { tier: string } } };
      expect(out.profile.id).toBe(canned.id);
      expect(out.report.best.tier).toBe('fog');
    } finally {
      await server.close();
      db.close();
    }
  });
});
