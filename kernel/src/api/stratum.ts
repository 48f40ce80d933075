/**
 * The notebook API, `import { stratum } from "@stratum/kernel"`, and the one implementation
 * behind the `%stratum` magics: pipelines of the session, training with a live view, runs,
 * models, the cluster, deployments and predictions. Results are the wire types of
 * @stratum/proto.
 */
import type { Deployment, DeploymentPlan, GetClusterResponse, Model, Run } from '@stratum/proto';
import { uploadData } from '@stratum/server/dist/cli/client-commands';

import { newKeyText } from '@stratum/server/dist/cli/keys-commands';

import { messageBundle } from '../render/bundles';
import { deploymentBundle } from '../render/deployments';
import { LiveDisplay, LiveRunView } from '../render/live';
import type { CellOutput, DeployOptions, PredictResponse, ProfileOptions, Row } from '../types';
import { cellOutput } from './cell';
import { CALL_TIMEOUT_MS, Connections, type ConnectOptions } from './connection';
import {
  deploy,
  deploymentUrl,
  getDeployment,
  listDeployments,
  planDeployment,
  undeploy,
  type WaitOptions,
} from './deployments';
import { PipelineStore, type Pipeline } from './pipelines';
import { predict, type PredictOptions } from './predict';
import { profileModel, type ProfileResult } from './profiles';
import type { ProfileEvent } from '@stratum/server/dist/profiler/types';
import { followRun } from './watch';

export interface WatchOptions extends ConnectOptions {
  /** Show live progress and the leaderboard in the running cell (default true; only in a kernel). */
  readonly watch?: boolean;
  /** Where the live view goes (default: the running cell). */
  readonly output?: CellOutput;
  /** Stops following (not the run) when aborted. */
  readonly signal?: AbortSignal;
  /** Called after every change of the run. */
  readonly onUpdate?: (run: Run) => void;
}

export interface TrainOptions extends WatchOptions {
  /** Submit and return the pending run without following it. */
  readonly detach?: boolean;
  /** Directory that relative spec paths and data sources resolve against (default: cwd). */
  readonly cwd?: string;
}

const unary = { timeoutMs: CALL_TIMEOUT_MS };

export class Stratum {
  /** Pipelines defined in this session, by name. */
  readonly pipelines = new PipelineStore();
  private readonly connections: Connections;
  private readonly watches = new Set<AbortController>();

  constructor(env: NodeJS.ProcessEnv = process.env) {
    this.connections = new Connections(env);
  }

  /** Defines a pipeline from YAML text, as `%%stratum pipeline NAME` does. */
  pipeline(name: string, yaml: string, cwd?: string): Pipeline {
    return this.pipelines.define(name, yaml, cwd);
  }

  /**
   * Trains a pipeline of this session (by name), a YAML file, or YAML text: uploads its data,
   * submits the run and, unless `detach`, follows it to its end and returns the final run.
   */
  async train(nameOrSpec: string, o: TrainOptions = {}): Promise<Run> {
    const p = this.pipelines.resolve(nameOrSpec, o.cwd);
    const conn = this.connections.resolve(o);
    const run = await conn.call(async (c) => {
      const data = await uploadData(c, p.specPath, p.text);
      const r = await c.runs.submitRun({ specYaml: p.text, specFile: p.origin.label, data }, unary);
      return r.run!;
    }, p.origin);
    return o.detach ? run : this.watch(run.id, o);
  }

  /** Follows a run to its end (live in the running cell unless `watch: false`). */
  async watch(runId: string, o: WatchOptions = {}): Promise<Run> {
    const conn = this.connections.resolve(o);
    const out = o.output ?? (o.watch === false ? undefined : cellOutput());
    const view = out ? new LiveRunView(out) : undefined;
    const stop = new AbortController();
    const onAbort = (): void => stop.abort();
    o.signal?.addEventListener('abort', onAbort, { once: true });
    this.watches.add(stop);
    try {
      const run = await followRun(conn, runId, {
        signal: stop.signal,
        onRun: (r) => {
          view?.update(r);
          o.onUpdate?.(r);
        },
      });
      view?.finish(run);
      return run;
    } finally {
      view?.stop();
      this.watches.delete(stop);
      o.signal?.removeEventListener('abort', onAbort);
    }
  }

