/**
 * GPUs on a worker: what `nvidia-smi` reports (restricted to `CUDA_VISIBLE_DEVICES` when a
 * scheduler such as Ray already chose some for this process), and which of them each running
 * trial holds. A trial's executor sees only its own GPUs through `CUDA_VISIBLE_DEVICES`, with
 * `CUDA_DEVICE_ORDER=PCI_BUS_ID` so CUDA numbers devices as nvidia-smi does.
 */
import { spawnSync } from 'node:child_process';

export interface GpuInfo {
  /** The device id as nvidia-smi numbers it (what CUDA_VISIBLE_DEVICES takes). */
  readonly index: string;
  readonly name: string;
  readonly memoryMb: number;
}

export const NVIDIA_SMI_ARGS = ['--query-gpu=index,name,memory.total', '--format=csv,noheader'];

/** Parses `nvidia-smi --query-gpu=index,name,memory.total --format=csv,noheader` output. */
export function parseNvidiaSmi(text: string): GpuInfo[] {
  const gpus: GpuInfo[] = [];
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === '') continue;
    // Names may contain commas: index is the first field, memory the last.
    const fields = line.split(',').map((f) => f.trim());
    if (fields.length < 3) throw new Error(`nvidia-smi: cannot read the line "${line}"`);
    const index = fields[0]!;
    const memory = fields[fields.length - 1]!;
    const name = fields.slice(1, -1).join(', ');
    if (!/^\d+$/.test(index)) throw new Error(`nvidia-smi: "${index}" is not a GPU index in "${line}"`);
    const m = /^(\d+(?:\.\d+)?)\s*(MiB|GiB)?$/i.exec(memory);
    const memoryMb = m ? Math.round(Number(m[1]) * (m[2]?.toLowerCase() === 'gib' ? 1024 : 1)) : 0;
    gpus.push({ index, name, memoryMb });
  }
  return gpus;
}

/**
 * The GPUs this process may use: all of them, or those `CUDA_VISIBLE_DEVICES` lists (by
 * index; an empty value hides every GPU). Entries that are not indices (UUIDs, MIG ids) keep
 * their count: the first that many GPUs stand for them.
 */
export function visibleGpus(gpus: readonly GpuInfo[], cudaVisibleDevices: string | undefined): GpuInfo[] {
  if (cudaVisibleDevices === undefined) return [...gpus];
  const ids = cudaVisibleDevices
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (ids.length > 0 && ids.every((id) => /^\d+$/.test(id))) {
    return ids.map((id) => gpus.find((g) => g.index === id)).filter((g): g is GpuInfo => g !== undefined);
  }
  return gpus.slice(0, ids.length);
}

export type CommandRunner = (cmd: string, args: readonly string[]) => { status: number | null; stdout: string };

const runCommand: CommandRunner = (cmd, args) => {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 10000 });
  return { status: r.error ? null : r.status, stdout: r.stdout ?? '' };
};

/** The GPUs nvidia-smi reports for this process; none when nvidia-smi is missing or fails. */
export function detectGpus(env: NodeJS.ProcessEnv = process.env, run: CommandRunner = runCommand): GpuInfo[] {
  const r = run('nvidia-smi', NVIDIA_SMI_ARGS);
  if (r.status !== 0) return [];
  return visibleGpus(parseNvidiaSmi(r.stdout), env.CUDA_VISIBLE_DEVICES);
}

/** "0:NVIDIA H200 (143771 MiB),1:..." for the worker's versions map. */
export function describeGpus(gpus: readonly GpuInfo[]): string {
  return gpus.map((g) => `${g.index}:${g.name} (${g.memoryMb} MiB)`).join(',');
}

/** Which device ids each running trial holds; the scheduler already checked the count fits. */
export class GpuSlots {
  private readonly free: string[];

  constructor(readonly ids: readonly string[]) {
    this.free = [...ids];
  }

  get available(): number {
    return this.free.length;
  }

  /** Takes `count` ids (lowest first), or undefined when fewer are free. */
  acquire(count: number): string[] | undefined {
    if (count > this.free.length) return undefined;
    this.free.sort((a, b) => this.ids.indexOf(a) - this.ids.indexOf(b));
    return this.free.splice(0, count);
  }

  release(ids: readonly string[]): void {
    for (const id of ids) if (this.ids.includes(id) && !this.free.includes(id)) this.free.push(id);
  }

  /**
   * The environment of an executor for a trial holding `held`: on a worker with GPUs, a trial
   * sees exactly its own (none for a CPU trial); a worker without GPUs changes nothing.
   */
  envFor(held: readonly string[]): Record<string, string> | undefined {
    if (this.ids.length === 0) return undefined;
    return { CUDA_VISIBLE_DEVICES: held.join(','), CUDA_DEVICE_ORDER: 'PCI_BUS_ID' };
  }
}

export interface WorkerGpus {
  /** Device ids the worker offers, one slot each. */
  readonly ids: readonly string[];
  readonly detected: readonly GpuInfo[];
  /** onnxruntime execution providers to advertise: 'cpu', plus 'cuda' when GPUs were detected. */
  readonly executionProviders: readonly string[];
}

/**
 * What a worker offers: detected GPUs (the first `declared` of them when `--gpus` is given),
 * or, with no nvidia-smi, `declared` GPUs taken on trust (ids 0..n-1).
 */
export function workerGpus(declared: number | undefined, detected: readonly GpuInfo[]): WorkerGpus {
  if (detected.length > 0) {
    const n = declared ?? detected.length;
    if (n > detected.length) {
      throw new Error(`--gpus ${n}: nvidia-smi shows only ${detected.length} GPU(s) to this worker`);
    }
    const ids = detected.slice(0, n).map((g) => g.index);
    return { ids, detected, executionProviders: n > 0 ? ['cpu', 'cuda'] : ['cpu'] };
  }
  const ids = Array.from({ length: declared ?? 0 }, (_, i) => String(i));
  return { ids, detected, executionProviders: ['cpu'] };
}
