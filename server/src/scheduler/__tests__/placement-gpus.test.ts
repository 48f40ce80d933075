/** Trials that ask for GPUs go only where GPU slots are free; CPU trials never wait behind them. */
import { canEverRun, pickTrial, type PlacementTrial, type PlacementWorker } from '../placement';

const gpuWorker = (gpus: number, usedGpus: number): PlacementWorker => ({
  id: 'g',
  tier: 'cloud',
  total: { cpus: 8, memoryMb: 32768, gpus },
  used: { cpus: 1, memoryMb: 1024, gpus: usedGpus },
  trainers: [],
});
const trial = (id: string, gpus: number): PlacementTrial => ({
  id,
  trainer: 'external',
  resources: { cpus: 1, memoryMb: 1024, gpus },
});

describe('placement of GPU trials', () => {
  it('places a trial on free GPU slots only', () => {
    expect(pickTrial([trial('one', 1)], gpuWorker(2, 1))?.id).toBe('one');
    expect(pickTrial([trial('two', 2)], gpuWorker(2, 1))).toBeUndefined();
    expect(pickTrial([trial('two', 2)], gpuWorker(2, 0))?.id).toBe('two');
    expect(pickTrial([trial('one', 1)], gpuWorker(2, 2))).toBeUndefined();
  });

  it('lets a CPU trial pass a GPU trial that does not fit now', () => {
    expect(pickTrial([trial('gpu', 1), trial('cpu', 0)], gpuWorker(1, 1))?.id).toBe('cpu');
  });

  it('never offers a GPU trial to a worker without GPUs, however idle', () => {
    expect(canEverRun(trial('gpu', 1), gpuWorker(0, 0))).toBe(false);
    expect(canEverRun(trial('gpu', 4), gpuWorker(2, 0))).toBe(false);
    expect(canEverRun(trial('gpu', 2), gpuWorker(2, 2))).toBe(true);
  });
});
