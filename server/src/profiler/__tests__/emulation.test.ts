import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

import { DEFAULT_TIERS } from '../../config/tiers';
import { DutyCycle } from '../duty-cycle';
import { emulationPlan, limitedCommand } from '../emulation';
import { readMemory } from '../tier-replica';

const [cloud, fog, edge] = DEFAULT_TIERS.map((t) => ({ cpus: t.cpus, threads: t.threads, memoryMb: t.memoryMb }));
const twoCores = { cpuCount: 2, taskset: true };

describe('emulationPlan', () => {
  it('pins whole cores and duty-cycles the share below them', () => {
    expect(emulationPlan(cloud!, twoCores)).toMatchObject({ cpuset: [0, 1], duty: 1, threads: 2, memoryMb: 4096 });
    expect(emulationPlan(fog!, twoCores)).toMatchObject({ cpuset: [1], duty: 1, threads: 1 });
    const e = emulationPlan(edge!, twoCores);
    expect(e).toMatchObject({ cpuset: [1], duty: 0.5, periodMs: 10, threads: 1, memoryMb: 256 });
    expect(e.notes).toEqual([
      'pinned to core 1 (taskset)',
      'duty-cycled: runs 5 ms of every 10 ms (SIGCONT/SIGSTOP), 50% of its core',
      '1 onnxruntime thread',
      'memory cap 256 MiB, checked against the peak resident set (VmHWM)',
    ]);
    expect(emulationPlan({ cpus: 1.5, threads: 2, memoryMb: 1 }, { cpuCount: 4, taskset: true }).duty).toBe(0.75);
  });

  it('spreads replicas of a tier over the cores by slot', () => {
    expect([0, 1, 2].map((slot) => emulationPlan(fog!, twoCores, slot).cpuset)).toEqual([[1], [0], [1]]);
    expect(emulationPlan(cloud!, { cpuCount: 8, taskset: true }, 1).cpuset).toEqual([4, 5]);
  });

  it('without taskset, holds the share by the duty cycle alone, and says so', () => {
    const p = emulationPlan(fog!, { cpuCount: 2, taskset: false });
    expect(p).toMatchObject({ cpuset: null, duty: 0.5 });
    expect(p.notes[0]).toBe(
      'taskset (util-linux) not found: no CPU affinity; the share is held by the duty cycle alone (1 of 2 cores)',
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
