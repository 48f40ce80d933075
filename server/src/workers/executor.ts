/**
 * Trial executors: where a leased trial actually runs.
 *
 * `ProcessExecutor` (the default) runs each trial in a pooled child process: training never
 * blocks the agent's heartbeats, a cancelled trial is stopped by killing its process, and a
 * crash takes down one trial, not the worker. Idle children are reused, so the second trial
 * on a slot starts without paying for a new process and re-loading the data set.
 * `InProcessExecutor` runs the same runner in the agent's own process, for tests and tools.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

import type { EpochDecision } from '../trainers/types';
import type { Frame } from '../data/types';
import type { LoadedSpec } from '../spec';
import { LONG_LIVED_NODE_FLAGS } from '../util/node-flags';
import type { TrialInput, TrialOutput } from './runner';

export interface ExecutorHooks {
  readonly onProgress: (epoch: number, progress: number, metrics: Record<string, number>) => void;
  /** Read on every epoch: the agent sets it when the control plane asks to stop early. */
  readonly shouldStop: () => boolean;
}

export type ExecutorInput = Omit<TrialInput, 'readArtifact'> & { readonly dataPaths: Readonly<Record<string, string>> };

/** Where a trial runs: the environment its executor process needs (CUDA_VISIBLE_DEVICES for its GPUs). */
export interface TrialPlacement {
  readonly env?: Readonly<Record<string, string>>;
}

export interface TrialExecutor {
  run(
    input: ExecutorInput,
    hooks: ExecutorHooks,
    signal: AbortSignal,
    placement?: TrialPlacement,
  ): Promise<TrialOutput>;
  close(): Promise<void>;
}

export class TrialAbortedError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'TrialAbortedError';
  }
}

async function readPath(paths: Readonly<Record<string, string>>, digest: string): Promise<Uint8Array> {
  const path = paths[digest];
  if (!path) throw new Error(`data ${digest} was not fetched`);
  const { readFile } = await import('node:fs/promises');
  return readFile(path);
}

export class InProcessExecutor implements TrialExecutor {
  // The runner and the trainers (tfjs above all: ~20 MiB of heap, ~40 MiB resident) load on the
  // first trial, not with this module: the worker agent and the control plane import it only
  // for ProcessExecutor, and would otherwise carry them for their whole life unused.
  private loaded?: {
    readonly runTrial: typeof import('./runner').runTrial;
    readonly trainers: import('../trainers/registry').TrainerRegistry;
  };
  private readonly frameCache = new Map<string, Frame>();
  private readonly specCache = new Map<string, LoadedSpec>();

  async run(input: ExecutorInput, hooks: ExecutorHooks, signal: AbortSignal): Promise<TrialOutput> {
    if (!this.loaded) {
      const { runTrial } = await import('./runner');
      const { builtinTrainers, createTrainerRegistry } = await import('../trainers/registry');
      this.loaded = { runTrial, trainers: createTrainerRegistry(builtinTrainers()) };
    }
    return this.loaded.runTrial(
      { ...input, readArtifact: (d) => readPath(input.dataPaths, d) },
      { trainers: this.loaded.trainers, frameCache: this.frameCache, specCache: this.specCache },
      {
        signal,
        onEpoch: async (epoch, progress, metrics): Promise<EpochDecision> => {
          hooks.onProgress(epoch, progress, metrics);
          return hooks.shouldStop() ? 'stop' : 'continue';
        },
      },
    );
  }

  async close(): Promise<void> {}
}

/** Messages between the agent and an executor child. */
export type ToChild = { type: 'run'; input: ExecutorInput } | { type: 'stop' };
export type FromChild =
  | { type: 'progress'; epoch: number; progress: number; metrics: Record<string, number> }
  | { type: 'done'; output: TrialOutput }
  | { type: 'error'; message: string };

/** Kills an executor with whatever it started (an external trainer's command): its process group. */
function killGroup(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): void {
  try {
    process.kill(-child.pid!, signal);
  } catch {
    child.kill(signal);
  }
}

export class ProcessExecutor implements TrialExecutor {
  /** Idle children by the environment they were started with: a GPU trial needs its own. */
  private readonly idle = new Map<string, ChildProcess[]>();
  private readonly busy = new Set<ChildProcess>();
  private readonly envKey = new WeakMap<ChildProcess, string>();

  constructor(
    private readonly options: { readonly maxIdle: number; readonly env?: NodeJS.ProcessEnv } = { maxIdle: 2 },
  ) {}

  private spawn(env: Readonly<Record<string, string>> | undefined, key: string): ChildProcess {
    const child = fork(join(__dirname, 'executor-main.js'), [], {
      // Not the agent's young-generation bound (node-flags.ts): training allocates at a rate
      // that a small young generation would turn into many more scavenges and promotions.
      execArgv: process.execArgv.filter((a) => !LONG_LIVED_NODE_FLAGS.includes(a)),
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: { ...process.env, ...this.options.env, ...env },
      // Its own process group, so killing it also stops the commands it started.
      detached: true,
    });
    this.envKey.set(child, key);
    return child;
  }

  private idleCount(): number {
    return [...this.idle.values()].reduce((n, list) => n + list.length, 0);
  }

  run(
    input: ExecutorInput,
    hooks: ExecutorHooks,
    signal: AbortSignal,
    placement?: TrialPlacement,
  ): Promise<TrialOutput> {
    const key = JSON.stringify(Object.entries(placement?.env ?? {}).sort());
    const child = this.idle.get(key)?.pop() ?? this.spawn(placement?.env, key);
    this.busy.add(child);
    return new Promise<TrialOutput>((resolve, reject) => {
      let settled = false;
      const finish = (err: Error | undefined, out?: TrialOutput): void => {
        if (settled) return;
        settled = true;
        child.off('message', onMessage);
        child.off('exit', onExit);
        signal.removeEventListener('abort', onAbort);
        this.busy.delete(child);
        if (err) reject(err);
        else resolve(out!);
      };
      const onMessage = (m: FromChild): void => {
        if (m.type === 'progress') {
          hooks.onProgress(m.epoch, m.progress, m.metrics);
          if (hooks.shouldStop()) child.send({ type: 'stop' } satisfies ToChild);
        } else if (m.type === 'done') {
          this.release(child);
          finish(undefined, m.output);
        } else {
          this.release(child);
          finish(new Error(m.message));
        }
      };
      const onExit = (code: number | null, sig: string | null): void => {
        finish(new Error(`executor process exited (${sig ?? `code ${code}`}) during the trial`));
      };
      const onAbort = (): void => {
        killGroup(child);
        finish(new TrialAbortedError(String(signal.reason ?? 'aborted')));
      };
      child.on('message', onMessage);
      child.once('exit', onExit);
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      child.send({ type: 'run', input } satisfies ToChild);
    });
  }

  private release(child: ChildProcess): void {
    const key = this.envKey.get(child) ?? '[]';
    if (child.exitCode === null && this.idleCount() < this.options.maxIdle) {
      this.idle.set(key, [...(this.idle.get(key) ?? []), child]);
    } else child.kill();
  }

  async close(): Promise<void> {
    for (const c of [...[...this.idle.values()].flat(), ...this.busy]) killGroup(c);
    this.idle.clear();
    this.busy.clear();
  }
}
