/**
 * The operations of a replica, whatever the protocol: health, metadata, infer, predict. REST
 * and gRPC decode their wire form with the codec, call this, and encode the answer; both
 * share its batcher. The lifecycle (LOADING → READY → DRAINING, or UNAVAILABLE with a reason)
 * decides what it answers: metadata once loaded, inference only while READY.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import type { OnnxSignature } from '../onnx/signature';
import type { Batcher } from './batcher';
import { decodePredictions, encodeRows, predictOutputs, type PredictPlan } from './predict';
import {
  invalid,
  ServingError,
  type InferRequest,
  type InferResponse,
  type PredictResponse,
  type ReplicaState,
} from './types';

export const SERVER_NAME = 'stratum';
export const SERVER_VERSION: string = (() => {
  try {
    return (JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string })
      .version;
  } catch {
    return 'unknown';
  }
})();
/** The OIP extensions this server implements. */
export const EXTENSIONS = ['binary_tensor_data'];

export interface LoadedModel {
  readonly signature: OnnxSignature;
  readonly batcher: Batcher;
  /** Null: the model has no Stratum preprocessor, so only tensors can be sent. */
  readonly predict: PredictPlan | null;
}

export class ReplicaService {
  private loaded: LoadedModel | null = null;
  private current: { state: ReplicaState; reason: string } = { state: 'LOADING', reason: 'loading the model' };

  constructor(
    readonly name: string,
    readonly version: string,
  ) {}

  get state(): ReplicaState {
    return this.current.state;
  }

  get reason(): string {
    return this.current.reason;
  }

  setState(state: ReplicaState, reason: string): void {
    this.current = { state, reason };
  }

  attach(model: LoadedModel): void {
    this.loaded = model;
    this.setState('READY', 'model loaded');
  }

  ready(): boolean {
    return this.current.state === 'READY';
  }

  /** Is `name` (and `version`, when given) the model served here? */
  serves(name: string, version?: string): boolean {
    return name === this.name && (!version || version === this.version);
  }

  /** The loaded model, or not_found (another model) / unavailable (not loaded). */
  model(name: string, version?: string): LoadedModel {
    if (!this.serves(name, version)) {
      const what = version ? `model "${name}" version "${version}"` : `model "${name}"`;
      throw new ServingError(
        'not_found',
        `${what} is not served here; this replica serves "${this.name}" version "${this.version}"`,
      );
    }
    if (!this.loaded) throw this.unavailable();
    return this.loaded;
  }

  serverMetadata(): { name: string; version: string; extensions: string[] } {
    return { name: SERVER_NAME, version: SERVER_VERSION, extensions: [...EXTENSIONS] };
  }

  /** Runs a decoded request through the batcher. */
  async infer(model: LoadedModel, req: InferRequest): Promise<InferResponse> {
    if (!this.ready()) throw this.unavailable();
    const outputs = await model.batcher.enqueue({ inputs: req.inputs, outputs: req.outputs.map((o) => o.name) });
    return { modelName: this.name, modelVersion: this.version, id: req.id, outputs };
  }

  async predict(model: LoadedModel, body: unknown): Promise<PredictResponse> {
    const plan = model.predict;
    if (!plan) {
      throw invalid(
        `POST /v2/models/${this.name}/predict takes raw records only for a Stratum-trained model (ONNX metadata "stratum.preprocessor"), and this model has none; send tensors to POST /v2/models/${this.name}/infer`,
      );
    }
    if (!this.ready()) throw this.unavailable();
    const input = encodeRows(plan, body);
    const outputs = await model.batcher.enqueue({ inputs: [input], outputs: predictOutputs(plan) });
    return { model_name: this.name, model_version: this.version, ...decodePredictions(plan, outputs, input.shape[0]!) };
  }

  private unavailable(): ServingError {
    return new ServingError(
      'unavailable',
      `model "${this.name}" version "${this.version}" is ${this.current.state}: ${this.current.reason}`,
    );
  }
}