  /** Stops every watch in progress (the kernel's interrupt); runs go on. */
  interrupt(): void {
    for (const w of this.watches) w.abort();
  }

  async run(runId: string, o: ConnectOptions = {}): Promise<Run> {
    const r = await this.connections.resolve(o).call((c) => c.runs.getRun({ runId }, unary));
    return r.run!;
  }

  async runs(o: ConnectOptions & { readonly limit?: number } = {}): Promise<Run[]> {
    const r = await this.connections.resolve(o).call((c) => c.runs.listRuns({ limit: o.limit ?? 20 }, unary));
    return r.runs;
  }

  /** Cancels a run and stops its trials on the workers. */
  async cancel(runId: string, o: ConnectOptions = {}): Promise<Run> {
    const r = await this.connections.resolve(o).call((c) => c.runs.cancelRun({ runId }, unary));
    return r.run!;
  }

  /** Registered models, or the versions of one. */
  async models(name = '', o: ConnectOptions = {}): Promise<Model[]> {
    const r = await this.connections.resolve(o).call((c) => c.models.listModels({ name }, unary));
    return r.models;
  }

  /** Tiers and workers with their resources. */
  cluster(o: ConnectOptions = {}): Promise<GetClusterResponse> {
    return this.connections.resolve(o).call((c) => c.cluster.getCluster({}, unary));
  }

  /**
   * Predictions for rows (`[{...}]` or `{rows: [...]}`) from a replica or gateway URL, or from
   * the endpoint of a deployment given by name.
   */
  async predict(
    target: string,
    rows: readonly Row[] | { readonly rows: readonly Row[] },
    o: PredictOptions & ConnectOptions = {},
  ): Promise<PredictResponse> {
    const url = /^https?:\/\//i.test(target)
      ? target
      : deploymentUrl(await getDeployment(this.connections.resolve(o), target));
    return predict(url, rows, o);
  }

  /**
   * Resource profile of a model on each tier (latency percentiles and throughput per batch size
   * and concurrency, load time, memory), with the capacity analysis for `qos` when given.
   */
  profile(
    model: string,
    o: ProfileOptions & ConnectOptions & { readonly onEvent?: (e: ProfileEvent) => void } = {},
  ): Promise<ProfileResult> {
    const stop = new AbortController();
    this.watches.add(stop);
    return profileModel(this.connections.resolve(o), model, { ...o, signal: stop.signal }).finally(() =>
      this.watches.delete(stop),
    );
  }

  /** Builds and checks a deployment plan and its infrastructure-as-code; starts nothing. */
  planDeployment(model: string, o: DeployOptions & ConnectOptions): Promise<DeploymentPlan> {
    return planDeployment(this.connections.resolve(o), model, o);
  }

  /**
   * Publishes a model ("name" or "name:version") as an endpoint on a tier once its plan passes
   * its checks, and waits for the first replica (`waitSeconds`); an interrupt stops the waiting.
   */
  async deploy(
    model: string,
    o: DeployOptions & ConnectOptions & Pick<WatchOptions, 'output'> & Pick<WaitOptions, 'onApiKey'>,
  ): Promise<Deployment> {
    const stop = new AbortController();
    this.watches.add(stop);
    const out = o.output ?? cellOutput();
    const view = out ? new LiveDisplay(out) : undefined;
    try {
      return await deploy(this.connections.resolve(o), model, o, {
        signal: stop.signal,
        onUpdate: (d) => view?.draw(deploymentBundle(d)),
        // Shown once in the cell; a caller without a cell gets it through onApiKey.
        onApiKey: (k) => (o.onApiKey ? o.onApiKey(k) : out?.display(messageBundle(newKeyText(k)))),
      });
    } finally {
      this.watches.delete(stop);
    }
  }

  deployments(o: ConnectOptions = {}): Promise<Deployment[]> {
    return listDeployments(this.connections.resolve(o));
  }

  /** Removes a deployment and stops its replicas. */
  undeploy(name: string, o: ConnectOptions = {}): Promise<Deployment> {
    return undeploy(this.connections.resolve(o), name);
  }
}

/** The session's instance: the magics and notebook code share it. */
export const stratum = new Stratum();
