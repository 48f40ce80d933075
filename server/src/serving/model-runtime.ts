/**
 * The one wrapper around onnxruntime's side effects: load a session from a file, say what it
 * takes and gives, run it, release it. Everything else in serving works on plain `Tensor`s.
 */
import { readFile } from 'node:fs/promises';
import { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-node';

import { readOnnxSignature, type OnnxSignature } from '../onnx/signature';
import { ServingError, type Datatype, type Tensor, type TensorData } from './types';

type OrtType = OrtTensor.Type;

const ORT_TYPE: Readonly<Record<Datatype, OrtType>> = {
  BOOL: 'bool',
  UINT8: 'uint8',
  UINT16: 'uint16',
  UINT32: 'uint32',
  UINT64: 'uint64',
  INT8: 'int8',
  INT16: 'int16',
  INT32: 'int32',
  INT64: 'int64',
  FP16: 'float16',
  FP32: 'float32',
  FP64: 'float64',
  BYTES: 'string',
};

const FROM_ORT = new Map(Object.entries(ORT_TYPE).map(([dt, ort]) => [ort, dt as Datatype]));

export interface RuntimeOptions {
  /** onnxruntime's intra-op threads; 0 or absent lets it choose. */
  readonly intraOpNumThreads?: number;
}

/** What the batcher and the replica need from a model; a fake implements it in tests. */
export interface ModelRunner {
  run(inputs: readonly Tensor[], outputs: readonly string[]): Promise<Tensor[]>;
}

export class ModelRuntime implements ModelRunner {
  private constructor(
    private readonly session: InferenceSession,
    readonly signature: OnnxSignature,
    readonly bytes: number,
  ) {}

  /** Reads the signature (throws OnnxFormatError on a bad file), then opens the session. */
  static async load(path: string, options: RuntimeOptions = {}): Promise<ModelRuntime> {
    const bytes = await readFile(path);
    const signature = readOnnxSignature(bytes);
    const session = await InferenceSession.create(bytes, {
      executionProviders: ['cpu'],
      graphOptimizationLevel: 'all',
      ...(options.intraOpNumThreads ? { intraOpNumThreads: options.intraOpNumThreads } : {}),
      // Idle intra-op threads would otherwise spin at every barrier: on a shared or rationed
      // CPU (a tier's quota, other replicas) the spinning takes the time the work needed.
      extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
    });
    const missing = signature.inputs.filter((i) => !session.inputNames.includes(i.name));
    if (missing.length > 0) {
      await session.release();
      throw new Error(
        `onnxruntime does not see inputs ${missing.map((i) => i.name).join(', ')} that the graph declares`,
      );
    }
    return new ModelRuntime(session, signature, bytes.length);
  }

  async run(inputs: readonly Tensor[], outputs: readonly string[]): Promise<Tensor[]> {
    const feeds: Record<string, OrtTensor> = {};
    for (const t of inputs) feeds[t.name] = new OrtTensor(ORT_TYPE[t.datatype], t.data as never, [...t.shape]);
    let results: InferenceSession.OnnxValueMapType;
    try {
      results = await this.session.run(feeds, [...outputs]);
    } catch (e) {
      // The codec checked names, types and shapes; what is left is the model's own failure
      // (e.g. a Reshape that this input size cannot satisfy).
      throw new ServingError(
        'internal',
        `onnxruntime failed to run the model: ${e instanceof Error ? e.message : String(e)}`,
      );
    }
    return outputs.map((name) => {
      const value = results[name] as OrtTensor;
      const datatype = FROM_ORT.get(value.type);
      if (!datatype)
        throw new ServingError('internal', `output "${name}" has type ${value.type}, which OIP cannot carry`);
      return { name, datatype, shape: value.dims.map(Number), data: value.data as TensorData };
    });
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}
