/**
 * Every built-in trainer's model → one ONNX file with the same signature:
 *
 *   input   features       FP32 [batch, nFeatures]   the encoded vector preprocessor.featureNames describes
 *   output  label          INT64 [batch]             classifiers: class index (first most probable class)
 *           probabilities  FP32 [batch, nClasses]    classifiers: what predictProba gives
 *           prediction     FP32 [batch, 1]           regressors: what predict gives
 *
 * metadata_props carry what serving needs to turn raw records into that input and indices
 * back into labels: stratum.preprocessor (the Preprocessor as JSON), stratum.classes (JSON
 * array, classifiers only), stratum.trainer and stratum.task, plus any caller's extras.
 */
import type { Preprocessor } from '../data/prepare';
import { trainerInfo } from '../trainers/catalog';
import type { TrainedModel } from '../trainers/types';
import { attr, ELEMENT, GraphBuilder } from './builder';
import { constantGraph, type ConstantState } from './constant';
import { OnnxExportError } from './errors';
import { linearRegressionGraph, logisticGraph, type LinearState, type LogisticState } from './linear';
import { tfjsGraph, type TfjsState } from './tfjs';
import { decisionTreeGraph, randomForestGraph, type ForestState, type TreeState } from './trees';

export const ONNX_FORMAT = 'onnx';
export const INPUT_NAME = 'features';
export const OUTPUT_NAMES = { label: 'label', probabilities: 'probabilities', prediction: 'prediction' } as const;

// eslint-disable-next-line @typescript-eslint/no-require-imports
const STRATUM_VERSION: string = (require('../../package.json') as { version: string }).version;
const BATCH = 'batch';

/** A converter: features [batch, nFeatures] → probabilities [batch, nClasses] or prediction [batch, 1]. */
type Converter = (g: GraphBuilder, x: string, state: never, nClasses: number) => string;

const CONVERTERS: Record<string, Converter> = {
  tfjs: (g, x, s: TfjsState) => tfjsGraph(g, x, s),
  'random-forest': (g, x, s: ForestState) => randomForestGraph(g, x, s),
  'decision-tree': (g, x, s: TreeState) => decisionTreeGraph(g, x, s),
  'logistic-regression': (g, x, s: LogisticState) => logisticGraph(g, x, s),
  'linear-regression': (g, x, s: LinearState) => linearRegressionGraph(g, x, s),
  synthetic: (g, x, s: ConstantState, nClasses) => constantGraph(g, x, s, nClasses),
};

export const EXPORTABLE_TRAINERS: readonly string[] = Object.keys(CONVERTERS);

export interface ExportOptions {
  /** Extra metadata_props (e.g. lineage); the stratum.* keys above take precedence. */
  readonly metadata?: Readonly<Record<string, string>>;
}

/** The state fields the exporter checks against the preprocessor before converting. */
interface Envelope {
  readonly task?: string;
  readonly features?: number;
  readonly nClasses?: number;
}

function checkState(trainer: string, state: Envelope, pre: Preprocessor, nFeatures: number, nClasses: number): void {
  if (typeof state !== 'object' || state === null) throw new OnnxExportError(trainer, 'the model has no saved state');
  // States that do not record their task belong to trainers with a single one.
  const tasks = state.task !== undefined ? [state.task] : (trainerInfo(trainer)?.tasks ?? [pre.task]);
  if (!tasks.includes(pre.task)) {
    throw new OnnxExportError(
      trainer,
      `the model was trained for ${tasks.join(' or ')}, the preprocessor is for ${pre.task}`,
    );
  }
  if (state.features !== undefined && state.features !== nFeatures) {
    throw new OnnxExportError(
      trainer,
      `the model takes ${state.features} features, the preprocessor makes ${nFeatures}`,
    );
  }
  if (pre.task === 'classification' && state.nClasses !== undefined && state.nClasses !== nClasses) {
    throw new OnnxExportError(trainer, `the model has ${state.nClasses} classes, the preprocessor ${nClasses}`);
  }
}

export function exportOnnx(model: TrainedModel, preprocessor: Preprocessor, options: ExportOptions = {}): Uint8Array {
  const trainer = model.trainer;
  const convert = CONVERTERS[trainer];
  if (!convert) {
    throw new OnnxExportError(trainer, `no exporter for this trainer (exportable: ${EXPORTABLE_TRAINERS.join(', ')})`);
  }
  const classify = preprocessor.task === 'classification';
  const classes = preprocessor.classes ?? [];
  if (classify && classes.length < 2) throw new OnnxExportError(trainer, 'a classifier needs the class labels');
  const nFeatures = preprocessor.featureNames.length;
  const state = model.toJSON() as Envelope;
  checkState(trainer, state, preprocessor, nFeatures, classes.length);

  const g = new GraphBuilder(`stratum_${trainer.replace(/[^A-Za-z0-9]/g, '_')}`);
  const x = g.input(INPUT_NAME, ELEMENT.FLOAT, [BATCH, nFeatures]);
  const head = convert(g, x, state as never, classes.length);
  if (classify) {
    g.node('Identity', [head], [OUTPUT_NAMES.probabilities], {}, { exact: true });
    g.node(
      'ArgMax',
      [head],
      [OUTPUT_NAMES.label],
      { axis: attr.int(1), keepdims: attr.int(0), select_last_index: attr.int(0) },
      { exact: true },
    );
    g.output(OUTPUT_NAMES.label, ELEMENT.INT64, [BATCH]);
    g.output(OUTPUT_NAMES.probabilities, ELEMENT.FLOAT, [BATCH, classes.length]);
  } else {
    g.node('Identity', [head], [OUTPUT_NAMES.prediction], {}, { exact: true });
    g.output(OUTPUT_NAMES.prediction, ELEMENT.FLOAT, [BATCH, 1]);
  }
  return g.encode({
    producerVersion: STRATUM_VERSION,
    docString: `Stratum ${trainer} ${preprocessor.task} model for target "${preprocessor.target}"`,
    metadata: {
      ...options.metadata,
      'stratum.trainer': trainer,
      'stratum.task': preprocessor.task,
      'stratum.preprocessor': JSON.stringify(preprocessor),
      ...(classify ? { 'stratum.classes': JSON.stringify(classes) } : {}),
    },
  });
}
