/**
 * The external-process trainer: runs a command the operator allowed (PyTorch on a GPU,
 * scikit-learn, anything) under a small contract, documented in docs/external-trainer.md:
 *
 *   Stratum writes job.json (params, seed, task, features, classes, train/test data paths, the
 *   output dir) and runs `COMMAND... job.json`; the command prints `{"epoch": n, "metrics": {...}}`
 *   lines on stdout and writes model.onnx (and optionally metrics.json) into the output dir.
 *
 * The model comes back as ONNX bytes (`TrainedModel.onnx`): the runner scores it with
 * onnxruntime and ships it with the serving metadata added, so it is scheduled, retried,
 * selected, registered and served like a built-in trainer's model.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { checkInput } from './common';
import { TrainerError, TrainingAbortedError } from './errors';
import { allowedCommand, allowedFromEnv, AllowListError, type AllowedTrainers } from './external-allow';
import { resolveParams } from './params';
import type { TrainedModel, TrainerPlugin, TrainInput } from './types';

const NAME = 'external';
export const CONTRACT = 'stratum.external/v1';
export const MODEL_FILE = 'model.onnx';
export const METRICS_FILE = 'metrics.json';
export const STOP_FILE = 'STOP';
const TAIL_BYTES = 4000;
const KILL_GRACE_MS = 3000;

interface ExternalParams {
  command: string;
  dataFormat: 'csv' | 'json';
  timeoutS: number;
}

export interface ExternalTrainerOptions {
  /** The allow-list (default: what the worker put in $STRATUM_EXTERNAL_TRAINERS). */
  readonly allowed?: () => AllowedTrainers;
  /** Where job directories go (default: the OS temp dir). */
  readonly workDir?: string;
}

/** Commands still running when this process exits are killed with it, never left behind. */
const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of live) killGroup(c, 'SIGKILL');
});

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    process.kill(-child.pid!, signal);
  } catch {
    child.kill(signal);
  }
}

const csvField = (s: string): string => (/[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);

function writeData(
  path: string,
  format: 'csv' | 'json',
  features: readonly string[],
  x: readonly Float64Array[],
  y: Float64Array,
): void {
  if (format === 'json') {
    writeFileSync(path, JSON.stringify({ columns: features, x: x.map((r) => Array.from(r)), y: Array.from(y) }));
    return;
  }
  const lines = [[...features, 'target'].map(csvField).join(',')];
  x.forEach((row, i) => lines.push(`${Array.from(row).join(',')},${y[i]}`));
  writeFileSync(path, lines.join('\n') + '\n');
}

/** Keeps the last few KiB of a stream, for error messages. */
class Tail {
  private text = '';
  push(s: string): void {
    this.text = (this.text + s).slice(-TAIL_BYTES);
  }
  toString(): string {
    return this.text.trim();
  }
}

/** A metric line, or undefined for any other output (which is kept for error messages only). */
export function parseMetricLine(line: string): { epoch: number; metrics: Record<string, number> } | undefined {
  if (!line.trimStart().startsWith('{')) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return undefined;
  }
  const o = v as { epoch?: unknown; metrics?: unknown };
  if (typeof o?.epoch !== 'number' || typeof o.metrics !== 'object' || o.metrics === null) return undefined;
  const metrics = Object.fromEntries(
    Object.entries(o.metrics).filter((e): e is [string, number] => typeof e[1] === 'number' && Number.isFinite(e[1])),
  );
  return { epoch: o.epoch, metrics };
}

function readMetrics(path: string): Record<string, number> {
  if (!existsSync(path)) return {};
  try {
    const v = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
    return Object.fromEntries(
      Object.entries(v).filter((e): e is [string, number] => typeof e[1] === 'number' && Number.isFinite(e[1])),
    );
  } catch (e) {
    throw new TrainerError(NAME, `${METRICS_FILE} is not a JSON object of numbers (${(e as Error).message})`);
  }
}

function wrap(command: string, bytes: Uint8Array, metrics: Record<string, number>): TrainedModel {
  const unavailable = (): never => {
    throw new TrainerError(NAME, 'an external model predicts through its ONNX file (onnxruntime)', {
      code: 'INVALID_STATE',
    });
  };
  return {
    trainer: NAME,
    backend: `external:${command}`,
    predict: unavailable,
    toJSON: () => ({ trainer: NAME, command }),
    onnx: { bytes, metrics },
  };
}

