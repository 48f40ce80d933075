/**
 * Runs one trial from start to finish, with no I/O of its own: data bytes in, metrics and the
 * model as ONNX out (the preprocessor and class labels ride in its metadata, see
 * onnx/export.ts). The worker's executor process calls it; so can a test.
 *
 * Holdout: train on the train rows, score on the test rows. k-fold: score each fold, report
 * the mean, then train the delivered model on all rows.
 */
import { BASELINE_PREFIX } from '../scheduler/baseline';
import { parseSpec, type LoadedSpec } from '../spec';
import type { PipelineSpec } from '../spec/schema';
import { prepareFolds, type Dataset, type Preprocessor } from '../data/prepare';
import { exportOnnx, ONNX_FORMAT } from '../onnx/export';
import { scoreWith, shipOnnx } from '../onnx/stamp';
import { inferFormat, loadFrame } from '../data/load';
import type { DataFormat, Frame } from '../data/types';
import { baselineMetrics, evaluate } from '../trainers/metrics';
import type { TrainerRegistry } from '../trainers/registry';
import type { EpochDecision, TrainedModel } from '../trainers/types';

export interface TrialInput {
  readonly specYaml: string;
  readonly specFile: string;
  readonly candidate: string;
  readonly trainer: string;
  readonly params: Readonly<Record<string, unknown>>;
  readonly seed: number;
  readonly attempt: number;
  /** Digest of the uploaded data set for each source, as written in the spec. */
  readonly data: Readonly<Record<string, string>>;
  readonly readArtifact: (digest: string) => Promise<Uint8Array>;
}

export interface TrialHooks {
  /** progress is the fraction of the whole trial done (all folds). */
  readonly onEpoch?: (epoch: number, progress: number, metrics: Record<string, number>) => Promise<EpochDecision>;
  readonly signal?: AbortSignal;
}

export interface TrialOutput {
  readonly metrics: Record<string, number>;
  /** The trained model as an ONNX file. */
  readonly artifact: Uint8Array;
  /** The artifact's format: 'onnx'. */
  readonly format: string;
  readonly backend: string;
  readonly note: string;
}

export interface RunnerDeps {
  readonly trainers: TrainerRegistry;
  /** Frames by data digest, kept across trials in one executor process. */
  readonly frameCache?: Map<string, Frame>;
  /** Parsed specs by their text: the trials of a run share one spec. */
  readonly specCache?: Map<string, LoadedSpec>;
}

function epochsOf(params: Readonly<Record<string, unknown>>): number {
  const e = params.epochs;
  return typeof e === 'number' && e > 0 ? e : 1;
}

export async function runTrial(input: TrialInput, deps: RunnerDeps, hooks: TrialHooks = {}): Promise<TrialOutput> {
  const { spec } = cachedSpec(input, deps);
  const frame = await loadData(spec, input, deps);
  const prepared = prepareFolds(frame, spec);
  const plugin = deps.trainers.get(input.trainer);
  const candidate = spec.models.find((m) => m.name === input.candidate);
  const k = prepared.folds.length;
  const totalSteps = (k > 1 ? k + 1 : 1) * epochsOf(input.params);
  let step = 0;
  let stopped = '';

  const train = async (data: Dataset, pre: Preprocessor, heldOut?: Dataset): Promise<TrainedModel> =>
    plugin.train({
      task: spec.task,
      x: data.x,
      y: data.y,
      featureNames: pre.featureNames,
      classes: pre.classes,
      ...(heldOut ? { heldOut } : {}),
      params: input.params,
      layers: candidate?.layers,
      seed: input.seed,
      attempt: input.attempt,
      signal: hooks.signal,
      onEpoch: async (epoch, metrics) => {
        step++;
        const decision = (await hooks.onEpoch?.(epoch, Math.min(1, step / totalSteps), metrics)) ?? 'continue';
        if (decision === 'stop' && !stopped) stopped = `stopped early at epoch ${epoch}`;
        return decision;
      },
    });

  const foldMetrics: Record<string, number>[] = [];
  let model: TrainedModel | undefined;
  let preprocessor: Preprocessor | undefined;
  for (const fold of prepared.folds) {
    const m = await train(fold.train, fold.preprocessor, fold.test);
    const classes = fold.preprocessor.classes?.length ?? 0;
    // A model that arrives as ONNX (external trainer) is scored by onnxruntime, as it will be served.
    const scored = m.onnx
      ? await scoreWith(m.onnx.bytes, fold.preprocessor, fold.test.x)
      : { predictions: m.predict(fold.test.x), probabilities: m.predictProba?.(fold.test.x) };
    const metrics = evaluate(spec.task, fold.test.y, scored.predictions, scored.probabilities, classes);
    const baseline = baselineMetrics(spec.task, fold.train.y, fold.test.y, classes);
    foldMetrics.push({ ...m.onnx?.metrics, ...metrics, ...prefixed(baseline) });
    if (k === 1) {
      model = m;
      preprocessor = fold.preprocessor;
    } else m.dispose?.();
  }
  if (!model) {
    model = await train(prepared.full.data, prepared.full.preprocessor);
    preprocessor = prepared.full.preprocessor;
  }
  let artifact: Uint8Array;
  try {
    const metadata = {
      'stratum.candidate': input.candidate,
      'stratum.params': JSON.stringify(input.params),
      'stratum.backend': model.backend,
    };
    artifact = model.onnx
      ? shipOnnx(model.onnx.bytes, preprocessor!, model.trainer, metadata)
      : exportOnnx(model, preprocessor!, { metadata });
  } finally {
    model.dispose?.();
  }
  return {
    metrics: mean(foldMetrics),
    artifact,
    format: ONNX_FORMAT,
    backend: model.backend,
    note: stopped,
  };
}

function cachedSpec(input: TrialInput, deps: RunnerDeps): LoadedSpec {
  const hit = deps.specCache?.get(input.specYaml);
  if (hit) return hit;
  const loaded = parseSpec(input.specYaml, input.specFile);
  if (deps.specCache) {
    // A long-lived executor sees many runs: keep only the recent specs.
    if (deps.specCache.size >= 16) deps.specCache.delete(deps.specCache.keys().next().value!);
    deps.specCache.set(input.specYaml, loaded);
  }
  return loaded;
}

async function loadData(spec: PipelineSpec, input: TrialInput, deps: RunnerDeps): Promise<Frame> {
  const digest = input.data[spec.data.source];
  if (!digest) throw new Error(`no data uploaded for source "${spec.data.source}"`);
  const key = `${digest}|${spec.data.limit ?? ''}`;
  const cached = deps.frameCache?.get(key);
  if (cached) return cached;
  const format = (spec.data.format ?? inferFormat(spec.data.source)) as DataFormat;
  const frame = await loadFrame(await input.readArtifact(digest), format, {
    source: spec.data.source,
    limit: spec.data.limit,
  });
  deps.frameCache?.set(key, frame);
  return frame;
}

function prefixed(m: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(m).map(([k, v]) => [BASELINE_PREFIX + k, v]));
}

function mean(rows: readonly Record<string, number>[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const key of Object.keys(rows[0] ?? {})) {
    out[key] = rows.reduce((a, r) => a + (r[key] ?? 0), 0) / rows.length;
  }
  return out;
}
