/**
 * The kernel package's public interfaces. Wire types (Run, Trial, Model, GetClusterResponse)
 * come from @stratum/proto and are re-exported from the package index, never re-declared.
 */

/** Representations of one output by MIME type: `text/plain` always, richer ones beside it. */
export type MimeBundle = { readonly 'text/plain': string } & Readonly<Record<string, unknown>>;

/** Where a cell's output goes: the running cell of the kernel, or nowhere outside a kernel. */
export interface CellOutput {
  stream(name: 'stdout' | 'stderr', text: string): void;
  /** Shows a bundle; with the same `id` again and `update`, replaces what that id showed. */
  display(bundle: MimeBundle, opts?: { readonly id?: string; readonly update?: boolean }): void;
}

/** One record for a model's predict route: column name → value. */
export type Row = Readonly<Record<string, unknown>>;

/** The answer of a replica's raw-records route, `POST /v2/models/{model}/predict`. */
export interface PredictResponse {
  readonly model_name: string;
  readonly model_version?: string;
  readonly predictions: unknown[];
  readonly probabilities?: number[][];
  readonly labels?: string[];
}

export interface ProfileOptions {
  /** Tiers to profile on (default: every tier with workers). */
  readonly tiers?: readonly string[];
  /** The service level to check, e.g. "p95<50ms". */
  readonly qos?: string;
}

export interface DeployOptions {
  /** Tier to serve on (cloud, fog, edge, or one of yours). */
  readonly tier: string;
  /** Latency budgets, throughput, cost: "p99=20ms,rps=200,cost=0.5" (the CLI's --qos). */
  readonly qos?: string;
  /** Fewest replicas (0 scales to zero when idle; default 0). */
  readonly minReplicas?: number;
  /** Most replicas (default 4). */
  readonly maxReplicas?: number;
  /** Deployment name (default: the model name). */
  readonly name?: string;
  /** Tiers replicas may move to when the tier has no room. */
  readonly fallbackTiers?: readonly string[];
  /** How long `deploy` waits for the first replica (default 120 s). */
  readonly waitSeconds?: number;
  /** Inference needs an API key of the deployment; `deploy` shows the first one, once. */
  readonly requireKey?: boolean;
}
