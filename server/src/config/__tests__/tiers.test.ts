import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import {
  DEFAULT_TIERS,
  emulatedTierWorkers,
  loadTiers,
  mergeTiers,
  parseTiersFile,
  selectTiers,
  TierFileError,
} from '../tiers';

const problems = (text: string): readonly string[] => {
  try {
    parseTiersFile(text, 'tiers.yaml');
  } catch (e) {
    if (e instanceof TierFileError) return e.problems;
    throw e;
  }
  throw new Error('no problems reported');
};

describe('parseTiersFile', () => {
  it('reads tiers with quantities, defaults for the optional fields, and JSON too', () => {
    expect(
      parseTiersFile(
        'tiers:\n  - name: jetson\n    cpus: 4\n    memory: 8Gi\n    gpus: 1\n    costPerHour: 0.05\n    labels: { arch: arm64 }\n',
        'tiers.yaml',
      ),
    ).toEqual([
      { name: 'jetson', cpus: 4, threads: 4, memoryMb: 8192, gpus: 1, costPerHour: 0.05, labels: { arch: 'arm64' } },
    ]);
    expect(parseTiersFile('{"tiers": [{"name": "pi", "cpus": 0.25, "memoryMb": 128}]}', 'tiers.json')).toEqual([
      { name: 'pi', cpus: 0.25, threads: 1, memoryMb: 128, gpus: 0, costPerHour: 0, labels: {} },
    ]);
  });

  it('fills a default tier from its defaults when only some fields are given', () => {
    expect(parseTiersFile('tiers:\n  - { name: edge, memory: 512Mi }\n', 'tiers.yaml')).toEqual([
      { ...DEFAULT_TIERS[2], memoryMb: 512 },
    ]);
  });

  it('reports every problem with file, line:column and field', () => {
    expect(
      problems(
        [
          'tiers:',
          '  - name: Edge Box',
          '    cpus: two',
          '    memory: 1 lot',
          '  - name: fog2',
          '    cpu: 1',
          '    memoryMb: 256',
          '    threads: 1.5',
          '  - name: fog2',
          '    cpus: 1',
          '    memoryMb: 64',
          '    labels: { zone: 3 }',
          'extra: 1',
        ].join('\n'),
      ),
    ).toEqual([
      'tiers.yaml:13:1: extra: unknown key (only "tiers" is read)',
      'tiers.yaml:2:11: tiers[0].name: must be lowercase letters, digits and dashes (at most 32), got "Edge Box"',
      'tiers.yaml:3:11: tiers[0].cpus: must be a number > 0, got "two"',
      'tiers.yaml:4:13: tiers[0].memory: not a size: "1 lot" (e.g. 512Mi, 2Gi, 1GB, or a number of MiB)',
      'tiers.yaml:6:5: tiers[1].cpu: unknown key (did you mean "cpus"?); a tier has name, cpus, threads, memory, memoryMb, gpus, costPerHour, labels',
      'tiers.yaml:5:5: tiers[1].cpus: is required (a number > 0)',
      'tiers.yaml:8:14: tiers[1].threads: must be a whole number ≥ 1, got 1.5',
      'tiers.yaml:12:13: tiers[2].labels: must map names to strings, got {"zone":3}',
    ]);
  });

  it('says what is wrong with the file as a whole', () => {
    expect(problems('- name: x\n')).toEqual([
      'tiers.yaml:1:1: tiers: the file must hold a list under "tiers:" (see DEFAULT_TIERS)',
    ]);
    expect(problems('tiers: [\n')[0]).toMatch(/^tiers\.yaml:\d+:\d+: Flow sequence/);
    expect(problems('tiers:\n  - { name: a, cpus: 1, memoryMb: 1 }\n  - { name: a, cpus: 1, memoryMb: 1 }\n')).toEqual([
      'tiers.yaml:3:13: tiers[1].name: tier "a" is defined twice',
    ]);
  });
});

describe('loading and choosing tiers', () => {
  it('applies $STRATUM_HOME/tiers.yaml over the defaults', () => {
    const home = mkdtempSync(join(tmpdir(), 'stratum-tiers-'));
    expect(loadTiers(home)).toEqual(DEFAULT_TIERS);
    writeFileSync(
      join(home, 'tiers.yaml'),
      'tiers:\n  - { name: fog, cpus: 1.5 }\n  - { name: pi, cpus: 0.25, memory: 128Mi }\n',
    );
    expect(loadTiers(home).map((t) => [t.name, t.cpus, t.memoryMb])).toEqual([
      ['cloud', 2, 4096],
      ['fog', 1.5, 1024],
      ['edge', 0.5, 256],
      ['pi', 0.25, 128],
    ]);
    writeFileSync(join(home, 'tiers.yaml'), 'tiers:\n  - { name: pi, cpus: 0, memoryMb: 64 }\n');
    expect(() => loadTiers(home)).toThrow(
      `${join(home, 'tiers.yaml')}:2:23: tiers[0].cpus: must be a number > 0, got 0`,
    );
  });

  it('merges by name and selects in the order asked, suggesting a near name', () => {
    const merged = mergeTiers(DEFAULT_TIERS, [{ ...DEFAULT_TIERS[0]!, costPerHour: 1 }]);
    expect(merged[0]!.costPerHour).toBe(1);
    expect(selectTiers(merged, ['edge', 'cloud']).map((t) => t.name)).toEqual(['edge', 'cloud']);
    expect(selectTiers(merged, [])).toHaveLength(3);
    expect(() => selectTiers(merged, ['edg'])).toThrow(
      'unknown tier "edg" (did you mean "edge"?); tiers: cloud, fog, edge',
    );
  });

  it('describes one emulated local worker per tier', () => {
    expect(emulatedTierWorkers(DEFAULT_TIERS.slice(2))).toEqual([
      {
        name: 'local-edge',
        tier: 'edge',
        resources: { cpus: 0.5, memoryMb: 256, gpus: 0 },
        labels: { tier: 'edge', emulated: 'true' },
        limits: { cpus: 0.5, threads: 1, memoryMb: 256 },
      },
    ]);
  });
});