export function createExternalTrainer(options: ExternalTrainerOptions = {}): TrainerPlugin {
  return {
    name: NAME,
    async train(input: TrainInput): Promise<TrainedModel> {
      const params = resolveParams<ExternalParams>(NAME, input.params);
      let argv: readonly string[];
      try {
        argv = allowedCommand((options.allowed ?? allowedFromEnv)(), params.command);
      } catch (e) {
        if (e instanceof AllowListError)
          throw new TrainerError(NAME, e.message, { code: 'INVALID_PARAM', param: 'command' });
        throw e;
      }
      const { features } = checkInput(NAME, input);
      const names =
        input.featureNames.length === features
          ? input.featureNames
          : Array.from({ length: features }, (_, i) => `f${i}`);
      const dir = mkdtempSync(join(options.workDir ?? tmpdir(), 'stratum-external-'));
      try {
        const out = join(dir, 'out');
        mkdirSync(out);
        const ext = params.dataFormat;
        writeData(join(dir, `train.${ext}`), ext, names, input.x, input.y);
        if (input.heldOut) writeData(join(dir, `test.${ext}`), ext, names, input.heldOut.x, input.heldOut.y);
        const job = {
          contract: CONTRACT,
          task: input.task,
          params,
          seed: input.seed,
          attempt: input.attempt ?? 1,
          features: names,
          target: 'target',
          classes: input.classes ?? null,
          train: { path: join(dir, `train.${ext}`), format: ext, rows: input.x.length },
          test: input.heldOut ? { path: join(dir, `test.${ext}`), format: ext, rows: input.heldOut.x.length } : null,
          outputDir: out,
          stopFile: join(out, STOP_FILE),
          model: {
            input: 'features',
            outputs: input.task === 'classification' ? ['label', 'probabilities'] : ['prediction'],
          },
        };
        writeFileSync(join(dir, 'job.json'), JSON.stringify(job, null, 2));
        await runCommand(params, argv, join(dir, 'job.json'), out, input);
        const modelPath = join(out, MODEL_FILE);
        if (!existsSync(modelPath)) {
          throw new TrainerError(
            NAME,
            `command "${params.command}" exited 0 but wrote no ${MODEL_FILE} into the output dir`,
          );
        }
        return wrap(params.command, new Uint8Array(readFileSync(modelPath)), readMetrics(join(out, METRICS_FILE)));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    async load(): Promise<TrainedModel> {
      throw new TrainerError(NAME, 'external models ship as ONNX files; there is no trainer state to load', {
        code: 'INVALID_STATE',
      });
    },
  };
}

/** Runs the command; resolves when it exits 0, forwarding metric lines to onEpoch in order. */
function runCommand(
  params: ExternalParams,
  argv: readonly string[],
  jobPath: string,
  outDir: string,
  input: TrainInput,
): Promise<void> {
  const { signal } = input;
  if (signal?.aborted) return Promise.reject(new TrainingAbortedError(NAME, signal.reason));
  return new Promise((resolve, reject) => {
    // Its own process group, so a stop reaches whatever the command starts in turn.
    const child = spawn(argv[0]!, [...argv.slice(1), jobPath], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    live.add(child);
    const stderr = new Tail();
    const other = new Tail();
    let pending = '';
    let epochs: Promise<unknown> = Promise.resolve();
    let failure: Error | undefined;
    let killTimer: NodeJS.Timeout | undefined;
    const stop = (err: Error): void => {
      failure ??= err;
      killGroup(child, 'SIGTERM');
      killTimer ??= setTimeout(() => killGroup(child, 'SIGKILL'), KILL_GRACE_MS);
    };
    const onLine = (line: string): void => {
      const m = parseMetricLine(line);
      if (!m) return other.push(line + '\n');
      epochs = epochs.then(async () => {
        if ((await input.onEpoch?.(m.epoch, m.metrics)) === 'stop') writeFileSync(join(outDir, STOP_FILE), '');
      });
    };
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      const lines = (pending + d).split('\n');
      pending = lines.pop()!;
      lines.forEach(onLine);
    });
    child.stderr!.setEncoding('utf8').on('data', (d: string) => stderr.push(d));
    const onAbort = (): void => stop(new TrainingAbortedError(NAME, signal?.reason));
    signal?.addEventListener('abort', onAbort, { once: true });
    const timeout = setTimeout(
      () => stop(new TrainerError(NAME, `command "${params.command}" ran past timeoutS=${params.timeoutS}`)),
      params.timeoutS * 1000,
    );
    const finish = (err: Error | undefined): void => {
      live.delete(child);
      clearTimeout(timeout);
      clearTimeout(killTimer);
      signal?.removeEventListener('abort', onAbort);
      if (err) reject(err);
      else resolve();
    };
    child.once('error', (e) =>
      finish(new TrainerError(NAME, `cannot start command "${params.command}" (${argv[0]}): ${e.message}`)),
    );
    child.once('close', (code, sig) => {
      if (pending) onLine(pending);
      void epochs.then(
        () => {
          if (failure) return finish(failure);
          if (code === 0) return finish(undefined);
          const why = sig ? `was killed by ${sig}` : `exited with code ${code}`;
          const tail = stderr.toString() || other.toString();
          finish(new TrainerError(NAME, `command "${params.command}" ${why}${tail ? `:\n${tail}` : ''}`));
        },
        (e: unknown) => finish(e instanceof Error ? e : new Error(String(e))),
      );
    });
  });
}

export const externalTrainer = createExternalTrainer();
