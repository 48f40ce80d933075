/**
 * The raw-records route of Stratum-trained models: records → the model's feature tensor with
 * the training-time preprocessing (ONNX metadata `stratum.preprocessor`), and the model's
 * outputs → class labels (and probabilities) or numbers. Pure; the service runs the model.
 */
import { DataError } from '../data/errors';
import { preprocessRecords, type Preprocessor } from '../data/prepare';
import type { OnnxSignature } from '../onnx/signature';
import { invalid, ServingError, type PredictResponse, type Tensor, type TensorSpec } from './types';

export const PREPROCESSOR_KEY = 'stratum.preprocessor';
export const CLASSES_KEY = 'stratum.classes';

export interface PredictPlan {
  readonly preprocessor: Preprocessor;
  /** The model's one input: FP32 or FP64, [-1 or n, features]. */
  readonly input: TensorSpec;
  readonly classes?: readonly string[];
  /** Classifiers: an integer (index into classes) or BYTES output of labels. */
  readonly labelOutput?: string;
  /** Classifiers: an FP32/FP64 [n, classes] output. Regressors: the predicted values. */
  readonly valueOutput?: string;
}

const isFloat = (s: TensorSpec): boolean => s.datatype === 'FP32' || s.datatype === 'FP64';
const isLabel = (s: TensorSpec): boolean => s.datatype === 'BYTES' || /^U?INT/.test(s.datatype);

function parseMeta<T>(metadata: Record<string, string>, key: string): T | undefined {
  const text = metadata[key];
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    throw new Error(`ONNX metadata "${key}" is not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/**
 * How to serve raw records with this model; null when the model has no Stratum preprocessor.
 * Throws (at load time) when the metadata is there but does not fit the graph.
 */
export function planPredict(signature: OnnxSignature): PredictPlan | null {
  const pre = parseMeta<Preprocessor>(signature.metadata, PREPROCESSOR_KEY);
  if (pre === undefined) return null;
  if (!Array.isArray(pre?.inputs) || !Array.isArray(pre.featureNames) || !pre.fitted || !pre.task) {
    throw new Error(`ONNX metadata "${PREPROCESSOR_KEY}" lacks inputs, fitted, featureNames or task`);
  }
  const classes = parseMeta<string[]>(signature.metadata, CLASSES_KEY) ?? pre.classes;
  if (classes !== undefined && (!Array.isArray(classes) || !classes.every((c) => typeof c === 'string'))) {
    throw new Error(`ONNX metadata "${CLASSES_KEY}" must be a JSON array of strings`);
  }
  const [input, ...more] = signature.inputs;
  const width = pre.featureNames.length;
  if (
    !input ||
    more.length > 0 ||
    !isFloat(input) ||
    input.shape.length !== 2 ||
    ![-1, width].includes(input.shape[1]!)
  ) {
    throw new Error(
      `a Stratum model must take one FP32/FP64 input of shape [-1, ${width}]; this one takes ${signature.inputs.map((i) => `${i.name} ${i.datatype} [${i.shape.join(',')}]`).join(', ')}`,
    );
  }
  const labelOutput = pre.task === 'classification' ? signature.outputs.find(isLabel)?.name : undefined;
  const valueOutput = signature.outputs.find(isFloat)?.name;
  if (pre.task === 'regression' ? !valueOutput : !labelOutput && !valueOutput) {
    throw new Error(
      `the model has no output that holds ${pre.task === 'regression' ? 'FP32/FP64 values' : 'labels or probabilities'}`,
    );
  }
  return {
    preprocessor: pre,
    input,
    ...(classes ? { classes } : {}),
    ...(labelOutput ? { labelOutput } : {}),
    ...(valueOutput ? { valueOutput } : {}),
  };
}

/** `{"rows": [{...}, ...]}` → the feature tensor of the model's input. */
export function encodeRows(plan: PredictPlan, body: unknown): Tensor {
  const rows =
    typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as { rows?: unknown }).rows : undefined;
  if (!Array.isArray(rows) || rows.length === 0) {
    throw invalid('the request must be {"rows": [{...}, ...]} with at least one record');
  }
  let features: Float64Array[];
  try {
    features = preprocessRecords(plan.preprocessor, rows as Record<string, unknown>[]);
  } catch (e) {
    if (e instanceof DataError) throw invalid(e.message);
    throw e;
  }
  const width = plan.preprocessor.featureNames.length;
  const data =
    plan.input.datatype === 'FP32' ? new Float32Array(rows.length * width) : new Float64Array(rows.length * width);
  features.forEach((row, i) => data.set(row, i * width));
  return { name: plan.input.name, datatype: plan.input.datatype as 'FP32' | 'FP64', shape: [rows.length, width], data };
}

/** The outputs to ask the model for. */
export const predictOutputs = (plan: PredictPlan): string[] =>
  [plan.labelOutput, plan.valueOutput].filter((o): o is string => o !== undefined);

function rowsOf(t: Tensor, n: number): number[][] {
  const values = Array.from(t.data as Float32Array, Number);
  const width = values.length / n;
  return Array.from({ length: n }, (_, i) => values.slice(i * width, (i + 1) * width));
}

export function decodePredictions(
  plan: PredictPlan,
  outputs: readonly Tensor[],
  n: number,
): Pick<PredictResponse, 'predictions' | 'probabilities' | 'labels'> {
  const out = (name: string | undefined) => outputs.find((o) => o.name === name);
  const values = out(plan.valueOutput);
  if (plan.preprocessor.task === 'regression')
    return { predictions: values ? rowsOf(values, n).map((r) => r[0]!) : [] };
  const classes = plan.classes;
  const name = (k: number): string => {
    const c = classes?.[k];
    if (c === undefined)
      throw new ServingError(
        'internal',
        `the model predicted class index ${k}, but it has ${classes?.length ?? 0} class labels`,
      );
    return c;
  };
  const probabilities = values ? rowsOf(values, n) : undefined;
  const labels = out(plan.labelOutput);
  let predictions: string[];
  if (labels?.datatype === 'BYTES') predictions = [...(labels.data as string[])];
  else if (labels) predictions = Array.from(labels.data as Int32Array, (k) => name(Number(k)));
  else predictions = probabilities!.map((p) => name(p.indexOf(Math.max(...p))));
  return {
    predictions,
    ...(probabilities ? { probabilities } : {}),
    ...(classes && probabilities ? { labels: [...classes] } : {}),
  };
}
