import { detectGpus, GpuSlots, NVIDIA_SMI_ARGS, parseNvidiaSmi, visibleGpus, workerGpus } from '../gpus';

// What `nvidia-smi --query-gpu=index,name,memory.total --format=csv,noheader` prints.
const TWO = '0, NVIDIA A100-SXM4-80GB, 81920 MiB\n1, NVIDIA A100-SXM4-80GB, 81920 MiB\n';

describe('parseNvidiaSmi', () => {
  it('reads index, name and memory per line', () => {
    expect(parseNvidiaSmi(TWO)).toEqual([
      { index: '0', name: 'NVIDIA A100-SXM4-80GB', memoryMb: 81920 },
      { index: '1', name: 'NVIDIA A100-SXM4-80GB', memoryMb: 81920 },
    ]);
  });

  it('keeps commas inside names, tolerates CRLF and blank lines, and unknown memory', () => {
    expect(parseNvidiaSmi('\r\n3, Tesla T4, rev, B, 15360 MiB\r\n7, GPU X, [N/A]\r\n')).toEqual([
      { index: '3', name: 'Tesla T4, rev, B', memoryMb: 15360 },
      { index: '7', name: 'GPU X', memoryMb: 0 },
    ]);
  });

  it('reads nothing from empty output and refuses lines that are not GPUs', () => {
    expect(parseNvidiaSmi('')).toEqual([]);
    expect(() => parseNvidiaSmi('No devices were found')).toThrow(/cannot read/);
    expect(() => parseNvidiaSmi('GPU-abc, name, 1 MiB')).toThrow(/not a GPU index/);
  });
});

describe('visibleGpus', () => {
  const gpus = parseNvidiaSmi('0, A, 1 MiB\n1, B, 1 MiB\n2, C, 1 MiB\n');
  it('keeps all without CUDA_VISIBLE_DEVICES, those listed with it, none when it is empty', () => {
    expect(visibleGpus(gpus, undefined)).toHaveLength(3);
    expect(visibleGpus(gpus, '2,0').map((g) => g.index)).toEqual(['2', '0']);
    expect(visibleGpus(gpus, '')).toEqual([]);
  });
  it('counts UUID entries', () => {
    expect(visibleGpus(gpus, 'GPU-1234,GPU-5678')).toHaveLength(2);
  });
});

describe('detectGpus', () => {
  it('runs nvidia-smi with the query and honours CUDA_VISIBLE_DEVICES', () => {
    const calls: string[][] = [];
    const found = detectGpus({ CUDA_VISIBLE_DEVICES: '1' }, (cmd, args) => {
      calls.push([cmd, ...args]);
      return { status: 0, stdout: TWO };
    });
    expect(calls).toEqual([['nvidia-smi', ...NVIDIA_SMI_ARGS]]);
    expect(found.map((g) => g.index)).toEqual(['1']);
  });
  it('finds none when nvidia-smi is missing or fails', () => {
    expect(detectGpus({}, () => ({ status: null, stdout: '' }))).toEqual([]);
    expect(detectGpus({}, () => ({ status: 9, stdout: '' }))).toEqual([]);
  });
  it('finds none on this machine when it has no nvidia-smi', () => {
    expect(Array.isArray(detectGpus())).toBe(true);
  });
});

describe('workerGpus', () => {
  const detected = parseNvidiaSmi(TWO);
  it('offers detected GPUs (all, or the first --gpus N) with the cuda provider', () => {
    expect(workerGpus(undefined, detected)).toMatchObject({ ids: ['0', '1'], executionProviders: ['cpu', 'cuda'] });
    expect(workerGpus(1, detected).ids).toEqual(['0']);
    expect(workerGpus(0, detected).executionProviders).toEqual(['cpu']);
    expect(() => workerGpus(3, detected)).toThrow(/only 2 GPU/);
  });
  it('takes --gpus on trust without nvidia-smi, with the cpu provider only', () => {
    expect(workerGpus(2, [])).toEqual({ ids: ['0', '1'], detected: [], executionProviders: ['cpu'] });
    expect(workerGpus(undefined, []).ids).toEqual([]);
  });
});

describe('GpuSlots', () => {
  it('hands out free device ids, lowest first, and takes them back', () => {
    const slots = new GpuSlots(['0', '1', '2']);
    const a = slots.acquire(2)!;
    expect(a).toEqual(['0', '1']);
    expect(slots.acquire(2)).toBeUndefined();
    expect(slots.acquire(1)).toEqual(['2']);
    slots.release(['1']);
    slots.release(['1', 'x']);
    expect(slots.available).toBe(1);
    slots.release(['0']);
    expect(slots.acquire(2)).toEqual(['0', '1']);
    expect(slots.acquire(0)).toEqual([]);
  });

  it('gives a trial exactly its GPUs (none for a CPU trial) and changes nothing without GPUs', () => {
    const slots = new GpuSlots(['3', '5']);
    expect(slots.envFor(['5'])).toEqual({ CUDA_VISIBLE_DEVICES: '5', CUDA_DEVICE_ORDER: 'PCI_BUS_ID' });
    expect(slots.envFor([])).toEqual({ CUDA_VISIBLE_DEVICES: '', CUDA_DEVICE_ORDER: 'PCI_BUS_ID' });
    expect(new GpuSlots([]).envFor([])).toBeUndefined();
  });
});
